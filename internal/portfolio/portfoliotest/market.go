// Package portfoliotest plays the worker for tests of the charts: accounts
// run commands through the trading rules at chosen times and prices, and the
// audit records come out as the worker stores them, ready to replay
// (Priced) or to write to a real audit store (Records).
package portfoliotest

import (
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/trading"
)

// FetchDelay is how long after its batch's time a fetched quote arrives.
const FetchDelay = 5 * time.Millisecond

// Market is the accounts and one quote cache shared by all of them, as in
// one worker: a quote stays valid for trading.QuoteValidity; a fetch is
// billed to (and audited by) the account whose command caused it; an
// account reuses its own valid quote before asking the cache.
type Market struct {
	prices   map[string]decimal.Decimal
	cache    map[string]trading.Quote
	accounts map[string]*trading.Account
	records  []trading.Event
	tx       int64  // the last transaction number Script used
	keys     string // prefix of the records' keys, unique to this market
}

// NewMarket is a market with no prices set.
func NewMarket() *Market {
	return &Market{prices: map[string]decimal.Decimal{}, cache: map[string]trading.Quote{},
		accounts: map[string]*trading.Account{}, keys: "portfoliotest-" + rand.Text()}
}

// SetPrice is what the quote server answers for sym from now on (a cached
// quote stays until it expires).
func (m *Market) SetPrice(sym, price string) { m.prices[sym] = decimal.RequireFromString(price) }

// Account is user's account as the rules keep it.
func (m *Market) Account(user string) *trading.Account {
	a := m.accounts[user]
	if a == nil {
		a = trading.NewAccount(user)
		m.accounts[user] = a
	}
	return a
}

// Run runs one command at time at, as a batch of its own, and returns its
// result. A legacy hit its command did not use is audited after it, as the
// worker does.
func (m *Market) Run(at time.Time, cmd trading.Command) trading.Result {
	a := m.Account(cmd.User)
	var fetched *trading.Quote
	quote := func(sym string) (trading.Quote, bool, error) {
		if q, ok := a.LastQuotes[sym]; ok && q.ValidAt(at) {
			return q, false, nil
		}
		q, hit := m.fetch(sym, cmd.User, at)
		if hit && fetched != nil {
			hit = false // the batch's one fetch is audited once
		}
		if hit {
			fetched = &q
		}
		return q, hit, nil
	}
	out := a.Execute(cmd, trading.Env{Now: at, Quote: quote})
	m.store(out.Events)
	return out.Result
}

// Hit plays a trigger watcher's report: the account checks its trigger on
// sym against the quote its batch fetches at time at.
func (m *Market) Hit(at time.Time, user, sym string) {
	a := m.Account(user)
	q, hit := m.fetch(sym, user, at)
	fired, _ := a.CheckTriggers(q, 0, at)
	if hit { // a batch of hits only audits its fetch under transaction 1
		fired = append(fired, trading.QuoteEvent(q, 1))
	}
	m.store(fired)
}

// fetch is the cache: its valid quote of sym, or a new one at the set price
// (hit: this caller is billed for it).
func (m *Market) fetch(sym, user string, at time.Time) (trading.Quote, bool) {
	if q, ok := m.cache[sym]; ok && q.ValidAt(at) {
		return q, false
	}
	price, ok := m.prices[sym]
	if !ok {
		panic(fmt.Sprintf("portfoliotest: no price set for %s", sym))
	}
	q := trading.Quote{Symbol: sym, User: user, Price: price, QuoteServerTime: at.UnixMilli(),
		Cryptokey: "test-key", FetchedAt: at.Add(FetchDelay)}
	m.cache[sym] = q
	return q, true
}

// store keys the events as the audit needs them (unique to the market, so
// markets writing to one database never collide) and keeps them in order.
func (m *Market) store(evs []trading.Event) {
	for _, ev := range evs {
		ev.Key = fmt.Sprintf("%s-%d", m.keys, len(m.records)+1)
		m.records = append(m.records, ev)
	}
}

// Records are every account's audit records in the order they were stored.
func (m *Market) Records() []trading.Event { return slices.Clone(m.records) }

// Priced is user's records as audit.Store.EachPricedEvent gives them: oldest
// first, a command or execution naming a symbol with the newest quote of it
// stored up to its time and the first one after.
func (m *Market) Priced(user string) []audit.PricedEvent {
	var out []audit.PricedEvent
	for i, ev := range m.records {
		if ev.User != user {
			continue
		}
		pe := audit.PricedEvent{StoredEvent: audit.StoredEvent{ID: int64(i + 1), Event: ev}}
		if ev.Symbol != "" && (ev.Type == trading.UserCommandEvent || ev.Type == trading.SystemEvent) {
			pe.Before, pe.After = m.around(ev.Symbol, ev.Time)
		}
		out = append(out, pe)
	}
	return out
}

func (m *Market) around(sym string, t time.Time) (before, after audit.MarketQuote) {
	for _, q := range m.records {
		if q.Type != trading.QuoteServerEvent || q.Symbol != sym {
			continue
		}
		mq := audit.MarketQuote{Price: q.Price.Decimal, At: q.Time}
		if !q.Time.After(t) && (!before.Valid() || q.Time.After(before.At)) {
			before = mq
		}
		if q.Time.After(t) && (!after.Valid() || q.Time.Before(after.At)) {
			after = mq
		}
	}
	return before, after
}

// Script runs commands, one a line: "offset user COMMAND [symbol] [amount
// or trigger price]", at start+offset (a Go duration), with transaction
// numbers counting on from the market's last; a line ending in "fails" must
// fail, every other line succeed.
func (m *Market) Script(start time.Time, lines ...string) error {
	for _, line := range lines {
		f := strings.Fields(line)
		if len(f) < 3 {
			return fmt.Errorf("portfoliotest: %q: want offset, user and command", line)
		}
		offset, err := time.ParseDuration(f[0])
		if err != nil {
			return fmt.Errorf("portfoliotest: %q: %w", line, err)
		}
		fails := f[len(f)-1] == "fails"
		if fails {
			f = f[:len(f)-1]
		}
		m.tx++
		cmd := trading.Command{TxNum: m.tx, User: f[1], Name: trading.CommandName(f[2])}
		args := f[3:]
		switch {
		case cmd.Name == trading.Add && len(args) == 1:
			cmd.Amount = args[0]
		case (cmd.Name == trading.SetBuyTrigger || cmd.Name == trading.SetSellTrigger) && len(args) == 2:
			cmd.Symbol, cmd.Price = args[0], args[1]
		case len(args) == 2:
			cmd.Symbol, cmd.Amount = args[0], args[1]
		case len(args) == 1:
			cmd.Symbol = args[0]
		}
		if res := m.Run(start.Add(offset), cmd); res.OK == fails {
			return fmt.Errorf("portfoliotest: %q: ok=%v: %s", line, res.OK, res.Message)
		}
	}
	return nil
}

// KnownSequence is trader's account through a sequence whose every value is
// known, starting at start: trades, a price fetched by another trader
// (other's quote serves trader's SELL), a trigger a watcher executes once
// the price falls, failed commands, and prices moving under the holdings.
//
//	offset     command                         portfolio value after
//	0s         ADD 1000                        1000.00
//	10s..30s   QUOTE ABC ($10), BUY 100, COMMIT_BUY: 10 ABC (a BUY of 5000 fails)
//	1m         ADD 0.01                        1000.01
//	2m         other: QUOTE ABC ($12, other's record)
//	2m30s      SELL ABC 48: other's $12, 4 shares  1020.01 (10 ABC at 12)
//	2m40s      COMMIT_SELL: cash 948.01, realized +8
//	3m..3m10s  SET_BUY_AMOUNT XYZ 100, SET_BUY_TRIGGER XYZ 15 ($20: waits)
//	5m         watcher: XYZ at $10 buys 10 XYZ for 100
//	6m         QUOTE ABC ($15)                 1038.01
//	7m         ADD 500                         1538.01
//	8m         SELL ABC 5 fails (fetched $16)  1544.01, at 8m0.005s
//
// ABC prices seen: 10, 12, 15, 16 (fetched FetchDelay after 10s, 2m, 6m,
// 8m); XYZ: 20, 10 (3m10s, 5m). Trades: buy 10 ABC at 10 (30s), sell 4 ABC
// at 12 (2m40s), automatic buy 10 XYZ at 10 (5m). Holdings at the end: 6
// ABC (average cost $10), 10 XYZ; cash $1,348.01.
func KnownSequence(start time.Time, trader, other string) (*Market, error) {
	m := NewMarket()
	m.SetPrice("ABC", "10.00")
	m.SetPrice("XYZ", "20.00")
	steps := []func() error{
		func() error {
			return m.Script(start, "0s "+trader+" ADD 1000", "10s "+trader+" QUOTE ABC", "20s "+trader+" BUY ABC 100",
				"25s "+trader+" BUY ABC 5000 fails", "30s "+trader+" COMMIT_BUY", "1m "+trader+" ADD 0.01", "1m1s "+other+" ADD 50")
		},
		func() error {
			m.SetPrice("ABC", "12.00")
			return m.Script(start, "2m "+other+" QUOTE ABC", "2m30s "+trader+" SELL ABC 48", "2m40s "+trader+" COMMIT_SELL",
				"3m "+trader+" SET_BUY_AMOUNT XYZ 100", "3m10s "+trader+" SET_BUY_TRIGGER XYZ 15")
		},
		func() error {
			m.SetPrice("XYZ", "10.00")
			m.Hit(start.Add(5*time.Minute), trader, "XYZ")
			m.SetPrice("ABC", "15.00")
			return m.Script(start, "6m "+trader+" QUOTE ABC", "7m "+trader+" ADD 500")
		},
		func() error {
			m.SetPrice("ABC", "16.00")
			return m.Script(start, "8m "+trader+" SELL ABC 5 fails")
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return m, nil
}
