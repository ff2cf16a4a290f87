package trading

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// The books of one step (a command, a watcher's trigger check, or the expiry
// timer) are checked from the account before it (B), after it (A), and the
// step's audit events E. p[s] is the price the quote server gave for symbol
// s during the step (prices do not move within a step). The identities, read
// off the spec ("money is conserved: cash + reserved cash only changes by ADD
// and by trades at a quoted price") and off account.go, are:
//
//  (1) A.Cash − B.Cash = Σ funds(accountTransaction add ∈ E) − Σ funds(accountTransaction remove ∈ E).
//      Every move of free cash is audited, including moves between cash and
//      a buy order's reserve (SET_BUY_AMOUNT, CANCEL_SET_BUY, the refund of an
//      executed buy order). That is why (1) is about free cash only: the
//      audit events alone do not add up to the change of cash + reserved cash.
//  (2) (A.Cash + A.ReservedCash) − (B.Cash + B.ReservedCash) =
//        + the amount of a successful ADD
//        + shares·price of the pending sell a successful COMMIT_SELL popped
//        − shares·price of the pending buy a successful COMMIT_BUY popped
//        + Σ funds(systemEvent SET_SELL_TRIGGER ∈ E)   (a sell order executed at p)
//        − Σ funds(systemEvent SET_BUY_TRIGGER ∈ E)    (a buy order executed at p)
//      and each COMMIT's accountTransaction carries exactly that shares·price.
//  (3) for every symbol s, the change of (free shares + shares reserved by the
//      sell order of s) =
//        + shares of the popped pending buy (COMMIT_BUY), − of the popped pending sell (COMMIT_SELL)
//        + funds/p[s] of systemEvent SET_BUY_TRIGGER on s − funds/p[s] of systemEvent SET_SELL_TRIGGER on s
//      where every funds/p[s] is a whole number of shares; a watcher's
//      execution buys exactly floor(reserve/p) (capped so the account owns at
//      most MaxShares) and sells exactly the reserved shares of the order as
//      it was before the step.
//  (4) (Σ A.CostBasis − Σ B.CostBasis) − (A.RealizedPL − B.RealizedPL) =
//        cost of the shares bought − proceeds of the shares sold
//      (the trades of (2) without ADD, with the sign turned): a buy adds its
//      cost to the basis, a sale moves the sold shares' average cost out of
//      the basis and books proceeds − that cost as realized.
//
// On top of these: CheckInvariants holds after every step; a failed command
// changes nothing but the expiry of pending trades; a successful command
// leaves no live trigger whose condition its fresh quote meets; every legacy
// hit is audited once.

// propertySymbols are the symbols of a sequence; "abc" and "ABCD" are malformed.
var propertySymbols = []string{"ABC", "XY", "Q"}

func TestRandomCommandSequencesKeepTheBooks(t *testing.T) {
	rng := rand.New(rand.NewPCG(20260302, 1))
	sequences, length := 2000, 200
	if testing.Short() {
		sequences = 300
	}
	stats := map[string]int{}
	for seq := range sequences {
		s := newSequence(t, rng, seq)
		for range length {
			if !s.step(stats) {
				t.FailNow()
			}
		}
	}
	t.Logf("steps: %v", stats)
	// The sequences must reach the interesting states, or the properties
	// above hold vacuously.
	for _, what := range []string{"ok COMMIT_BUY", "ok COMMIT_SELL", "fired buy", "fired sell", "ok SET_SELL_TRIGGER",
		"failed COMMIT_BUY", "failed SET_SELL_TRIGGER", "expired", "fired at command", "failed malformed"} {
		if stats[what] < 50 {
			t.Errorf("only %d steps %q: the generator misses a part of the rules", stats[what], what)
		}
	}
}

// sequence is one random run against one account.
type sequence struct {
	t    *testing.T
	rng  *rand.Rand
	d    *desk
	syms []string
	seq  int
	log  []string // the steps so far, shown when a property breaks
}

func newSequence(t *testing.T, rng *rand.Rand, seq int) *sequence {
	s := &sequence{t: t, rng: rng, d: newDesk(t), syms: propertySymbols[:2+rng.IntN(2)], seq: seq}
	for _, sym := range s.syms {
		s.d.quotes.set(sym, cents(50+rng.Int64N(5000)))
	}
	return s
}

// cents formats a number of cents as an amount, in any of the accepted
// spellings: 12, 12.5, 12.50.
func cents(c int64) string {
	switch {
	case c%100 == 0:
		return fmt.Sprintf("%d", c/100)
	case c%10 == 0:
		return fmt.Sprintf("%d.%d", c/100, c%100/10)
	}
	return fmt.Sprintf("%d.%02d", c/100, c%100)
}

func (s *sequence) pick(options ...string) string { return options[s.rng.IntN(len(options))] }

// amount is mostly a valid amount in a range that makes trades of a few
// shares likely, sometimes a malformed one, rarely a huge one (more shares
// than an int64 counts).
func (s *sequence) amount() string {
	switch r := s.rng.IntN(100); {
	case r < 4:
		return s.pick("0", "0.00", "1.234", "-5", "+5", "", "abc", "1e3", ".5", "5.")
	case r < 7:
		return s.pick("99999999999999999999", "99999999999999999999", "18446744073709551621", "9999999999999.99")
	case r < 10:
		return cents(1 + s.rng.Int64N(100)) // a few cents: often less than a share
	case r < 15:
		return cents(100 * (1 + s.rng.Int64N(2000)))
	}
	return cents(1 + s.rng.Int64N(30000))
}

func (s *sequence) symbol() string {
	if s.rng.IntN(100) < 3 {
		return s.pick("abc", "ABCD", "", "A1")
	}
	return s.pick(s.syms...)
}

func (s *sequence) user() string {
	if s.rng.IntN(100) < 3 {
		return s.pick("bob", "Alice", "", "al ice")
	}
	return alice
}

var allCommands = []CommandName{Add, QuoteCmd, Buy, CommitBuy, CancelBuy, Sell, CommitSell, CancelSell, SetBuyAmount,
	SetBuyTrigger, CancelSetBuy, SetSellAmount, SetSellTrigger, CancelSetSell, DisplaySummary, DumpLog}

func (s *sequence) command() Command {
	s.d.tx++
	c := Command{TxNum: s.d.tx, User: s.user()}
	switch r := s.rng.IntN(100); {
	case r < 2:
		c.Name = CommandName(s.pick("FOO", "buy", ""))
		return c
	case r < 12 || len(s.log) == 0 && r < 80:
		c.Name = Add
	case r < 22:
		c.Name = s.pick2(Buy, Sell)
	case r < 32:
		c.Name = s.pick2(CommitBuy, CommitSell)
	case r < 44:
		c.Name = s.pick2(SetBuyTrigger, SetSellTrigger)
	default:
		c.Name = allCommands[s.rng.IntN(len(allCommands))]
	}
	for _, k := range commandArgs[c.Name][1:] {
		switch k {
		case argSymbol:
			c.Symbol = s.symbol()
		case argAmount:
			c.Amount = s.amount()
		case argPrice:
			// Trigger prices near the current price, so that orders both
			// fire at once and wait to be fired later.
			if sym := c.Symbol; s.d.quotes.prices[sym].IsPositive() && s.rng.IntN(100) < 90 {
				p := s.d.quotes.prices[sym].Mul(decimal.NewFromFloat(0.8 + 0.4*s.rng.Float64())).Round(2)
				c.Price = p.StringFixed(2)
				if !p.IsPositive() {
					c.Price = "0.01"
				}
			} else {
				c.Price = s.amount()
			}
		case argFilename:
			c.Filename = s.pick("./testLOG", "dump.xml", "../x", ".hidden")
		}
	}
	return c
}

func (s *sequence) pick2(a, b CommandName) CommandName {
	if s.rng.IntN(2) == 0 {
		return a
	}
	return b
}

// moveWorld advances the clock by 0 to 90 s (often a few seconds, sometimes
// exactly 60 s: the edge of a pending trade's window), moves prices and makes
// quotes fail at times.
func (s *sequence) moveWorld() {
	switch r := s.rng.IntN(100); {
	case r < 10:
	case r < 15:
		s.d.advance(PendingValidity)
	case r < 55: // a trader confirming a trade
		s.d.advance(time.Duration(s.rng.Int64N(5_001)) * time.Millisecond)
	default:
		s.d.advance(time.Duration(s.rng.Int64N(90_001)) * time.Millisecond)
	}
	for _, sym := range s.syms {
		if s.rng.IntN(100) < 30 {
			p := s.d.quotes.prices[sym].Mul(decimal.NewFromFloat(0.9 + 0.2*s.rng.Float64())).Round(2)
			if p.LessThan(dec("0.01")) {
				p = dec("0.01")
			}
			s.d.quotes.set(sym, p.String())
		}
		delete(s.d.quotes.fail, sym)
		if s.rng.IntN(100) < 3 {
			s.d.quotes.fail[sym] = fmt.Errorf("quote server unreachable for %s", sym)
		}
	}
}

// books is what the identities compare: cash + reserved cash and shares.
type books struct {
	cash, total decimal.Decimal
	shares      map[string]int64 // free + reserved
}

func booksOf(a *Account) books {
	b := books{cash: a.Cash, total: a.Cash.Add(a.ReservedCash()), shares: map[string]int64{}}
	for sym, n := range a.Holdings {
		b.shares[sym] += n
	}
	for sym, o := range a.SellOrders {
		b.shares[sym] += o.ReservedShares
	}
	return b
}

// snapshot copies the account's books deeply enough to compare later (the
// rules replace decimals and structs, they never mutate them in place). The
// activity log and the price cache are left out: sameBooks ignores them.
func snapshot(a *Account) *Account {
	c := *a
	c.Holdings = maps.Clone(a.Holdings)
	c.BuyOrders = maps.Clone(a.BuyOrders)
	c.SellOrders = maps.Clone(a.SellOrders)
	c.CostBasis = maps.Clone(a.CostBasis)
	c.PendingBuys = slices.Clone(a.PendingBuys)
	c.PendingSells = slices.Clone(a.PendingSells)
	c.LastQuotes, c.Recent = nil, nil
	return &c
}

// step runs one random step and checks every property; false means one broke.
func (s *sequence) step(stats map[string]int) bool {
	s.moveWorld()
	a, now := s.d.acct, s.d.now
	before := snapshot(a)
	hits := s.d.quotes.hits
	expiring := 0
	for _, p := range slices.Concat(a.PendingBuys, a.PendingSells) {
		if now.After(p.ExpiresAt()) {
			expiring++
		}
	}

	var evs []Event
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	var ok bool
	var cmd Command
	switch r := s.rng.IntN(100); {
	case r < 8: // a trigger watcher checks a fresh quote
		sym := s.pick(s.syms...)
		q := Quote{Symbol: sym, User: alice, Price: s.d.quotes.prices[sym], FetchedAt: now}
		s.log = append(s.log, fmt.Sprintf("%s watcher %s at %s", now.Sub(t0), sym, q.Price))
		var fired []TriggerKey
		evs, fired = a.CheckTriggers(q, 0, now)
		s.checkWatcher(before, q, fired, evs, fail)
		ok = true
		expiring = 0 // a watcher leaves pending trades to the timer
	case r < 11: // the expiry timer
		s.log = append(s.log, fmt.Sprintf("%s timer", now.Sub(t0)))
		evs = a.ExpirePending(now)
		ok = true
	default:
		cmd = s.command()
		s.log = append(s.log, fmt.Sprintf("%s %s", now.Sub(t0), cmd))
		out := a.Execute(cmd, s.d.env())
		evs, ok = out.Events, out.Result.OK
		s.log[len(s.log)-1] += fmt.Sprintf(" -> ok=%v %s", ok, out.Result.Message)
		s.checkCommand(before, cmd, out, expiring, fail)
		switch {
		case ok:
			stats["ok "+string(cmd.Name)]++
			if len(cmd.Amount) >= 19 {
				stats["ok huge"]++
			}
		case cmd.Validate() != nil:
			stats["failed malformed"]++
		default:
			stats["failed "+string(cmd.Name)]++
		}
	}
	if got := s.d.quotes.hits - hits; count(evs, QuoteServerEvent) != got {
		fail("%d legacy hits, %d quoteServer events", got, count(evs, QuoteServerEvent))
	}
	if n := count(evs, DebugEvent); n != expiring {
		fail("%d pending trades expired, %d debugEvents", expiring, n)
	}
	stats["expired"] += expiring
	if err := a.CheckInvariants(); err != nil {
		fail("invariant: %v", err)
	}
	s.checkShapes(fail)
	s.checkBooks(before, cmd, ok, evs, fail)
	for _, ev := range evs {
		if ev.Type == SystemEvent {
			stats["fired "+map[CommandName]string{SetBuyTrigger: "buy", SetSellTrigger: "sell"}[ev.Command]]++
			if cmd.Name != "" {
				stats["fired at command"]++
			}
		}
	}
	if len(errs) > 0 {
		tail := s.log[max(0, len(s.log)-12):]
		s.t.Errorf("sequence %d, step %d:\n\t%s\nlast steps:\n\t%s\nevents: %q",
			s.seq, len(s.log), strings.Join(errs, "\n\t"), strings.Join(tail, "\n\t"), describeAll(evs))
		return false
	}
	return true
}

func count(evs []Event, t EventType) int {
	n := 0
	for _, ev := range evs {
		if ev.Type == t {
			n++
		}
	}
	return n
}

// checkCommand checks the audit shape of a command, that a failed one
// changed nothing but expiry, and that a successful one left no trigger its
// own fresh quotes meet.
func (s *sequence) checkCommand(before *Account, cmd Command, out Outcome, expiring int, fail func(string, ...any)) {
	a := s.d.acct
	evs := out.Events
	if len(evs) == 0 || evs[0].Type != UserCommandEvent || evs[0].TxNum != cmd.TxNum || evs[0].Command != cmd.Name {
		fail("the first event is not the command's userCommand")
	}
	if n := count(evs, ErrorEvent); out.Result.OK && n != 0 || !out.Result.OK && (n != 1 || evs[len(evs)-1].Type != ErrorEvent) {
		fail("ok=%v with %d errorEvents", out.Result.OK, n)
	}
	if !out.Result.OK {
		if out.Result.Message == "" || out.Result.Message != evs[len(evs)-1].Message {
			fail("the failure message %q is not the errorEvent's %q", out.Result.Message, evs[len(evs)-1].Message)
		}
		expected := snapshot(before)
		expected.ExpirePending(s.d.now)
		if diff := sameBooks(expected, a); diff != "" {
			fail("the failed command changed the account: %s", diff)
		}
		return
	}
	if !cmd.Name.NeedsQuote() {
		return
	}
	sym := cmd.Symbol
	if s.d.quotes.fail[sym] != nil {
		return
	}
	p := s.d.quotes.prices[sym]
	if cmd.Name == Buy || cmd.Name == Sell {
		stack := map[CommandName][]Pending{Buy: a.PendingBuys, Sell: a.PendingSells}[cmd.Name]
		pending := stack[len(stack)-1]
		if want := dec(cmd.Amount).Div(p).Floor(); !decimal.NewFromInt(pending.Shares).Equal(want) ||
			!pending.Price.Equal(p) || !pending.CreatedAt.Equal(s.d.now) || pending.TxNum != cmd.TxNum {
			fail("%s pushed %+v, want floor(%s / %s) = %s shares at %s", cmd.Name, pending, cmd.Amount, p, want, p)
		}
	}
	if o, ok := a.BuyOrders[sym]; ok && o.Trigger.Valid && p.LessThanOrEqual(o.Trigger.Decimal) {
		fail("buy order on %s with trigger %s is still live at the fresh price %s", sym, o.Trigger.Decimal, p)
	}
	if o, ok := a.SellOrders[sym]; ok && o.Trigger.Valid && p.GreaterThanOrEqual(o.Trigger.Decimal) {
		fail("sell order on %s with trigger %s is still live at the fresh price %s", sym, o.Trigger.Decimal, p)
	}
}

// checkWatcher checks that a watcher's quote fired exactly the orders whose
// condition it met, each exactly as the spec computes it.
func (s *sequence) checkWatcher(before *Account, q Quote, fired []TriggerKey, evs []Event, fail func(string, ...any)) {
	var want []TriggerKey
	var wantEvents []string
	if o, ok := before.BuyOrders[q.Symbol]; ok && o.Trigger.Valid && q.Price.LessThanOrEqual(o.Trigger.Decimal) {
		want = append(want, TriggerKey{BuySide, q.Symbol})
		shares := decimal.Min(o.Reserve.Div(q.Price).Floor(), decimal.NewFromInt(before.room(q.Symbol)))
		cost := shares.Mul(q.Price)
		wantEvents = append(wantEvents, fmt.Sprintf("systemEvent SET_BUY_TRIGGER %s %s", q.Symbol, cost.StringFixed(2)))
		if refund := o.Reserve.Sub(cost); refund.IsPositive() {
			wantEvents = append(wantEvents, "accountTransaction add "+refund.StringFixed(2))
		}
	}
	if o, ok := before.SellOrders[q.Symbol]; ok && o.Trigger.Valid && q.Price.GreaterThanOrEqual(o.Trigger.Decimal) {
		want = append(want, TriggerKey{SellSide, q.Symbol})
		proceeds := q.Price.Mul(decimal.NewFromInt(o.ReservedShares))
		wantEvents = append(wantEvents, fmt.Sprintf("systemEvent SET_SELL_TRIGGER %s %s", q.Symbol, proceeds.StringFixed(2)))
		if proceeds.IsPositive() {
			wantEvents = append(wantEvents, "accountTransaction add "+proceeds.StringFixed(2))
		}
	}
	if !slices.Equal(fired, want) {
		fail("the watcher fired %v, want %v", fired, want)
	}
	if got := describeAll(evs); !slices.Equal(got, wantEvents) {
		fail("the watcher audited %q, want %q", got, wantEvents)
	}
	for _, k := range fired {
		if _, live := s.d.acct.TriggerPrice(k); live {
			fail("%v fired but is still live", k)
		}
	}
	if again, _ := s.d.acct.CheckTriggers(q, 0, s.d.now); len(again) != 0 {
		fail("a second check of the same quote fired again: %q", describeAll(again))
	}
}

// checkBooks checks identities (1), (2) and (3) above.
func (s *sequence) checkBooks(before *Account, cmd Command, ok bool, evs []Event, fail func(string, ...any)) {
	a := s.d.acct
	b, after := booksOf(before), booksOf(a)

	audited := decimal.Zero // (1)
	trades := decimal.Zero  // (2)
	added := decimal.Zero   // (4): trades without ADD
	moved := map[string]int64{}
	for _, ev := range evs {
		switch ev.Type {
		case AccountTransactionEvent:
			switch ev.Action {
			case "add":
				audited = audited.Add(ev.Funds.Decimal)
			case "remove":
				audited = audited.Sub(ev.Funds.Decimal)
			default:
				fail("accountTransaction action %q", ev.Action)
			}
			if !ev.Funds.Valid || !ev.Funds.Decimal.IsPositive() {
				fail("accountTransaction of %v", ev.Funds)
			}
		case SystemEvent:
			p := s.d.quotes.prices[ev.Symbol]
			shares, rest := ev.Funds.Decimal.QuoRem(p, 0)
			if !rest.IsZero() || shares.IsNegative() {
				fail("%s executed for $%s: not a whole number of shares at %s", ev.Command, ev.Funds.Decimal, p)
			}
			switch ev.Command {
			case SetBuyTrigger:
				trades = trades.Sub(ev.Funds.Decimal)
				moved[ev.Symbol] += shares.IntPart()
			case SetSellTrigger:
				trades = trades.Add(ev.Funds.Decimal)
				moved[ev.Symbol] -= shares.IntPart()
			default:
				fail("systemEvent for %s", ev.Command)
			}
		}
	}
	if ok && cmd.Name != "" {
		// commit books the trade of the pending trade the command popped:
		// cash flows by sign·shares·price, shares by −sign·shares.
		commit := func(stack []Pending, sign int64) {
			p := stack[len(stack)-1]
			total := p.Price.Mul(decimal.NewFromInt(p.Shares))
			trades = trades.Add(total.Mul(decimal.NewFromInt(sign)))
			moved[p.Symbol] -= sign * p.Shares
			if ev := evs[len(evs)-1]; ev.Type != AccountTransactionEvent || !ev.Funds.Decimal.Equal(total) {
				fail("%s audited %q, want an accountTransaction of %d·%s", cmd.Name, describe(ev), p.Shares, p.Price)
			}
		}
		switch cmd.Name {
		case Add:
			added = dec(cmd.Amount)
			trades = trades.Add(added)
		case CommitBuy:
			commit(before.PendingBuys, -1)
		case CommitSell:
			commit(before.PendingSells, +1)
		}
	}
	if got := after.cash.Sub(b.cash); !got.Equal(audited) {
		fail("(1) cash changed by %s, the accountTransactions say %s", got, audited)
	}
	if got := after.total.Sub(b.total); !got.Equal(trades) {
		fail("(2) cash + reserved cash changed by %s, ADD and trades at quoted prices say %s", got, trades)
	}
	for _, sym := range sortedKeys(mergeKeys(b.shares, after.shares, moved)) {
		if got := after.shares[sym] - b.shares[sym]; got != moved[sym] {
			fail("(3) shares of %s changed by %d, trades say %d", sym, got, moved[sym])
		}
	}
	basis := sumOf(a.CostBasis).Sub(sumOf(before.CostBasis))
	realized := a.RealizedPL.Sub(before.RealizedPL)
	if got, want := basis.Sub(realized), trades.Sub(added).Neg(); !got.Equal(want) {
		fail("(4) cost basis changed by %s and realized P&L by %s, the trades say bought − sold = %s", basis, realized, want)
	}
}

func sumOf(m map[string]decimal.Decimal) decimal.Decimal {
	total := decimal.Zero
	for _, d := range m {
		total = total.Add(d)
	}
	return total
}

// checkShapes checks what CheckInvariants does not: every pending trade and
// order is one a command could have made.
func (s *sequence) checkShapes(fail func(string, ...any)) {
	a := s.d.acct
	for _, p := range slices.Concat(a.PendingBuys, a.PendingSells) {
		if p.Shares < 1 || !p.Price.IsPositive() {
			fail("pending trade %+v", p)
		}
	}
	for sym, o := range a.BuyOrders {
		if !o.Reserve.IsPositive() || o.Trigger.Valid && !o.Trigger.Decimal.IsPositive() {
			fail("buy order on %s: %+v", sym, o)
		}
	}
	for sym, o := range a.SellOrders {
		if !o.Amount.IsPositive() || o.Trigger.Valid != (o.ReservedShares > 0) {
			fail("sell order on %s: %+v (reserved shares without trigger or the reverse)", sym, o)
		}
	}
	if !a.Opened && (!a.Cash.IsZero() || len(a.BuyOrders)+len(a.SellOrders)+len(a.PendingBuys)+len(a.PendingSells) != 0) {
		fail("an account never opened holds something")
	}
}

func mergeKeys(ms ...map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for _, m := range ms {
		for k := range m {
			out[k] = 0
		}
	}
	return out
}

// sameBooks describes how two accounts differ in cash, holdings, pending
// trades and orders ("" when they do not).
func sameBooks(want, got *Account) string {
	var diffs []string
	if !want.Cash.Equal(got.Cash) {
		diffs = append(diffs, fmt.Sprintf("cash %s -> %s", want.Cash, got.Cash))
	}
	if want.Opened != got.Opened {
		diffs = append(diffs, "opened")
	}
	for _, sym := range sortedKeys(mergeKeys(want.Holdings, got.Holdings)) {
		if want.Holdings[sym] != got.Holdings[sym] {
			diffs = append(diffs, fmt.Sprintf("holding of %s %d -> %d", sym, want.Holdings[sym], got.Holdings[sym]))
		}
	}
	if !pendingEqual(want.PendingBuys, got.PendingBuys) || !pendingEqual(want.PendingSells, got.PendingSells) {
		diffs = append(diffs, "pending trades")
	}
	if !maps.EqualFunc(want.BuyOrders, got.BuyOrders, func(x, y BuyOrder) bool {
		return x.Reserve.Equal(y.Reserve) && nullEqual(x.Trigger, y.Trigger) && x.TriggerTxNum == y.TriggerTxNum
	}) {
		diffs = append(diffs, fmt.Sprintf("buy orders %v -> %v", want.BuyOrders, got.BuyOrders))
	}
	if !maps.EqualFunc(want.SellOrders, got.SellOrders, func(x, y SellOrder) bool {
		return x.Amount.Equal(y.Amount) && nullEqual(x.Trigger, y.Trigger) && x.ReservedShares == y.ReservedShares && x.TriggerTxNum == y.TriggerTxNum
	}) {
		diffs = append(diffs, fmt.Sprintf("sell orders %v -> %v", want.SellOrders, got.SellOrders))
	}
	return strings.Join(diffs, "; ")
}

func nullEqual(x, y decimal.NullDecimal) bool {
	return x.Valid == y.Valid && (!x.Valid || x.Decimal.Equal(y.Decimal))
}

// BenchmarkExecute measures the pure rules: commands per second of a mix of
// every kind of command on one account, with quotes served from a cache.
func BenchmarkExecute(b *testing.B) {
	mix := []Command{
		{Name: Add, User: alice, Amount: "1000.00"},
		{Name: QuoteCmd, User: alice, Symbol: "ABC"},
		{Name: Buy, User: alice, Symbol: "ABC", Amount: "100.00"},
		{Name: CommitBuy, User: alice},
		{Name: Sell, User: alice, Symbol: "ABC", Amount: "50.00"},
		{Name: CommitSell, User: alice},
		{Name: Buy, User: alice, Symbol: "DEF", Amount: "75.50"},
		{Name: CancelBuy, User: alice},
		{Name: SetBuyAmount, User: alice, Symbol: "DEF", Amount: "200.00"},
		{Name: SetBuyTrigger, User: alice, Symbol: "DEF", Price: "1.00"},
		{Name: CancelSetBuy, User: alice, Symbol: "DEF"},
		{Name: SetSellAmount, User: alice, Symbol: "ABC", Amount: "40.00"},
		{Name: SetSellTrigger, User: alice, Symbol: "ABC", Price: "99.00"},
		{Name: CancelSetSell, User: alice, Symbol: "ABC"},
		{Name: CommitBuy, User: alice}, // fails: nothing pending
		{Name: DisplaySummary, User: alice},
	}
	now := t0
	price := map[string]decimal.Decimal{"ABC": dec("12.34"), "DEF": dec("3.21")}
	quoter := func(sym string) (Quote, bool, error) {
		return Quote{Symbol: sym, User: alice, Price: price[sym], FetchedAt: now}, false, nil
	}
	a := NewAccount(alice)
	var tx int64
	b.ReportAllocs()
	for b.Loop() {
		tx++
		cmd := mix[int(tx-1)%len(mix)]
		cmd.TxNum = tx
		now = now.Add(time.Millisecond)
		a.Execute(cmd, Env{Now: now, Quote: quoter})
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commands/s")
	if err := a.CheckInvariants(); err != nil {
		b.Fatal(err)
	}
}
