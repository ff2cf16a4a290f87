// Package portfoliotest plays the worker for tests of the charts: accounts
// run commands through the trading rules at chosen times and prices, and the
// audit records come out as the worker stores them, ready to replay
// (Priced) or to write to a real audit store (Records).
package portfoliotest

import (
	"fmt"
	"slices"
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
}

// NewMarket is a market with no prices set.
func NewMarket() *Market {
	return &Market{prices: map[string]decimal.Decimal{}, cache: map[string]trading.Quote{},
		accounts: map[string]*trading.Account{}}
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

// store keys the events as the audit needs them and keeps them in order.
func (m *Market) store(evs []trading.Event) {
	for _, ev := range evs {
		ev.Key = fmt.Sprintf("portfoliotest-%d", len(m.records)+1)
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
