package portfolio

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/trading"
)

// execute runs a command the audit says succeeded through the rules, as the
// account ran it, and notes the trades it made.
func (r *Replay) execute(u audit.PricedEvent) {
	cmd := trading.Command{TxNum: u.TxNum, Name: u.Command, User: r.acct.User, Symbol: u.Symbol}
	if u.Funds.Valid { // the command's amount, or a trigger's price
		if u.Command == trading.SetBuyTrigger || u.Command == trading.SetSellTrigger {
			cmd.Price = u.Funds.Decimal.StringFixed(2)
		} else {
			cmd.Amount = u.Funds.Decimal.StringFixed(2)
		}
	}
	buy, sell := top(r.acct.PendingBuys), top(r.acct.PendingSells)
	realized := r.acct.RealizedPL
	out := r.acct.Execute(cmd, trading.Env{Now: u.Time, Quote: r.quoter(u)})
	if !out.Result.OK {
		r.unmatched++ // audited as a success: the replay's state differs
		return
	}
	gain := r.acct.RealizedPL.Sub(realized)
	switch cmd.Name {
	case trading.CommitBuy:
		r.trade(buy.Symbol, Trade{At: u.Time, TxNum: u.TxNum, Side: trading.BuySide, Shares: buy.Shares,
			Price: buy.Price, Total: buy.Total()}, decimal.Zero)
	case trading.CommitSell:
		r.trade(sell.Symbol, Trade{At: u.Time, TxNum: u.TxNum, Side: trading.SellSide, Shares: sell.Shares,
			Price: sell.Price, Total: sell.Total()}, gain)
	default:
		if q := out.Result.Quote; q != nil {
			// A fresh quote may have executed the account's triggers.
			r.executions(out.Events, q.Price, gain)
		}
	}
}

// quoter prices u's command as the worker did: the account's own quote
// while valid, else the market's (see marketQuote).
func (r *Replay) quoter(u audit.PricedEvent) trading.Quoter {
	return func(sym string) (trading.Quote, bool, error) {
		if q, ok := r.acct.LastQuotes[sym]; ok && q.ValidAt(u.Time) {
			return q, false, nil
		}
		m, ok := marketQuote(u)
		if !ok || sym != u.Symbol {
			return trading.Quote{}, false, fmt.Errorf("no quote of %s recorded around %s", sym, u.Time.Format(time.RFC3339))
		}
		q := trading.Quote{Symbol: sym, User: r.acct.User, Price: m.Price, FetchedAt: m.At}
		r.seePrice(sym, q.Price, q.FetchedAt)
		return q, false, nil
	}
}

// marketQuote is the quote the account got for e's symbol at e's time: the
// newest stored one if it was still valid then (a cached quote), else the
// next one (fetched for e's batch, just after the batch's time).
func marketQuote(e audit.PricedEvent) (audit.MarketQuote, bool) {
	if e.Before.Valid() && !e.Time.After(e.Before.At.Add(trading.QuoteValidity)) {
		return e.Before, true
	}
	return e.After, e.After.Valid()
}

// watcherExecution replays a trigger execution that a trigger watcher
// reported (its systemEvent is not one of a replayed command's): the account
// checked its trigger against the quote its batch fetched.
func (r *Replay) watcherExecution(e audit.PricedEvent) {
	var side trading.Side
	switch e.Command {
	case trading.SetBuyTrigger:
		side = trading.BuySide
	case trading.SetSellTrigger:
		side = trading.SellSide
	default:
		return
	}
	if _, live := r.acct.TriggerPrice(trading.TriggerKey{Side: side, Symbol: e.Symbol}); !live {
		return // already executed by the command whose quote fired it
	}
	m, ok := marketQuote(e)
	if !ok {
		r.unmatched++
		return
	}
	r.seePrice(e.Symbol, m.Price, m.At)
	realized := r.acct.RealizedPL
	q := trading.Quote{Symbol: e.Symbol, User: r.acct.User, Price: m.Price, FetchedAt: m.At}
	evs, _ := r.acct.CheckTriggers(q, 0, e.Time)
	r.executions(evs, m.Price, r.acct.RealizedPL.Sub(realized))
	r.point(e.Time)
}

// executions notes the trades of trigger executions among evs, executed at
// price; gain is the P&L they realized (at most one sale a symbol).
func (r *Replay) executions(evs []trading.Event, price decimal.Decimal, gain decimal.Decimal) {
	for _, ev := range evs {
		if ev.Type != trading.SystemEvent || !ev.Funds.Valid || !price.IsPositive() {
			continue
		}
		t := Trade{At: ev.Time, TxNum: ev.TxNum, Auto: true, Price: price, Total: ev.Funds.Decimal,
			Shares: ev.Funds.Decimal.Div(price).IntPart()}
		realized := decimal.Zero
		switch ev.Command {
		case trading.SetBuyTrigger:
			t.Side = trading.BuySide
		case trading.SetSellTrigger:
			t.Side, realized = trading.SellSide, gain
		default:
			continue
		}
		if t.Shares > 0 {
			r.trade(ev.Symbol, t, realized)
		}
	}
}

func top(stack []trading.Pending) trading.Pending {
	if len(stack) == 0 {
		return trading.Pending{}
	}
	return stack[len(stack)-1]
}
