// Package portfolio rebuilds a trader's account through time from its audit
// history, for the charts: the portfolio's value after each change (cash,
// cash reserved for buy orders, and every share owned at the last price the
// account saw), the prices the account saw of each symbol, and its trades
// with their realized profit or loss per symbol.
//
// The audit records money but not share counts (a COMMIT_BUY is audited as
// the cash it took), so the history is replayed through the trading rules
// themselves, each command at the time its record says it ran. The price a
// command used comes with its record (audit.PricedEvent): the account's own
// quote while still valid, as the worker does, else the market's quote of the
// symbol then. The replay's cash is checked against the audited cash flows at
// every command; a difference (a price the market records cannot explain,
// say with several workers' caches) is counted in History.Unmatched and the
// replay takes the audited cash, so the chart stays close to the truth and
// says when it is approximate.
//
// Replay is pure (no I/O) and bounded: however long the history, it keeps
// at most Options.MaxPoints points per series and Options.MaxTrades trades
// per symbol.
package portfolio

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/internal/svgchart"
	"github.com/daytradinginc/daytrader/trading"
)

// Trade is one executed buy or sell.
type Trade struct {
	At     time.Time
	TxNum  int64
	Side   trading.Side
	Auto   bool // executed by a trigger (automatic order), not a COMMIT
	Shares int64
	Price  decimal.Decimal
	Total  decimal.Decimal
}

// Symbol is what the history says about one symbol.
type Symbol struct {
	Prices   []svgchart.Point // the quotes the account saw, oldest first
	Trades   []Trade          // the last Options.MaxTrades trades, oldest first
	Traded   int              // trades in all
	Realized decimal.Decimal  // realized P&L of its sales
}

// History is the replayed account.
type History struct {
	Value     []svgchart.Point // portfolio value after each change, oldest first
	Symbols   map[string]Symbol
	Records   int // audit records read
	Unmatched int // commands whose cash the replay could not reproduce
}

// Options bound the history kept; zero fields take the defaults.
type Options struct {
	MaxPoints int // per series; default 300
	MaxTrades int // per symbol; default 100
}

// Replay rebuilds one account. Add its records oldest first, then read
// History.
type Replay struct {
	opts    Options
	acct    *trading.Account
	symbols map[string]*symbolState
	value   *svgchart.Bounded
	last    svgchart.Point // the last value point
	valued  bool

	// held is a userCommand whose fate is not known yet: its errorEvent, if
	// it failed, follows its quote records (heldRest).
	held     *audit.PricedEvent
	heldRest []audit.PricedEvent

	storedCash decimal.Decimal // the cash the audited transactions add up to
	records    int
	unmatched  int
}

type symbolState struct {
	prices   *svgchart.Bounded
	lastAt   time.Time
	price    decimal.Decimal // the last price seen
	trades   []Trade
	traded   int
	realized decimal.Decimal
}

// New starts the replay of user's account.
func New(user string, opts Options) *Replay {
	if opts.MaxPoints <= 0 {
		opts.MaxPoints = 300
	}
	if opts.MaxTrades <= 0 {
		opts.MaxTrades = 100
	}
	return &Replay{opts: opts, acct: trading.NewAccount(user), symbols: map[string]*symbolState{},
		value: svgchart.NewBounded(opts.MaxPoints)}
}

// Add takes the account's next record.
func (r *Replay) Add(e audit.PricedEvent) {
	r.records++
	if e.Type == trading.DebugEvent {
		// An expired pending trade: the rules expire it themselves (the
		// record carries the trade's transaction, and may come between a
		// command's record and its errorEvent).
		return
	}
	if r.held != nil {
		if e.TxNum == r.held.TxNum && e.Type == trading.QuoteServerEvent {
			r.heldRest = append(r.heldRest, e)
			return
		}
		failed := e.Type == trading.ErrorEvent && e.TxNum == r.held.TxNum && e.Command == r.held.Command
		r.release(!failed)
		if failed {
			return
		}
	}
	r.apply(e)
}

// History is the account as replayed so far.
func (r *Replay) History() History {
	if r.held != nil {
		r.release(true) // its records are all in: nothing says it failed
	}
	r.checkCash()
	h := History{Value: r.value.Points(), Symbols: map[string]Symbol{}, Records: r.records, Unmatched: r.unmatched}
	for sym, s := range r.symbols {
		h.Symbols[sym] = Symbol{Prices: s.prices.Points(), Trades: append([]Trade(nil), s.trades...),
			Traded: s.traded, Realized: s.realized}
	}
	return h
}

// apply takes a record that is not part of a held command.
func (r *Replay) apply(e audit.PricedEvent) {
	switch e.Type {
	case trading.UserCommandEvent:
		r.checkCash()
		r.held, r.heldRest = &e, r.heldRest[:0]
	case trading.QuoteServerEvent:
		if e.Price.Valid {
			r.seePrice(e.Symbol, e.Price.Decimal, e.Time)
			r.point(e.Time)
		}
	case trading.AccountTransactionEvent:
		switch e.Action {
		case "add":
			r.storedCash = r.storedCash.Add(e.Funds.Decimal)
		case "remove":
			r.storedCash = r.storedCash.Sub(e.Funds.Decimal)
		}
	case trading.SystemEvent:
		r.watcherExecution(e)
	}
}

// release runs the held command (when it succeeded), then its other
// records, and notes the value after it.
func (r *Replay) release(succeeded bool) {
	u := *r.held
	r.held = nil
	if succeeded {
		r.execute(u)
	}
	r.point(u.Time)
	for _, e := range r.heldRest {
		r.apply(e)
	}
	r.heldRest = r.heldRest[:0]
}

// checkCash compares the replay's cash with the audited cash flows between
// commands, when both have seen the same commands, and takes the audited
// one when they differ.
func (r *Replay) checkCash() {
	if !r.acct.Cash.Equal(r.storedCash) {
		r.unmatched++
		r.acct.Cash = r.storedCash
	}
}

// seePrice notes a price the account saw.
func (r *Replay) seePrice(sym string, price decimal.Decimal, at time.Time) {
	s := r.symbol(sym)
	s.price = price
	if at.After(s.lastAt) { // the same quote seen twice is one point
		s.lastAt = at
		s.prices.Add(svgchart.Point{T: at, V: price})
	}
}

func (r *Replay) symbol(sym string) *symbolState {
	s := r.symbols[sym]
	if s == nil {
		s = &symbolState{prices: svgchart.NewBounded(r.opts.MaxPoints)}
		r.symbols[sym] = s
	}
	return s
}

// point notes the portfolio's value at t when it changed.
func (r *Replay) point(t time.Time) {
	if !r.acct.Opened {
		return
	}
	v := r.acct.Cash.Add(r.acct.ReservedCash())
	for sym, s := range r.symbols {
		if n := r.acct.Holdings[sym] + r.acct.SellOrders[sym].ReservedShares; n != 0 {
			v = v.Add(s.price.Mul(decimal.NewFromInt(n)))
		}
	}
	if r.valued && v.Equal(r.last.V) {
		return
	}
	if r.valued && t.Before(r.last.T) { // a quote stamped before the batch that used it
		t = r.last.T
	}
	r.last, r.valued = svgchart.Point{T: t, V: v}, true
	r.value.Add(r.last)
}

// trade notes an executed trade and the P&L it realized.
func (r *Replay) trade(sym string, t Trade, realized decimal.Decimal) {
	s := r.symbol(sym)
	s.traded++
	s.realized = s.realized.Add(realized)
	s.trades = append(s.trades, t)
	if len(s.trades) > r.opts.MaxTrades {
		s.trades = append(s.trades[:0], s.trades[1:]...)
	}
}

// Account is the account as replayed so far (History first, so a held
// command is applied).
func (r *Replay) Account() *trading.Account { return r.acct }
