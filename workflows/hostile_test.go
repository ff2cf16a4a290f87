package workflows_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/trading"
	"github.com/daytradinginc/daytrader/workflows"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
)

// hostileUsers are user ids no client of ours sends but any Temporal client
// can: non-ASCII, control characters, far too long, empty, a path.
var hostileUsers = map[string]string{
	"non-ASCII":     "böb",
	"NUL":           "bo\x00b",
	"escape":        "b\x1b[31mob",
	"newline":       "bob\nalice",
	"1 KB":          strings.Repeat("a", 1024),
	"empty":         "",
	"path":          "../x",
	"trailing dash": "alice-",
}

// TestHostileUserIDsInCommandsAreRefused sends commands naming hostile user
// ids into alice's account, by both signals and by the update. Each update
// is rejected with a short, clear error; each signalled command is audited
// as alice's failure; nothing else changes: no quote is fetched (a billed
// legacy hit) and the account goes on with the next good command.
func TestHostileUserIDsInCommandsAreRefused(t *testing.T) {
	h := newHarness(t, testOptions)
	h.at(time.Second, h.cmd(trading.Add, "100.00"))
	tx := int64(100)
	rejected := map[string]error{}
	for name, user := range hostileUsers {
		tx += 3
		quote := trading.Command{TxNum: tx, Name: trading.QuoteCmd, User: user, Symbol: "ABC"}
		add := trading.Command{TxNum: tx + 1, Name: trading.Add, User: user, Amount: "1000.00"}
		update := trading.Command{TxNum: tx + 2, Name: trading.Add, User: user, Amount: "1000.00"}
		h.check(2*time.Second, func() {
			h.env.SignalWorkflow(workflows.SignalCommand, quote)
			h.env.SignalWorkflow(workflows.SignalCommands, []trading.Command{add})
			h.env.UpdateWorkflow(workflows.UpdateExecute, name, &testsuite.TestUpdateCallback{
				OnReject:   func(err error) { rejected[name] = err },
				OnAccept:   func() { t.Errorf("%s: update accepted", name) },
				OnComplete: func(any, error) {},
			}, update)
		})
	}
	h.check(2*time.Second, func() {
		h.env.SignalWorkflow(workflows.SignalCommand, trading.Command{TxNum: 99, Name: trading.DumpLog, Filename: "./all"})
	})
	h.at(3*time.Second, h.cmd(trading.Add, "1.00"))
	h.check(4*time.Second, func() {
		if s := h.summary(); !s.Cash.Equal(money("101")) || len(s.Holdings)+len(s.BuyOrders)+len(s.PendingBuys) != 0 {
			t.Errorf("alice after hostile commands: %+v, want only her two ADDs applied (cash 101.00)", s)
		}
	})
	h.run(5*time.Second, workflows.AccountInput{User: "alice"})

	for name := range hostileUsers {
		err := rejected[name]
		if err == nil || !strings.Contains(err.Error(), "must be 1 to 64 letters or digits") || len(err.Error()) > 200 {
			t.Errorf("%s: update rejection %v, want a short error saying what a user id must be", name, err)
		}
	}
	checkRefusals(t, h, 2*len(hostileUsers)+1)
}

// checkRefusals checks the audit of refused commands: one errorEvent each,
// all in alice's name, each storable as it is (audit.Validate), and no
// legacy quote fetched.
func checkRefusals(t *testing.T, h *harness, want int) {
	t.Helper()
	errs := h.audit.ofType(trading.ErrorEvent)
	if len(errs) != want {
		t.Errorf("errorEvents = %d, want %d (one per signalled hostile command)", len(errs), want)
	}
	for _, e := range append(errs, h.audit.ofType(trading.UserCommandEvent)...) {
		if e.User != "alice" {
			t.Errorf("record %s/%d is in the name of %q, want alice", e.Type, e.TxNum, e.User)
		}
		if err := audit.Validate(e); err != nil {
			t.Errorf("record the audit cannot store: %v", err)
		}
	}
	if n := h.quotes.hits["ABC"] + h.audit.count(trading.QuoteServerEvent); n != 0 {
		t.Errorf("%d quote fetches or records for refused commands, want none", n)
	}
}

// TestAccountStartedWithHostileUserFails starts account workflows directly,
// as any Temporal client can, with a hostile user id: each fails at once
// with InvalidInputError instead of waiting for commands that can never
// succeed.
func TestAccountStartedWithHostileUserFails(t *testing.T) {
	for name, user := range hostileUsers {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, testOptions)
			h.env.ExecuteWorkflow(workflows.AccountWorkflowType, workflows.AccountInput{User: user})
			wantInvalidInput(t, h)
		})
	}
}

// TestAccountStartedUnderAnotherIDFails starts bob's account under alice's
// workflow ID (account-alice, the harness's), as any Temporal client could:
// it must fail at once, not run a second account of bob's.
func TestAccountStartedUnderAnotherIDFails(t *testing.T) {
	h := newHarness(t, testOptions)
	h.env.ExecuteWorkflow(workflows.AccountWorkflowType, workflows.AccountInput{User: "bob"})
	wantInvalidInput(t, h)
}

// TestTriggerStartedWithHostileInputFails starts trigger watchers directly
// with input no account sends. Each fails at once instead of failing a
// price check every interval for ever.
func TestTriggerStartedWithHostileInputFails(t *testing.T) {
	abc := trading.TriggerKey{Side: trading.BuySide, Symbol: "ABC"}
	cases := map[string]workflows.TriggerInput{
		"side":   {User: "alice", Key: trading.TriggerKey{Side: "hold", Symbol: "ABC"}, Price: money("10")},
		"symbol": {User: "alice", Key: trading.TriggerKey{Side: trading.SellSide, Symbol: "abc;"}, Price: money("10")},
		"price":  {User: "alice", Key: abc, Price: money("0")},
	}
	for name, user := range hostileUsers {
		cases["user "+name] = workflows.TriggerInput{User: user, Key: abc, Price: money("10")}
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, testOptions)
			h.env.ExecuteWorkflow(workflows.TriggerWorkflowType, in)
			wantInvalidInput(t, h)
			if h.quotes.hits["ABC"] != 0 {
				t.Error("the watcher fetched a quote")
			}
		})
	}
}

func wantInvalidInput(t *testing.T, h *harness) {
	t.Helper()
	var appErr *temporal.ApplicationError
	if !h.env.IsWorkflowCompleted() || !errors.As(h.env.GetWorkflowError(), &appErr) || appErr.Type() != workflows.InvalidInputError {
		t.Fatalf("completed=%v err=%v, want it failed with %s", h.env.IsWorkflowCompleted(), h.env.GetWorkflowError(), workflows.InvalidInputError)
	}
}
