package workflows_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/activities"
	"github.com/daytradinginc/daytrader/quotes"
	"github.com/daytradinginc/daytrader/trading"
	"github.com/daytradinginc/daytrader/worker"
	"github.com/daytradinginc/daytrader/workflows"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

// fakeQuotes is a quote source whose prices the test moves; every quote it
// gives is a legacy hit (no cache: the workflow's own reuse of valid quotes
// is what is under test).
type fakeQuotes struct {
	mu     sync.Mutex
	prices map[string]string
	hits   map[string]int
	down   bool
	now    func() time.Time
	// stalls is how many of the next GetMany calls outlive their attempt,
	// as on an overloaded worker: they return only when ctx ends, with
	// every symbol failed. calls counts every GetMany.
	stalls, calls int
}

func (f *fakeQuotes) GetMany(ctx context.Context, user, _ string, symbols []string) []quotes.Result {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.stalls > 0 {
		f.stalls--
		f.mu.Unlock()
		<-ctx.Done()
		f.mu.Lock()
		out := make([]quotes.Result, len(symbols))
		for i, sym := range symbols {
			out[i] = quotes.Result{Symbol: sym, Err: ctx.Err()}
		}
		return out
	}
	out := make([]quotes.Result, len(symbols))
	for i, sym := range symbols {
		out[i] = quotes.Result{Symbol: sym}
		if f.down {
			out[i].Err = errors.New("quote server unreachable for " + sym + " after 4s")
			continue
		}
		p, ok := f.prices[sym]
		if !ok {
			p = "10.00"
		}
		f.hits[sym]++
		out[i].Quote = trading.Quote{Symbol: sym, User: user, Price: decimal.RequireFromString(p), QuoteServerTime: 1700000000000,
			Cryptokey: "key-" + sym, FetchedAt: f.now()}
		out[i].LegacyHit = true
	}
	return out
}

func (f *fakeQuotes) set(sym, price string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.prices[sym] = price
}

// memAudit is an audit store in memory that keeps one copy per key, as the
// Postgres store does.
type memAudit struct {
	mu     sync.Mutex
	byKey  map[string]bool
	events []trading.Event
	dumps  []string
	// writes are the Writes' sizes: the events as JSON (as the activity's
	// input payload carries them) and how many were userCommands.
	writes []auditWrite
}

type auditWrite struct {
	jsonBytes, commands int
}

func (m *memAudit) Write(_ context.Context, server string, evs []trading.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, err := json.Marshal(evs)
	if err != nil {
		return err
	}
	w := auditWrite{jsonBytes: len(b)}
	for _, e := range evs {
		if e.Type == trading.UserCommandEvent {
			w.commands++
		}
	}
	m.writes = append(m.writes, w)
	for _, e := range evs {
		if e.Key == "" {
			return fmt.Errorf("event without key: %+v", e)
		}
		if m.byKey[e.Key] {
			continue
		}
		m.byKey[e.Key] = true
		m.events = append(m.events, e)
	}
	return nil
}

func (m *memAudit) DumpToFile(_ context.Context, dir, filename, user string) (string, int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.dumps = append(m.dumps, user+":"+filename)
	return dir + "/" + trading.CleanFilename(filename), int64(len(m.events)), nil
}

func (m *memAudit) count(t trading.EventType) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, e := range m.events {
		if e.Type == t {
			n++
		}
	}
	return n
}

func (m *memAudit) ofType(t trading.EventType) []trading.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []trading.Event
	for _, e := range m.events {
		if e.Type == t {
			out = append(out, e)
		}
	}
	return out
}

var testOptions = workflows.AccountOptions{
	DuplicateWindow:   64,
	TriggerCheckEvery: 10 * time.Second,
	ChildDebounce:     time.Second,
	MaxChildDelay:     5 * time.Second,
	MaxHistoryEvents:  100000,
}

type harness struct {
	t      *testing.T
	env    *testsuite.TestWorkflowEnvironment
	quotes *fakeQuotes
	audit  *memAudit
	tx     int64
}

func newHarness(t *testing.T, opts workflows.AccountOptions) *harness {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	h := &harness{t: t, env: env, audit: &memAudit{byKey: map[string]bool{}}}
	h.quotes = &fakeQuotes{prices: map[string]string{}, hits: map[string]int{}, now: env.Now}
	// Registered as a worker registers them, bound to the test's options.
	worker.Register(env, &activities.Activities{Quotes: h.quotes, Audit: h.audit, Server: "test", DumpDir: "/dumps"}, opts)
	env.SetTestTimeout(30 * time.Second)
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: workflows.AccountWorkflowID("alice")})
	// The test environment routes signals only to children; a trigger's
	// signal to its parent account is delivered by hand.
	env.OnSignalExternalWorkflow(mock.Anything, workflows.AccountWorkflowID("alice"), "", workflows.SignalTriggerHit, mock.Anything).Return(
		func(_, id, _, name string, arg any) error { return env.SignalWorkflowByID(id, name, arg) })
	return h
}

// cmd builds a command for alice with the next transaction number.
func (h *harness) cmd(name trading.CommandName, args ...string) trading.Command {
	h.tx++
	c, err := trading.ParseArgs(h.tx, string(name), append([]string{"alice"}, args...))
	if err != nil {
		h.t.Fatalf("bad test command %s %v: %v", name, args, err)
	}
	return c
}

// at sends a batch of commands as one signal at the given workflow time.
func (h *harness) at(d time.Duration, cmds ...trading.Command) {
	h.env.RegisterDelayedCallback(func() { h.env.SignalWorkflow(workflows.SignalCommands, cmds) }, d)
}

// check runs fn at workflow time d (after earlier callbacks).
func (h *harness) check(d time.Duration, fn func()) { h.env.RegisterDelayedCallback(fn, d) }

func (h *harness) summary() trading.Summary {
	v, err := h.env.QueryWorkflow(workflows.QuerySummary)
	if err != nil {
		h.t.Fatalf("summary query: %v", err)
	}
	var s trading.Summary
	if err := v.Get(&s); err != nil {
		h.t.Fatal(err)
	}
	return s
}

// run executes the account workflow and cancels it at end (accounts live forever).
func (h *harness) run(end time.Duration, in workflows.AccountInput) {
	h.env.RegisterDelayedCallback(func() { h.env.CancelWorkflow() }, end)
	h.env.ExecuteWorkflow("Account", in)
	if !h.env.IsWorkflowCompleted() {
		h.t.Fatal("workflow did not complete")
	}
}

func money(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func TestEveryCommandIsAppliedInOrderAndAuditedOnce(t *testing.T) {
	h := newHarness(t, testOptions)
	h.quotes.set("ABC", "20.00")
	var cmds []trading.Command
	cmds = append(cmds,
		h.cmd(trading.Add, "1000.00"),
		h.cmd(trading.QuoteCmd, "ABC"),
		h.cmd(trading.Buy, "ABC", "100.00"), // 5 shares
		h.cmd(trading.CommitBuy),
		h.cmd(trading.Sell, "ABC", "40.00"), // 2 shares
		h.cmd(trading.CancelSell),
		h.cmd(trading.Sell, "ABC", "40.00"),
		h.cmd(trading.CommitSell),
		h.cmd(trading.SetBuyAmount, "ABC", "200.00"),
		h.cmd(trading.CancelSetBuy, "ABC"),
		h.cmd(trading.SetSellAmount, "ABC", "20.00"),
		h.cmd(trading.CancelSetSell, "ABC"),
		h.cmd(trading.Buy, "ABC", "60.00"),
		h.cmd(trading.CancelBuy),
		h.cmd(trading.DisplaySummary),
		h.cmd(trading.CommitBuy), // fails: nothing pending
		h.cmd(trading.DumpLog, "./mylog"),
	)
	h.at(time.Second, cmds[:5]...)
	h.at(2*time.Second, cmds[5:]...)
	h.check(3*time.Second, func() {
		s := h.summary()
		if !s.Cash.Equal(money("940.00")) {
			t.Errorf("cash = %s, want 940.00 (1000 - 100 + 40)", s.Cash)
		}
		if len(s.Holdings) != 1 || s.Holdings[0].Shares != 3 {
			t.Errorf("holdings = %+v, want 3 ABC", s.Holdings)
		}
	})
	h.run(5*time.Second, workflows.AccountInput{User: "alice"})

	if got := h.audit.count(trading.UserCommandEvent); got != len(cmds) {
		t.Errorf("userCommand events = %d, want one per command (%d)", got, len(cmds))
	}
	if got := h.audit.count(trading.ErrorEvent); got != 1 {
		t.Errorf("errorEvents = %d, want 1 (the COMMIT_BUY with nothing pending)", got)
	}
	// One legacy hit: every later price of ABC within 60 s reuses it.
	if got := h.quotes.hits["ABC"]; got != 1 {
		t.Errorf("legacy hits for ABC = %d, want 1", got)
	}
	if got := h.audit.count(trading.QuoteServerEvent); got != 1 {
		t.Errorf("quoteServer events = %d, want 1", got)
	}
	if len(h.audit.dumps) != 1 || h.audit.dumps[0] != "alice:./mylog" {
		t.Errorf("dumps = %v, want alice's ./mylog", h.audit.dumps)
	}
	// Audit events of one account carry increasing transaction numbers.
	var last int64
	for _, e := range h.audit.ofType(trading.UserCommandEvent) {
		if e.TxNum <= last {
			t.Errorf("userCommand %d after %d: out of order", e.TxNum, last)
		}
		last = e.TxNum
	}
}

func TestPendingBuyExpiresAfterSixtySecondsByTimer(t *testing.T) {
	h := newHarness(t, testOptions)
	h.quotes.set("ABC", "10.00")
	h.at(time.Second, h.cmd(trading.Add, "100.00"), h.cmd(trading.Buy, "ABC", "50.00"))
	h.check(60*time.Second, func() { // 59 s after the BUY: still pending
		if s := h.summary(); len(s.PendingBuys) != 1 {
			t.Errorf("pending buys at 59 s = %d, want 1", len(s.PendingBuys))
		}
	})
	h.check(63*time.Second, func() {
		if got := h.audit.count(trading.DebugEvent); got != 1 {
			t.Errorf("expiry debugEvents at 62 s = %d, want 1 (dropped by the timer, not by a command)", got)
		}
	})
	h.at(64*time.Second, h.cmd(trading.CommitBuy))
	h.check(65*time.Second, func() {
		s := h.summary()
		if len(s.PendingBuys) != 0 || len(s.Holdings) != 0 || !s.Cash.Equal(money("100")) {
			t.Errorf("after expiry: %+v, want nothing bought", s)
		}
	})
	h.run(70*time.Second, workflows.AccountInput{User: "alice"})
	if got := h.audit.count(trading.ErrorEvent); got != 1 {
		t.Errorf("errorEvents = %d, want 1 (COMMIT_BUY after expiry)", got)
	}
}

func TestUpdateReturnsResultAndRefusesBadInput(t *testing.T) {
	h := newHarness(t, testOptions)
	h.quotes.set("XYZ", "2.50")
	h.at(time.Second, h.cmd(trading.Add, "10.00"))
	var quoteRes trading.Result
	var rejected error
	h.check(2*time.Second, func() {
		h.env.UpdateWorkflow(workflows.UpdateExecute, "u1", &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { t.Errorf("valid update rejected: %v", err) },
			OnAccept:   func() {},
			OnComplete: func(v any, err error) { quoteRes, _ = v.(trading.Result); _ = err },
		}, trading.Command{TxNum: 100, Name: trading.QuoteCmd, User: "alice", Symbol: "XYZ"})
		h.env.UpdateWorkflow(workflows.UpdateExecute, "u2", &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { rejected = err },
			OnAccept:   func() { t.Error("an ADD of -5 was accepted") },
			OnComplete: func(any, error) {},
		}, trading.Command{TxNum: 101, Name: trading.Add, User: "alice", Amount: "-5"})
	})
	h.run(5*time.Second, workflows.AccountInput{User: "alice"})
	if !quoteRes.OK || quoteRes.Quote == nil || !quoteRes.Quote.Price.Equal(money("2.50")) {
		t.Errorf("QUOTE result = %+v, want XYZ at 2.50", quoteRes)
	}
	if rejected == nil {
		t.Error("ADD of -5 was not rejected")
	}
	if got := h.audit.count(trading.UserCommandEvent); got != 2 {
		t.Errorf("userCommand events = %d, want 2: a rejected update leaves no trace", got)
	}
}

func TestRepeatedTransactionIsAppliedOnce(t *testing.T) {
	h := newHarness(t, testOptions)
	add := h.cmd(trading.Add, "100.00")
	h.at(time.Second, add)
	h.at(2*time.Second, add, add) // redelivered
	h.check(3*time.Second, func() {
		if s := h.summary(); !s.Cash.Equal(money("100")) {
			t.Errorf("cash = %s, want 100: the ADD was applied more than once", s.Cash)
		}
	})
	h.run(4*time.Second, workflows.AccountInput{User: "alice"})
	if got := h.audit.count(trading.UserCommandEvent); got != 1 {
		t.Errorf("userCommand events = %d, want 1", got)
	}
}

func TestAccountThatNeverOpensEnds(t *testing.T) {
	h := newHarness(t, testOptions)
	h.at(time.Second, h.cmd(trading.QuoteCmd, "ABC"))
	h.env.ExecuteWorkflow("Account", workflows.AccountInput{User: "alice"})
	if !h.env.IsWorkflowCompleted() || h.env.GetWorkflowError() != nil {
		t.Fatalf("workflow of an unopened account: completed=%v err=%v", h.env.IsWorkflowCompleted(), h.env.GetWorkflowError())
	}
	if got := h.audit.count(trading.ErrorEvent); got != 1 {
		t.Errorf("errorEvents = %d, want 1", got)
	}
	if h.quotes.hits["ABC"] != 0 {
		t.Error("a quote was fetched for a user without an account")
	}
}

func TestQuoteServerDownFailsCommandsClearly(t *testing.T) {
	h := newHarness(t, testOptions)
	h.quotes.down = true
	h.at(time.Second, h.cmd(trading.Add, "100.00"), h.cmd(trading.Buy, "ABC", "50.00"), h.cmd(trading.Add, "1.00"))
	h.check(2*time.Second, func() {
		if s := h.summary(); !s.Cash.Equal(money("101")) || len(s.PendingBuys) != 0 {
			t.Errorf("summary = %+v, want cash 101 and no pending buy", s)
		}
	})
	h.run(3*time.Second, workflows.AccountInput{User: "alice"})
	errs := h.audit.ofType(trading.ErrorEvent)
	if len(errs) != 1 || errs[0].Command != trading.Buy {
		t.Fatalf("errorEvents = %+v, want one for the BUY", errs)
	}
	if want := "quote server unreachable"; !contains(errs[0].Message, want) {
		t.Errorf("error message %q does not say %q", errs[0].Message, want)
	}
}

// A batch's quote fetch that outlives its attempt (a worker so loaded that
// its hundreds of symbols take longer than the timeout) is tried again, and
// the BUY goes through: the account's commands must not fail because its own
// worker was busy.
func TestQuoteFetchOutlivingItsAttemptIsTriedAgain(t *testing.T) {
	opts := testOptions
	opts.QuoteTimeout = 2 * time.Second // above GetQuotes' 1 s margin for handing quotes over
	h := newHarness(t, opts)
	h.quotes.stalls = 1
	h.at(time.Second, h.cmd(trading.Add, "100.00"), h.cmd(trading.Buy, "ABC", "50.00"))
	h.check(10*time.Second, func() {
		if s := h.summary(); len(s.PendingBuys) != 1 {
			t.Errorf("pending buys = %+v, want the BUY's", s.PendingBuys)
		}
	})
	h.run(11*time.Second, workflows.AccountInput{User: "alice"})
	if errs := h.audit.ofType(trading.ErrorEvent); len(errs) != 0 {
		t.Errorf("errorEvents = %+v, want none", errs)
	}
	if got := h.audit.count(trading.QuoteServerEvent); got != 1 {
		t.Errorf("quoteServer events = %d, want 1 (the retry's hit)", got)
	}
	if h.quotes.calls != 2 {
		t.Errorf("GetMany calls = %d, want 2 (the stalled attempt and its retry)", h.quotes.calls)
	}
}

func TestBuyTriggerExecutesOnceWhenWatcherSeesPrice(t *testing.T) {
	h := newHarness(t, testOptions)
	h.quotes.set("ABC", "20.00")
	h.at(time.Second,
		h.cmd(trading.Add, "1000.00"),
		h.cmd(trading.SetBuyAmount, "ABC", "100.00"),
		h.cmd(trading.SetBuyTrigger, "ABC", "12.50"), // 20 > 12.50: watched
	)
	h.check(3*time.Second, func() {
		if s := h.summary(); len(s.BuyOrders) != 1 || !s.BuyOrders[0].Trigger.Valid {
			t.Errorf("buy order = %+v, want it watched", s.BuyOrders)
		}
		h.quotes.set("ABC", "12.50") // equality fires
	})
	h.check(40*time.Second, func() {
		s := h.summary()
		if len(s.BuyOrders) != 0 {
			t.Errorf("buy order still there after the price reached the trigger: %+v", s.BuyOrders)
		}
		// 100 / 12.50 = 8 shares, nothing left over.
		if len(s.Holdings) != 1 || s.Holdings[0].Shares != 8 || !s.Cash.Equal(money("900")) {
			t.Errorf("after trigger: holdings %+v cash %s, want 8 ABC and 900", s.Holdings, s.Cash)
		}
	})
	h.run(60*time.Second, workflows.AccountInput{User: "alice"})
	if got := h.audit.count(trading.SystemEvent); got != 1 {
		t.Errorf("systemEvents = %d, want exactly one execution", got)
	}
}

func TestSellTriggerExecutesAtOnceWhenPriceAlreadyThere(t *testing.T) {
	h := newHarness(t, testOptions)
	h.quotes.set("ABC", "10.00")
	h.at(time.Second,
		h.cmd(trading.Add, "100.00"),
		h.cmd(trading.Buy, "ABC", "100.00"),
		h.cmd(trading.CommitBuy), // 10 ABC
		h.cmd(trading.SetSellAmount, "ABC", "50.00"),
		h.cmd(trading.SetSellTrigger, "ABC", "10.00"), // reserves 5, price 10 >= 10: sells now
	)
	h.check(2*time.Second, func() {
		s := h.summary()
		if len(s.SellOrders) != 0 || !s.Cash.Equal(money("50")) || s.Holdings[0].Shares != 5 {
			t.Errorf("summary = %+v, want sold 5 at once for 50", s)
		}
	})
	h.run(20*time.Second, workflows.AccountInput{User: "alice"})
	if got := h.audit.count(trading.SystemEvent); got != 1 {
		t.Errorf("systemEvents = %d, want 1", got)
	}
}

func TestCancelledTriggerNeverExecutes(t *testing.T) {
	h := newHarness(t, testOptions)
	h.quotes.set("ABC", "20.00")
	h.at(time.Second,
		h.cmd(trading.Add, "1000.00"),
		h.cmd(trading.SetBuyAmount, "ABC", "100.00"),
		h.cmd(trading.SetBuyTrigger, "ABC", "15.00"),
	)
	h.at(15*time.Second, h.cmd(trading.CancelSetBuy, "ABC"))
	h.check(16*time.Second, func() { h.quotes.set("ABC", "1.00") })
	h.check(60*time.Second, func() {
		s := h.summary()
		if len(s.Holdings) != 0 || !s.Cash.Equal(money("1000")) {
			t.Errorf("summary = %+v, want the cancelled order never to buy", s)
		}
	})
	h.run(70*time.Second, workflows.AccountInput{User: "alice"})
	if got := h.audit.count(trading.SystemEvent); got != 0 {
		t.Errorf("systemEvents = %d, want 0", got)
	}
}

// TestContinueAsNewCarriesPendingTradesAndTriggers forces continue-as-new
// with a pending buy and a live trigger, then runs the next run from the
// carried input: the buy can still be committed and the trigger still fires.
func TestContinueAsNewCarriesPendingTradesAndTriggers(t *testing.T) {
	opts := testOptions
	opts.MaxCommandsPerRun = 10
	h := newHarness(t, opts)
	// The watcher is abandoned at continue-as-new and keeps running in a real
	// cluster; here it is a stub, and the second run gets its hit by hand.
	h.env.OnWorkflow("Trigger", mock.Anything, mock.Anything).Return(nil)
	h.quotes.set("ABC", "20.00")
	h.at(time.Second,
		h.cmd(trading.Add, "1000.00"),
		h.cmd(trading.SetBuyAmount, "ABC", "100.00"),
		h.cmd(trading.SetBuyTrigger, "ABC", "10.00"),
		h.cmd(trading.Buy, "ABC", "60.00"), // 3 shares bought: their cost is carried
		h.cmd(trading.CommitBuy),
		h.cmd(trading.Buy, "ABC", "40.00"), // 2 shares pending
	)
	for i := 0; i < 20; i++ {
		h.at(time.Duration(2+i)*time.Second, h.cmd(trading.DisplaySummary))
	}
	h.env.RegisterDelayedCallback(func() { h.env.CancelWorkflow() }, 5*time.Minute) // only if it never continues
	h.env.ExecuteWorkflow("Account", workflows.AccountInput{User: "alice"})
	var can *workflow.ContinueAsNewError
	if !errors.As(h.env.GetWorkflowError(), &can) {
		t.Fatalf("workflow ended with %v, want continue-as-new", h.env.GetWorkflowError())
	}
	var next workflows.AccountInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	if next.State == nil || len(next.State.Account.PendingBuys) != 1 || len(next.State.Account.Triggers()) != 1 {
		t.Fatalf("carried state = %+v, want the pending buy and the trigger", next.State)
	}
	if got := next.State.Account.CostBasis["ABC"]; !got.Equal(money("60")) {
		t.Fatalf("carried cost basis of ABC = %s, want 60", got)
	}

	// The second run: same audit store, fresh environment (time restarts,
	// so the pending buy is committed within its window by shifting it).
	h2 := newHarness(t, testOptions)
	h2.env.OnWorkflow("Trigger", mock.Anything, mock.Anything).Return(nil)
	var cancelled []string
	h2.env.OnRequestCancelExternalWorkflow(mock.Anything, mock.Anything, "").Return(
		func(_, id, _ string) error { cancelled = append(cancelled, id); return nil })
	h2.tx = h.tx
	next.State.Account.PendingBuys[0].CreatedAt = h2.env.Now()
	h2.at(time.Second, h2.cmd(trading.CommitBuy))
	if len(next.State.Watched) != 1 {
		t.Fatalf("watched triggers carried = %+v, want the ABC buy trigger", next.State.Watched)
	}
	hit := workflows.TriggerHit{Key: next.State.Watched[0].Key,
		Quote: trading.Quote{Symbol: "ABC", User: "alice", Price: money("9.00"), FetchedAt: h2.env.Now()}}
	h2.quotes.set("ABC", "9.00") // what the account sees when it checks the hit
	h2.check(3*time.Second, func() {
		// The watcher reports twice (a retry): the order executes once.
		h2.env.SignalWorkflow(workflows.SignalTriggerHit, hit)
		h2.env.SignalWorkflow(workflows.SignalTriggerHit, hit)
	})
	h2.check(40*time.Second, func() {
		s := h2.summary()
		// 3 carried + 2 committed + floor(100/9) = 11 by the trigger, at a
		// cost of 60 + 40 + 99.
		if len(s.Holdings) != 1 || s.Holdings[0].Shares != 16 || !s.Holdings[0].CostBasis.Equal(money("199")) {
			t.Errorf("holdings after continue-as-new = %+v, want 16 ABC costing 199", s.Holdings)
		}
	})
	h2.run(50*time.Second, next)
	if got := h2.audit.count(trading.SystemEvent); got != 1 {
		t.Errorf("systemEvents = %d, want 1", got)
	}
	if want := workflows.TriggerWorkflowID("alice", hit.Key); len(cancelled) != 1 || cancelled[0] != want {
		t.Errorf("cancelled watchers = %v, want [%s]", cancelled, want)
	}
	// Audit keys stay unique across runs: the second run continues the
	// numbering, so it cannot overwrite what the first one wrote.
	for _, e := range h2.audit.events {
		if h.audit.byKey[e.Key] {
			t.Errorf("audit key %s written by both runs", e.Key)
		}
	}
}

func contains(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && (s == sub || indexOf(s, sub) >= 0))
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func TestReplacedTriggerPriceReachesItsWatcher(t *testing.T) {
	h := newHarness(t, testOptions)
	h.quotes.set("ABC", "20.00")
	h.at(time.Second,
		h.cmd(trading.Add, "1000.00"),
		h.cmd(trading.SetBuyAmount, "ABC", "100.00"),
		h.cmd(trading.SetBuyTrigger, "ABC", "10.00"),
	)
	// The watcher runs by now; the trader raises the trigger.
	h.at(12*time.Second, h.cmd(trading.SetBuyTrigger, "ABC", "15.00"))
	h.check(15*time.Second, func() { h.quotes.set("ABC", "14.00") }) // below 15, above 10
	h.check(50*time.Second, func() {
		s := h.summary()
		// floor(100 / 14) = 7 shares, 2.00 back to cash.
		if len(s.Holdings) != 1 || s.Holdings[0].Shares != 7 || !s.Cash.Equal(money("902")) {
			t.Errorf("after the raised trigger: %+v cash %s, want 7 ABC and 902", s.Holdings, s.Cash)
		}
	})
	h.run(60*time.Second, workflows.AccountInput{User: "alice"})
	if got := h.audit.count(trading.SystemEvent); got != 1 {
		t.Errorf("systemEvents = %d, want 1", got)
	}
}

// TestWorkerOptionsReachTheAccount checks that the options a worker is given
// are the ones its account workflows run with: with a duplicate window of 2
// a transaction number three commands old is no longer recognised.
func TestWorkerOptionsReachTheAccount(t *testing.T) {
	opts := testOptions
	opts.DuplicateWindow = 2
	h := newHarness(t, opts)
	first := h.cmd(trading.Add, "100.00")
	h.at(time.Second, first, h.cmd(trading.Add, "100.00"), h.cmd(trading.Add, "100.00"))
	h.at(2*time.Second, first)
	h.check(3*time.Second, func() {
		if s := h.summary(); !s.Cash.Equal(money("400")) {
			t.Errorf("cash = %s, want 400: the worker's duplicate window of 2 was not used", s.Cash)
		}
	})
	h.run(4*time.Second, workflows.AccountInput{User: "alice"})
}

// TestTriggerWithoutIntervalUsesWorkerOptions starts a watcher whose input
// names no interval: it checks at the worker's TriggerCheckEvery (10 s in
// the tests), not at the production default (30 s).
func TestTriggerWithoutIntervalUsesWorkerOptions(t *testing.T) {
	h := newHarness(t, testOptions)
	h.quotes.set("ABC", "20.00")
	h.env.RegisterDelayedCallback(func() { h.env.CancelWorkflow() }, 35*time.Second)
	h.env.ExecuteWorkflow(workflows.TriggerWorkflowType, workflows.TriggerInput{User: "alice",
		Key: trading.TriggerKey{Side: trading.BuySide, Symbol: "ABC"}, Price: money("10.00")})
	if got := h.quotes.hits["ABC"]; got != 3 {
		t.Errorf("price checks in 35 s = %d, want 3 (every 10 s)", got)
	}
}

// TestDuplicateWindowOutOfOrder: a transaction number seen before is
// applied once, whether it is the highest so far or below it, and a number
// below the highest that was never seen is applied (numbers usually come in
// ascending order, and the window is searched only for those that do not).
func TestDuplicateWindowOutOfOrder(t *testing.T) {
	h := newHarness(t, testOptions)
	add := func(tx int64) trading.Command {
		return trading.Command{TxNum: tx, Name: trading.Add, User: "alice", Amount: "1.00"}
	}
	h.at(time.Second, add(10), add(20), add(30))
	h.at(2*time.Second, add(20), add(15), add(30), add(31), add(10))
	h.check(3*time.Second, func() {
		if s := h.summary(); !s.Cash.Equal(money("5")) {
			t.Errorf("cash = %s, want 5: 10, 20, 30, 15 and 31 once each", s.Cash)
		}
	})
	h.run(4*time.Second, workflows.AccountInput{User: "alice"})
}
