package trading

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/shopspring/decimal"
)

// Account is one trader's whole state. The account workflow holds exactly one
// and carries it across continue-as-new, so every field is exported and JSON
// serializable. Maps are only ever iterated in sorted key order (see
// sortedKeys) because the workflow must be deterministic.
type Account struct {
	User   string `json:"user"`
	Opened bool   `json:"opened"` // set by the first successful ADD
	// Cash is free cash. Cash reserved by buy orders lives in BuyOrders.
	Cash decimal.Decimal `json:"cash"`
	// Holdings are free shares per symbol. Shares reserved by sell orders
	// live in SellOrders and are not "held" in the spec's sense.
	Holdings map[string]int64 `json:"holdings"`
	// PendingBuys and PendingSells are stacks: the last element is the most
	// recent, the one COMMIT_* and CANCEL_* pop.
	PendingBuys  []Pending            `json:"pendingBuys"`
	PendingSells []Pending            `json:"pendingSells"`
	BuyOrders    map[string]BuyOrder  `json:"buyOrders"`
	SellOrders   map[string]SellOrder `json:"sellOrders"`
	// LastQuotes is the last quote this account saw per symbol: reused while
	// valid (hits are billed) and shown as "last price" in the summary.
	LastQuotes map[string]Quote `json:"lastQuotes"`
	Recent     []RecentCommand  `json:"recent"`
	// CostBasis is what the shares of each symbol the account owns (free
	// plus reserved by its sell order) cost: a buy adds its cost, a sell
	// removes the sold shares' share of it at average cost. RealizedPL is the
	// sum over every sale of proceeds minus that average cost. State carried
	// from before these fields existed has none: its older shares count at
	// cost zero (see costOf).
	CostBasis  map[string]decimal.Decimal `json:"costBasis,omitempty"`
	RealizedPL decimal.Decimal            `json:"realizedPL"`
}

// Pending is a BUY or SELL waiting for its COMMIT or CANCEL.
type Pending struct {
	TxNum     int64           `json:"txNum"`
	Symbol    string          `json:"symbol"`
	Shares    int64           `json:"shares"`
	Price     decimal.Decimal `json:"price"`
	CreatedAt time.Time       `json:"createdAt"`
}

// ExpiresAt is the last instant the pending trade can be committed or cancelled.
func (p Pending) ExpiresAt() time.Time { return p.CreatedAt.Add(PendingValidity) }

// Total is what the pending trade costs or yields at its quoted price.
func (p Pending) Total() decimal.Decimal { return p.Price.Mul(decimal.NewFromInt(p.Shares)) }

// BuyOrder is cash reserved to buy a symbol automatically when its price
// falls to the trigger.
type BuyOrder struct {
	Reserve decimal.Decimal     `json:"reserve"`
	Trigger decimal.NullDecimal `json:"trigger"`
	// TriggerTxNum is the transaction that set the trigger; the execution's
	// audit events carry it when a watcher, not a command, fires the order.
	TriggerTxNum int64 `json:"triggerTxNum,omitempty"`
}

// SellOrder is a dollar amount of a symbol to sell automatically when its
// price rises to the trigger. Shares are reserved only once the trigger is set.
type SellOrder struct {
	Amount         decimal.Decimal     `json:"amount"`
	Trigger        decimal.NullDecimal `json:"trigger"`
	ReservedShares int64               `json:"reservedShares"`
	TriggerTxNum   int64               `json:"triggerTxNum,omitempty"`
}

// Side says which kind of order a trigger belongs to.
type Side string

const (
	BuySide  Side = "buy"
	SellSide Side = "sell"
)

// Fires is the trigger condition, the one place it is written: a buy
// trigger fires when the price falls to the trigger price or below, a sell
// trigger when it rises to it or above. An unknown side never fires.
func (s Side) Fires(price, trigger decimal.Decimal) bool {
	switch s {
	case BuySide:
		return price.LessThanOrEqual(trigger)
	case SellSide:
		return price.GreaterThanOrEqual(trigger)
	}
	return false
}

// TriggerKey names one live trigger: at most one buy and one sell order
// exist per symbol, so side and symbol identify it.
type TriggerKey struct {
	Side   Side   `json:"side"`
	Symbol string `json:"symbol"`
}

// MaxShares is the most shares of one symbol an account can own (free plus
// reserved by its sell order). It is far above any real company's share count
// and far below where an int64 count overflows, so no holding can wrap around
// to a negative number however large the amounts are.
const MaxShares int64 = 10_000_000_000_000_000

// recentLimit is how many commands the summary's recent activity shows.
const recentLimit = 20

// NewAccount returns the state of a user who has never issued an ADD.
func NewAccount(user string) *Account {
	return &Account{
		User:       user,
		Cash:       decimal.Zero,
		Holdings:   map[string]int64{},
		BuyOrders:  map[string]BuyOrder{},
		SellOrders: map[string]SellOrder{},
		LastQuotes: map[string]Quote{},
		CostBasis:  map[string]decimal.Decimal{},
	}
}

// Quoter gives the rules the current price of a symbol. legacyHit says the
// quote server was asked for it on this account's behalf (a billed hit the
// rules must audit); a quote served from a cache has legacyHit false.
type Quoter func(symbol string) (q Quote, legacyHit bool, err error)

// Env is what a command needs from the world: the time and quotes.
type Env struct {
	Now   time.Time
	Quote Quoter
	// ResultUnread says the caller drops the Result (a command that came
	// as a signal, with nobody waiting): DISPLAY_SUMMARY then builds no
	// summary, the one piece of work the rules do for the result alone
	// (tens of microseconds on a big account: a division per holding). The
	// events and the account are the same either way.
	ResultUnread bool
}

// Outcome is what one command did: the trader's result and the audit events,
// in order, the first always the command's userCommand event. Event keys are
// left empty: the caller numbers events.
type Outcome struct {
	Result Result
	Events []Event
}

// failure is a failed precondition: the command changes nothing and is
// audited as an errorEvent carrying this message.
type failure struct{ msg string }

func (f failure) Error() string { return f.msg }

func failf(format string, args ...any) error { return failure{fmt.Sprintf(format, args...)} }

// run collects the audit events of one command while it executes.
type run struct {
	a   *Account
	cmd Command
	env Env
	evs []Event
	res Result
	// quoted are the fresh quotes the command obtained; once it succeeded,
	// the account's triggers on those symbols are checked against them.
	quoted []Quote
}

// Execute applies one command at env.Now and returns what happened. A command
// whose preconditions fail leaves the account exactly as it was. Execute
// never panics on bad input: Validate runs first.
func (a *Account) Execute(cmd Command, env Env) Outcome {
	r := &run{a: a, cmd: cmd, env: env}
	r.evs = append(r.evs, r.commandEvent(UserCommandEvent))
	r.res = Result{TxNum: cmd.TxNum, Command: cmd.Name}
	// Expired pending trades are dropped before anything else looks at them,
	// so an expired trade can never be committed, even if its timer is late.
	r.evs = append(r.evs, a.ExpirePending(env.Now)...)
	err := r.execute()
	if err == nil {
		for _, q := range r.quoted {
			if fired := r.checkTriggers(q); len(fired) > 0 && (cmd.Name == SetBuyTrigger || cmd.Name == SetSellTrigger) {
				r.res.Message += "; the price is already there: executed at $" + q.Price.StringFixed(2)
			}
		}
	}
	if err != nil {
		r.res.OK = false
		r.res.Message = err.Error()
		ev := r.commandEvent(ErrorEvent)
		ev.Message = err.Error()
		r.evs = append(r.evs, ev)
	} else {
		r.res.OK = true
	}
	a.remember(RecentCommand{TxNum: cmd.TxNum, Command: cmd.Name, OK: r.res.OK, Message: r.res.Message, At: env.Now})
	return Outcome{Result: r.res, Events: r.evs}
}

func (r *run) execute() error {
	if err := r.cmd.ValidFor(r.a.User); err != nil {
		return err
	}
	if r.cmd.Name == Add {
		return r.add()
	}
	if !r.a.Opened {
		return failf("account %s does not exist yet: ADD money to open it", r.a.User)
	}
	switch r.cmd.Name {
	case QuoteCmd:
		return r.quote()
	case Buy:
		return r.buy()
	case CommitBuy:
		return r.commitBuy()
	case CancelBuy:
		return r.cancelPending(&r.a.PendingBuys, "buy")
	case Sell:
		return r.sell()
	case CommitSell:
		return r.commitSell()
	case CancelSell:
		return r.cancelPending(&r.a.PendingSells, "sell")
	case SetBuyAmount:
		return r.setBuyAmount()
	case SetBuyTrigger:
		return r.setBuyTrigger()
	case CancelSetBuy:
		return r.cancelSetBuy()
	case SetSellAmount:
		return r.setSellAmount()
	case SetSellTrigger:
		return r.setSellTrigger()
	case CancelSetSell:
		return r.cancelSetSell()
	case DisplaySummary:
		if r.env.ResultUnread {
			r.res.Message = "summary not built: nobody reads this result"
			return nil
		}
		s := r.a.Summary(r.env.Now)
		r.res.Summary = &s
		r.res.Message = fmt.Sprintf("cash $%s, %d holdings, %d pending buys, %d pending sells",
			r.a.Cash.StringFixed(2), len(s.Holdings), len(s.PendingBuys), len(s.PendingSells))
		return nil
	case DumpLog:
		// Writing the file is the caller's job (it needs the audit store);
		// the rules only check that the account exists and the name is safe.
		r.res.Message = fmt.Sprintf("dump of %s's history requested as %s", r.a.User, CleanFilename(r.cmd.Filename))
		return nil
	}
	return failf("unknown command %q", r.cmd.Name)
}

func (r *run) add() error {
	amount := mustMoney(r.cmd.Amount)
	r.a.Opened = true
	r.a.Cash = r.a.Cash.Add(amount)
	r.transaction("add", amount)
	r.res.Funds = decimal.NewNullDecimal(amount)
	r.res.Message = fmt.Sprintf("added $%s; cash is $%s", amount.StringFixed(2), r.a.Cash.StringFixed(2))
	return nil
}

// price returns the current quote for sym, auditing a legacy hit, and
// remembers it so later commands (and the summary) can reuse it.
func (r *run) price(sym string) (Quote, error) {
	if r.env.Quote == nil {
		return Quote{}, failf("no quote available for %s", sym)
	}
	q, hit, err := r.env.Quote(sym)
	if err != nil {
		return Quote{}, failf("could not get a quote for %s: %v", sym, err)
	}
	if hit {
		r.evs = append(r.evs, QuoteEvent(q, r.cmd.TxNum))
	}
	r.a.LastQuotes[sym] = q
	r.res.Quote = &q
	r.quoted = append(r.quoted, q)
	return q, nil
}

// QuoteEvent is the quoteServer audit record of a legacy hit, exactly as the
// quote server answered.
func QuoteEvent(q Quote, txNum int64) Event {
	return Event{
		Type: QuoteServerEvent, Time: q.FetchedAt, TxNum: txNum,
		User: q.User, Symbol: q.Symbol, Price: decimal.NewNullDecimal(q.Price),
		QuoteServerTime: q.QuoteServerTime, Cryptokey: q.Cryptokey,
	}
}

func (r *run) quote() error {
	q, err := r.price(r.cmd.Symbol)
	if err != nil {
		return err
	}
	r.res.Message = fmt.Sprintf("%s is $%s", q.Symbol, q.Price.StringFixed(2))
	return nil
}

func (r *run) buy() error {
	amount := mustMoney(r.cmd.Amount)
	if r.a.Cash.LessThan(amount) {
		return failf("not enough cash to buy $%s of %s: you have $%s", amount.StringFixed(2), r.cmd.Symbol, r.a.Cash.StringFixed(2))
	}
	q, err := r.price(r.cmd.Symbol)
	if err != nil {
		return err
	}
	shares := sharesFor(amount, q.Price)
	if shares < 1 {
		return failf("$%s buys no share of %s at $%s", amount.StringFixed(2), q.Symbol, q.Price.StringFixed(2))
	}
	if shares > r.a.room(q.Symbol) {
		return failf("$%s of %s at $%s would make you own more than %d shares of it", amount.StringFixed(2), q.Symbol, q.Price.StringFixed(2), MaxShares)
	}
	p := Pending{TxNum: r.cmd.TxNum, Symbol: q.Symbol, Shares: shares, Price: q.Price, CreatedAt: r.env.Now}
	r.a.PendingBuys = append(r.a.PendingBuys, p)
	r.res.Message = fmt.Sprintf("buy %d %s at $%s for $%s pending: COMMIT_BUY within 60 s",
		shares, q.Symbol, q.Price.StringFixed(2), p.Total().StringFixed(2))
	return nil
}

func (r *run) commitBuy() error {
	p, ok := top(r.a.PendingBuys)
	if !ok {
		return failf("no pending buy to commit (a BUY is valid for 60 s)")
	}
	cost := p.Total()
	if p.Shares > r.a.room(p.Symbol) {
		return failf("committing the buy of %d %s would make you own more than %d shares of it", p.Shares, p.Symbol, MaxShares)
	}
	if r.a.Cash.LessThan(cost) {
		return failf("not enough cash to commit the buy of %d %s for $%s: you have $%s", p.Shares, p.Symbol, cost.StringFixed(2), r.a.Cash.StringFixed(2))
	}
	r.a.PendingBuys = r.a.PendingBuys[:len(r.a.PendingBuys)-1]
	r.a.Cash = r.a.Cash.Sub(cost)
	r.a.addCost(p.Symbol, cost)
	r.a.Holdings[p.Symbol] += p.Shares
	r.transaction("remove", cost)
	r.res.Funds = decimal.NewNullDecimal(cost)
	r.res.Message = fmt.Sprintf("bought %d %s at $%s for $%s", p.Shares, p.Symbol, p.Price.StringFixed(2), cost.StringFixed(2))
	return nil
}

func (r *run) cancelPending(stack *[]Pending, kind string) error {
	p, ok := top(*stack)
	if !ok {
		return failf("no pending %s to cancel (a %s is valid for 60 s)", kind, map[string]string{"buy": "BUY", "sell": "SELL"}[kind])
	}
	*stack = (*stack)[:len(*stack)-1]
	r.res.Message = fmt.Sprintf("cancelled the pending %s of %d %s at $%s", kind, p.Shares, p.Symbol, p.Price.StringFixed(2))
	return nil
}

func (r *run) sell() error {
	amount := mustMoney(r.cmd.Amount)
	held := r.a.Holdings[r.cmd.Symbol]
	if held < 1 {
		// Checked before quoting: a quote nobody can use is still billed.
		return failf("you hold no free shares of %s to sell", r.cmd.Symbol)
	}
	q, err := r.price(r.cmd.Symbol)
	if err != nil {
		return err
	}
	shares := sharesFor(amount, q.Price)
	if shares < 1 {
		return failf("$%s is less than one share of %s at $%s", amount.StringFixed(2), q.Symbol, q.Price.StringFixed(2))
	}
	if shares > held {
		return failf("selling $%s of %s at $%s needs %d shares: you hold %d", amount.StringFixed(2), q.Symbol, q.Price.StringFixed(2), shares, held)
	}
	p := Pending{TxNum: r.cmd.TxNum, Symbol: q.Symbol, Shares: shares, Price: q.Price, CreatedAt: r.env.Now}
	r.a.PendingSells = append(r.a.PendingSells, p)
	r.res.Message = fmt.Sprintf("sell %d %s at $%s for $%s pending: COMMIT_SELL within 60 s",
		shares, q.Symbol, q.Price.StringFixed(2), p.Total().StringFixed(2))
	return nil
}

func (r *run) commitSell() error {
	p, ok := top(r.a.PendingSells)
	if !ok {
		return failf("no pending sell to commit (a SELL is valid for 60 s)")
	}
	if held := r.a.Holdings[p.Symbol]; held < p.Shares {
		return failf("the sell of %d %s needs shares you no longer hold: you hold %d", p.Shares, p.Symbol, held)
	}
	r.a.PendingSells = r.a.PendingSells[:len(r.a.PendingSells)-1]
	proceeds := p.Total()
	r.a.realize(p.Symbol, p.Shares, proceeds)
	r.a.takeShares(p.Symbol, p.Shares)
	r.a.Cash = r.a.Cash.Add(proceeds)
	r.transaction("add", proceeds)
	r.res.Funds = decimal.NewNullDecimal(proceeds)
	r.res.Message = fmt.Sprintf("sold %d %s at $%s for $%s", p.Shares, p.Symbol, p.Price.StringFixed(2), proceeds.StringFixed(2))
	return nil
}

func (r *run) setBuyAmount() error {
	amount := mustMoney(r.cmd.Amount)
	sym := r.cmd.Symbol
	order, exists := r.a.BuyOrders[sym]
	if !exists {
		order = BuyOrder{Reserve: decimal.Zero}
	}
	// Only the difference to the existing reserve moves.
	delta := amount.Sub(order.Reserve)
	if r.a.Cash.LessThan(delta) {
		return failf("not enough cash to reserve $%s for %s: that needs $%s more and you have $%s",
			amount.StringFixed(2), sym, delta.StringFixed(2), r.a.Cash.StringFixed(2))
	}
	r.a.Cash = r.a.Cash.Sub(delta)
	order.Reserve = amount
	r.a.BuyOrders[sym] = order
	switch delta.Sign() {
	case 1:
		r.transaction("remove", delta)
	case -1:
		r.transaction("add", delta.Neg())
	}
	r.res.Funds = decimal.NewNullDecimal(amount)
	r.res.Message = fmt.Sprintf("$%s reserved to buy %s", amount.StringFixed(2), sym)
	if order.Trigger.Valid {
		r.res.Message += fmt.Sprintf(" when it is at or below $%s", order.Trigger.Decimal.StringFixed(2))
	} else {
		r.res.Message += ": set a trigger price with SET_BUY_TRIGGER"
	}
	return nil
}

func (r *run) setBuyTrigger() error {
	trigger := mustMoney(r.cmd.Price)
	sym := r.cmd.Symbol
	order, ok := r.a.BuyOrders[sym]
	if !ok {
		return failf("no buy order for %s: SET_BUY_AMOUNT first", sym)
	}
	order.Trigger = decimal.NewNullDecimal(trigger)
	order.TriggerTxNum = r.cmd.TxNum
	r.a.BuyOrders[sym] = order
	r.res.Message = fmt.Sprintf("will buy %s with $%s when it is at or below $%s", sym, order.Reserve.StringFixed(2), trigger.StringFixed(2))
	r.checkNow(sym)
	return nil
}

func (r *run) cancelSetBuy() error {
	sym := r.cmd.Symbol
	order, ok := r.a.BuyOrders[sym]
	if !ok {
		return failf("no buy order for %s to cancel", sym)
	}
	delete(r.a.BuyOrders, sym)
	r.a.Cash = r.a.Cash.Add(order.Reserve)
	r.transaction("add", order.Reserve)
	r.res.Funds = decimal.NewNullDecimal(order.Reserve)
	r.res.Message = fmt.Sprintf("buy order for %s cancelled; $%s back in cash", sym, order.Reserve.StringFixed(2))
	return nil
}

func (r *run) setSellAmount() error {
	amount := mustMoney(r.cmd.Amount)
	sym := r.cmd.Symbol
	if r.a.Holdings[sym] < 1 {
		return failf("you hold no free shares of %s to sell", sym)
	}
	order := r.a.SellOrders[sym] // an existing order keeps its trigger and reserved shares
	order.Amount = amount
	r.a.SellOrders[sym] = order
	r.res.Funds = decimal.NewNullDecimal(amount)
	r.res.Message = fmt.Sprintf("will sell $%s of %s", amount.StringFixed(2), sym)
	if !order.Trigger.Valid {
		r.res.Message += ": set a trigger price with SET_SELL_TRIGGER"
	}
	return nil
}

func (r *run) setSellTrigger() error {
	trigger := mustMoney(r.cmd.Price)
	sym := r.cmd.Symbol
	order, ok := r.a.SellOrders[sym]
	if !ok {
		return failf("no sell order for %s: SET_SELL_AMOUNT first", sym)
	}
	shares := sharesFor(order.Amount, trigger)
	available := r.a.Holdings[sym] + order.ReservedShares
	if shares < 1 {
		return failf("$%s is less than one share of %s at $%s", order.Amount.StringFixed(2), sym, trigger.StringFixed(2))
	}
	if shares > available {
		return failf("selling $%s of %s at $%s needs %d shares: you hold %d", order.Amount.StringFixed(2), sym, trigger.StringFixed(2), shares, available)
	}
	// The previous reservation goes back first, then the new one is taken.
	r.a.Holdings[sym] += order.ReservedShares
	r.a.takeShares(sym, shares)
	order.ReservedShares = shares
	order.Trigger = decimal.NewNullDecimal(trigger)
	order.TriggerTxNum = r.cmd.TxNum
	r.a.SellOrders[sym] = order
	r.res.Message = fmt.Sprintf("will sell %d %s when it is at or above $%s", shares, sym, trigger.StringFixed(2))
	r.checkNow(sym)
	return nil
}

func (r *run) cancelSetSell() error {
	sym := r.cmd.Symbol
	order, ok := r.a.SellOrders[sym]
	if !ok {
		return failf("no sell order for %s to cancel", sym)
	}
	delete(r.a.SellOrders, sym)
	r.a.Holdings[sym] += order.ReservedShares
	r.res.Message = fmt.Sprintf("sell order for %s cancelled; %d shares back in your holdings", sym, order.ReservedShares)
	return nil
}

// checkNow fetches the current price for a freshly set trigger, which Execute
// checks at once. When no quote can be had the trigger stays set and its
// watcher checks later: the command itself succeeded.
func (r *run) checkNow(sym string) {
	if _, err := r.price(sym); err != nil {
		r.res.Message += fmt.Sprintf(" (price check deferred: %v)", err)
	}
}

// checkTriggers runs the account's triggers on sym against a fresh quote and
// appends the executions' events to the command's.
func (r *run) checkTriggers(q Quote) []TriggerKey {
	evs, fired := r.a.CheckTriggers(q, r.cmd.TxNum, r.env.Now)
	r.evs = append(r.evs, evs...)
	return fired
}

// CheckTriggers executes the buy and sell orders on q.Symbol whose trigger
// condition holds at q.Price: buy when price <= trigger, sell when price >=
// trigger. txNum is the transaction the execution is audited under (0 means
// the transaction that set the trigger). It returns the audit events and which
// triggers fired. An order that fires is removed, so it can never fire twice.
func (a *Account) CheckTriggers(q Quote, txNum int64, now time.Time) ([]Event, []TriggerKey) {
	var evs []Event
	var fired []TriggerKey
	sym := q.Symbol
	if o, ok := a.BuyOrders[sym]; ok && o.Trigger.Valid && BuySide.Fires(q.Price, o.Trigger.Decimal) {
		tx := pick(txNum, o.TriggerTxNum)
		shares := min(sharesFor(o.Reserve, q.Price), a.room(sym))
		cost := q.Price.Mul(decimal.NewFromInt(shares))
		refund := o.Reserve.Sub(cost)
		delete(a.BuyOrders, sym)
		if shares > 0 {
			a.addCost(sym, cost)
		}
		a.Holdings[sym] += shares
		a.Cash = a.Cash.Add(refund)
		evs = append(evs, a.systemEvent(SetBuyTrigger, sym, tx, now, cost))
		if refund.IsPositive() {
			evs = append(evs, a.transactionEvent("add", refund, tx, now))
		}
		fired = append(fired, TriggerKey{BuySide, sym})
	}
	if o, ok := a.SellOrders[sym]; ok && o.Trigger.Valid && SellSide.Fires(q.Price, o.Trigger.Decimal) {
		tx := pick(txNum, o.TriggerTxNum)
		proceeds := q.Price.Mul(decimal.NewFromInt(o.ReservedShares))
		a.realize(sym, o.ReservedShares, proceeds)
		delete(a.SellOrders, sym)
		a.Cash = a.Cash.Add(proceeds)
		evs = append(evs, a.systemEvent(SetSellTrigger, sym, tx, now, proceeds))
		if proceeds.IsPositive() {
			evs = append(evs, a.transactionEvent("add", proceeds, tx, now))
		}
		fired = append(fired, TriggerKey{SellSide, sym})
	}
	if len(fired) > 0 {
		a.LastQuotes[sym] = q
	}
	return evs, fired
}

// Triggers lists the account's live triggers in a stable order: each one is
// watched by a trigger workflow.
func (a *Account) Triggers() []TriggerKey {
	var keys []TriggerKey
	for _, sym := range sortedKeys(a.BuyOrders) {
		if a.BuyOrders[sym].Trigger.Valid {
			keys = append(keys, TriggerKey{BuySide, sym})
		}
	}
	for _, sym := range sortedKeys(a.SellOrders) {
		if a.SellOrders[sym].Trigger.Valid {
			keys = append(keys, TriggerKey{SellSide, sym})
		}
	}
	return keys
}

// TriggerPrice returns the live trigger price of an order, if any.
func (a *Account) TriggerPrice(k TriggerKey) (decimal.Decimal, bool) {
	switch k.Side {
	case BuySide:
		o, ok := a.BuyOrders[k.Symbol]
		return o.Trigger.Decimal, ok && o.Trigger.Valid
	case SellSide:
		o, ok := a.SellOrders[k.Symbol]
		return o.Trigger.Decimal, ok && o.Trigger.Valid
	}
	return decimal.Decimal{}, false
}

// ExpirePending drops every pending buy and sell whose 60 s window ended
// before now and returns one debugEvent per dropped trade. A trade made at c
// can still be committed at c + 60 s exactly.
func (a *Account) ExpirePending(now time.Time) []Event {
	var evs []Event
	drop := func(stack []Pending, cmd CommandName) []Pending {
		kept := stack[:0]
		for _, p := range stack {
			if now.After(p.ExpiresAt()) {
				evs = append(evs, Event{
					Type: DebugEvent, Time: now, TxNum: p.TxNum, Command: cmd, User: a.User, Symbol: p.Symbol,
					Funds:   decimal.NewNullDecimal(p.Total()),
					Message: fmt.Sprintf("pending %s of %d %s at %s expired unconfirmed", map[CommandName]string{Buy: "buy", Sell: "sell"}[cmd], p.Shares, p.Symbol, p.Price.StringFixed(2)),
				})
				continue
			}
			kept = append(kept, p)
		}
		return kept
	}
	a.PendingBuys = drop(a.PendingBuys, Buy)
	a.PendingSells = drop(a.PendingSells, Sell)
	return evs
}

// NextExpiry is when the oldest pending trade expires (zero if none): the
// workflow keeps one timer for it instead of one per trade.
func (a *Account) NextExpiry() time.Time {
	var next time.Time
	for _, stack := range [][]Pending{a.PendingBuys, a.PendingSells} {
		for _, p := range stack {
			if next.IsZero() || p.ExpiresAt().Before(next) {
				next = p.ExpiresAt()
			}
		}
	}
	return next
}

// ReservedCash is the cash held by buy orders.
func (a *Account) ReservedCash() decimal.Decimal {
	total := decimal.Zero
	for _, sym := range sortedKeys(a.BuyOrders) {
		total = total.Add(a.BuyOrders[sym].Reserve)
	}
	return total
}

// CheckInvariants returns an error when a balance, holding, reserve or cost
// basis is negative, or a symbol the account no longer owns keeps a basis. It must hold after every command and trigger execution.
func (a *Account) CheckInvariants() error {
	if a.Cash.IsNegative() {
		return fmt.Errorf("cash is negative: %s", a.Cash)
	}
	for _, sym := range sortedKeys(a.Holdings) {
		if a.Holdings[sym] < 0 {
			return fmt.Errorf("holding of %s is negative: %d", sym, a.Holdings[sym])
		}
	}
	for _, sym := range sortedKeys(a.BuyOrders) {
		if a.BuyOrders[sym].Reserve.IsNegative() {
			return fmt.Errorf("buy reserve of %s is negative", sym)
		}
	}
	for _, sym := range sortedKeys(a.SellOrders) {
		if o := a.SellOrders[sym]; o.ReservedShares < 0 || o.Amount.IsNegative() {
			return fmt.Errorf("sell order of %s is negative", sym)
		}
	}
	for _, sym := range sortedKeys(a.CostBasis) {
		if a.CostBasis[sym].IsNegative() || a.owned(sym) == 0 {
			return fmt.Errorf("cost basis of %s is %s for %d shares", sym, a.CostBasis[sym], a.owned(sym))
		}
	}
	return nil
}

// Summary is the account as DISPLAY_SUMMARY shows it at now.
func (a *Account) Summary(now time.Time) Summary {
	s := Summary{User: a.User, Exists: a.Opened, AsOf: now, Cash: a.Cash, ReservedCash: a.ReservedCash(),
		Holdings: []Holding{}, PendingBuys: []PendingView{}, PendingSells: []PendingView{},
		BuyOrders: []BuyOrderView{}, SellOrders: []SellOrderView{}, Recent: slices.Clone(a.Recent)}
	// A set of symbols, read back sorted: the iteration order never shows.
	symbols := map[string]bool{}
	//workflowcheck:ignore
	for sym, n := range a.Holdings {
		if n > 0 {
			symbols[sym] = true
		}
	}
	//workflowcheck:ignore
	for sym, o := range a.SellOrders {
		if o.ReservedShares > 0 {
			symbols[sym] = true
		}
	}
	for _, sym := range sortedKeys(symbols) {
		s.Holdings = append(s.Holdings, a.holding(sym))
	}
	s.addProfitAndLoss(a.RealizedPL)
	view := func(stack []Pending) []PendingView {
		out := []PendingView{}
		for i := len(stack) - 1; i >= 0; i-- { // most recent first: the one COMMIT takes
			p := stack[i]
			if now.After(p.ExpiresAt()) {
				continue
			}
			out = append(out, PendingView{Symbol: p.Symbol, Shares: p.Shares, Price: p.Price, Total: p.Total(),
				CreatedAt: p.CreatedAt, ExpiresAt: p.ExpiresAt(), TxNum: p.TxNum})
		}
		return out
	}
	s.PendingBuys = view(a.PendingBuys)
	s.PendingSells = view(a.PendingSells)
	for _, sym := range sortedKeys(a.BuyOrders) {
		o := a.BuyOrders[sym]
		s.BuyOrders = append(s.BuyOrders, BuyOrderView{Symbol: sym, Reserve: o.Reserve, Trigger: o.Trigger})
	}
	for _, sym := range sortedKeys(a.SellOrders) {
		o := a.SellOrders[sym]
		s.SellOrders = append(s.SellOrders, SellOrderView{Symbol: sym, Amount: o.Amount, Trigger: o.Trigger, ReservedShares: o.ReservedShares})
	}
	return s
}

// holding is one symbol's line of the summary, with its profit and loss at
// the last price the account saw.
func (a *Account) holding(sym string) Holding {
	h := Holding{Symbol: sym, Shares: a.Holdings[sym], ReservedShares: a.SellOrders[sym].ReservedShares,
		CostBasis: a.CostBasis[sym]}
	owned := decimal.NewFromInt(a.owned(sym))
	h.AvgCost = h.CostBasis.Div(owned).Round(4)
	q, ok := a.LastQuotes[sym]
	if !ok {
		return h
	}
	h.LastPrice = decimal.NewNullDecimal(q.Price)
	h.LastPriceAt = q.FetchedAt
	value := q.Price.Mul(owned)
	h.MarketValue = decimal.NewNullDecimal(value)
	pl := value.Sub(h.CostBasis)
	h.UnrealizedPL = decimal.NewNullDecimal(pl)
	if h.CostBasis.IsPositive() {
		h.UnrealizedPct = decimal.NewNullDecimal(pl.Mul(decimal.NewFromInt(100)).Div(h.CostBasis).Round(2))
	}
	return h
}

// addProfitAndLoss totals the holdings' cost, value and unrealized P&L.
func (s *Summary) addProfitAndLoss(realized decimal.Decimal) {
	s.RealizedPL = realized
	s.CostBasis = decimal.Zero
	value, priced := decimal.Zero, true
	for _, h := range s.Holdings {
		s.CostBasis = s.CostBasis.Add(h.CostBasis)
		priced = priced && h.MarketValue.Valid
		value = value.Add(h.MarketValue.Decimal)
	}
	if priced {
		s.MarketValue = decimal.NewNullDecimal(value)
		s.UnrealizedPL = decimal.NewNullDecimal(value.Sub(s.CostBasis))
	}
}

// ForgetStaleQuotes drops remembered quotes that are no longer valid and
// whose symbol the account neither holds nor has orders for, so the state
// carried across continue-as-new stays small.
func (a *Account) ForgetStaleQuotes(now time.Time) {
	for _, sym := range sortedKeys(a.LastQuotes) {
		_, buy := a.BuyOrders[sym]
		_, sell := a.SellOrders[sym]
		if !a.LastQuotes[sym].ValidAt(now) && a.Holdings[sym] == 0 && !buy && !sell {
			delete(a.LastQuotes, sym)
		}
	}
}

// remember adds c to the recent activity, which keeps the last recentLimit.
// Once full, the list moves down in place rather than into a new copy: a
// copy per command was 8.5 % of all that a 1,000,000-command run allocated.
// (Summary hands out a copy, so nobody else holds this array.)
func (a *Account) remember(c RecentCommand) {
	if over := len(a.Recent) + 1 - recentLimit; over > 0 {
		n := copy(a.Recent, a.Recent[over:])
		a.Recent = a.Recent[:n]
	}
	a.Recent = append(a.Recent, c)
}

// owned is every share of sym the account owns: free and reserved to sell.
func (a *Account) owned(sym string) int64 {
	return a.Holdings[sym] + a.SellOrders[sym].ReservedShares
}

// addCost adds the cost of shares bought to sym's cost basis. The map may be
// nil in state carried from before cost basis was kept.
func (a *Account) addCost(sym string, cost decimal.Decimal) {
	if a.CostBasis == nil {
		a.CostBasis = map[string]decimal.Decimal{}
	}
	a.CostBasis[sym] = a.CostBasis[sym].Add(cost)
}

// realize books the sale of n shares of sym for proceeds, before the shares
// leave the account: they take their average cost out of the basis (all of
// it when they are the last shares, so no rounding residue is left) and the
// difference to the proceeds is realized.
func (a *Account) realize(sym string, n int64, proceeds decimal.Decimal) {
	owned := a.owned(sym)
	if n <= 0 || owned <= 0 {
		return
	}
	basis := a.CostBasis[sym]
	sold := basis
	if n < owned {
		sold = basis.Mul(decimal.NewFromInt(n)).Div(decimal.NewFromInt(owned)).Round(2)
	}
	if rest := basis.Sub(sold); n < owned && rest.IsPositive() {
		a.CostBasis[sym] = rest
	} else {
		delete(a.CostBasis, sym)
	}
	a.RealizedPL = a.RealizedPL.Add(proceeds.Sub(sold))
}

func (a *Account) takeShares(sym string, n int64) {
	a.Holdings[sym] -= n
	if a.Holdings[sym] == 0 {
		delete(a.Holdings, sym)
	}
}

func (a *Account) systemEvent(cmd CommandName, sym string, txNum int64, now time.Time, funds decimal.Decimal) Event {
	return Event{Type: SystemEvent, Time: now, TxNum: txNum, Command: cmd, User: a.User, Symbol: sym, Funds: decimal.NewNullDecimal(funds)}
}

func (a *Account) transactionEvent(action string, funds decimal.Decimal, txNum int64, now time.Time) Event {
	return Event{Type: AccountTransactionEvent, Time: now, TxNum: txNum, Action: action, User: a.User, Funds: decimal.NewNullDecimal(funds)}
}

func (r *run) transaction(action string, funds decimal.Decimal) {
	r.evs = append(r.evs, r.a.transactionEvent(action, funds, r.cmd.TxNum, r.env.Now))
}

// commandEvent is the userCommand (or errorEvent) record of the command. A
// field that is malformed is left out so the record still fits logfile.xsd;
// the error message says what was wrong with it.
func (r *run) commandEvent(t EventType) Event {
	c := r.cmd
	ev := Event{Type: t, Time: r.env.Now, TxNum: c.TxNum, Command: c.Name}
	if c.Name == DumpLog && ValidFilename(c.Filename) == nil {
		ev.Filename = c.Filename
	}
	// Records belong to the account they were applied to, even when the
	// command named someone else (it then fails): another user's history
	// never shows what was sent to this account.
	ev.User = r.a.User
	if ValidSymbol(c.Symbol) {
		ev.Symbol = c.Symbol
	}
	money := c.Amount
	if money == "" {
		money = c.Price
	}
	if d, err := ParseMoney("amount", money); err == nil {
		ev.Funds = decimal.NewNullDecimal(d)
	}
	return ev
}

// sharesFor is floor(amount / price): whole shares only. A count above
// MaxShares comes back as MaxShares+1, which fails every "at most" check
// instead of wrapping around in an int64.
func sharesFor(amount, price decimal.Decimal) int64 {
	if !price.IsPositive() {
		return 0
	}
	q, _ := amount.QuoRem(price, 0) // exact integer division, no rounding
	if q.GreaterThan(maxSharesDecimal) {
		return MaxShares + 1
	}
	return q.IntPart()
}

var maxSharesDecimal = decimal.NewFromInt(MaxShares)

// room is how many more shares of sym the account may come to own.
func (a *Account) room(sym string) int64 {
	return MaxShares - a.Holdings[sym] - a.SellOrders[sym].ReservedShares
}

func top(stack []Pending) (Pending, bool) {
	if len(stack) == 0 {
		return Pending{}, false
	}
	return stack[len(stack)-1], true
}

// mustMoney parses a value Validate has already accepted.
func mustMoney(s string) decimal.Decimal {
	d, err := decimal.NewFromString(s)
	if err != nil {
		panic(fmt.Sprintf("trading: unvalidated money %q", s))
	}
	return d
}

func pick(txNum, fallback int64) int64 {
	if txNum > 0 {
		return txNum
	}
	return fallback
}

// sortedKeys returns a map's keys in order: the workflow that runs these
// rules must be deterministic, and Go's map iteration order is random.
// (workflowcheck sees maps.Keys iterate a map; the sort makes it safe.)
//
//workflowcheck:ignore
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
