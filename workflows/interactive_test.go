package workflows_test

import (
	"errors"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/trading"
	"github.com/daytradinginc/daytrader/workflows"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"
)

// TestSignalInteractiveMovesTheAccount: an account on the bulk queue that
// receives SignalInteractive applies what it received before, then
// continues as new on the queue's interactive sibling with its state. (A
// signal that arrives while the continue-as-new task runs is the server's
// to keep: it fails the task and sends a new one; the test environment
// does not, so internal/e2e sends commands during a real move.)
func TestSignalInteractiveMovesTheAccount(t *testing.T) {
	h := newHarness(t, testOptions)
	h.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: workflows.AccountWorkflowID("alice"), TaskQueue: "bulkq"})
	h.at(time.Second, h.cmd(trading.Add, "100.00"))
	add := h.cmd(trading.Add, "5.00")
	h.check(2*time.Second, func() {
		h.env.SignalWorkflow(workflows.SignalCommands, []trading.Command{add})
		h.env.SignalWorkflow(workflows.SignalInteractive, nil)
		h.env.SignalWorkflow(workflows.SignalInteractive, nil) // a second sign-in: one move
	})
	h.env.RegisterDelayedCallback(func() { h.env.CancelWorkflow() }, time.Hour) // only if it never moves
	h.env.ExecuteWorkflow("Account", workflows.AccountInput{User: "alice"})
	var can *workflow.ContinueAsNewError
	if !errors.As(h.env.GetWorkflowError(), &can) {
		t.Fatalf("workflow ended with %v, want continue-as-new", h.env.GetWorkflowError())
	}
	if can.TaskQueueName != "bulkq-interactive" {
		t.Errorf("continued as new on %q, want bulkq-interactive", can.TaskQueueName)
	}
	var next workflows.AccountInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	if got := next.State.Account.Cash; !got.Equal(money("105")) || next.State.Processed != 2 {
		t.Errorf("carried cash %s after %d commands, want 105 after both ADDs", got, next.State.Processed)
	}
	if h.audit.count(trading.UserCommandEvent) != int(next.State.Processed) {
		t.Errorf("%d commands audited, %d processed", h.audit.count(trading.UserCommandEvent), next.State.Processed)
	}
}

// TestSignalInteractiveOnTheInteractiveQueueIsIgnored: an account already on
// an interactive queue stays where it is.
func TestSignalInteractiveOnTheInteractiveQueueIsIgnored(t *testing.T) {
	h := newHarness(t, testOptions)
	h.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: workflows.AccountWorkflowID("alice"),
		TaskQueue: workflows.InteractiveTaskQueue("bulkq")})
	h.at(time.Second, h.cmd(trading.Add, "100.00"))
	h.check(2*time.Second, func() { h.env.SignalWorkflow(workflows.SignalInteractive, nil) })
	h.check(time.Minute, func() {
		if s := h.summary(); !s.Cash.Equal(money("100")) {
			t.Errorf("cash %s, want 100", s.Cash)
		}
	})
	h.run(2*time.Minute, workflows.AccountInput{User: "alice"})
	var can *workflow.ContinueAsNewError
	if errors.As(h.env.GetWorkflowError(), &can) {
		t.Errorf("continued as new on %q: an interactive account does not move", can.TaskQueueName)
	}
}

// TestContinueAsNewTakesTheAccountTaskTimeout: an account started with
// another workflow task timeout (older builds used 3 s, too short for a
// loaded worker's heartbeats) carries AccountTaskTimeout from its next run
// on, whether it continues on its queue (its run is long enough) or moves
// to the interactive one.
func TestContinueAsNewTakesTheAccountTaskTimeout(t *testing.T) {
	for _, tc := range []struct {
		name  string
		move  bool
		queue string
	}{{"continues", false, "bulkq"}, {"moves", true, "bulkq-interactive"}} {
		opts := testOptions
		if !tc.move {
			opts.MaxCommandsPerRun = 2
		}
		h := newHarness(t, opts)
		h.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: workflows.AccountWorkflowID("alice"),
			TaskQueue: "bulkq", WorkflowTaskTimeout: 3 * time.Second})
		h.at(time.Second, h.cmd(trading.Add, "100.00"), h.cmd(trading.Add, "5.00"))
		if tc.move {
			h.check(2*time.Second, func() { h.env.SignalWorkflow(workflows.SignalInteractive, nil) })
		}
		h.env.RegisterDelayedCallback(func() { h.env.CancelWorkflow() }, time.Hour) // only if it never continues
		h.env.ExecuteWorkflow("Account", workflows.AccountInput{User: "alice"})
		var can *workflow.ContinueAsNewError
		if !errors.As(h.env.GetWorkflowError(), &can) {
			t.Fatalf("%s: workflow ended with %v, want continue-as-new", tc.name, h.env.GetWorkflowError())
		}
		if can.TaskQueueName != tc.queue || can.WorkflowTaskTimeout != workflows.AccountTaskTimeout {
			t.Errorf("%s: the next run is on %q with a workflow task timeout of %v, want %q and %v",
				tc.name, can.TaskQueueName, can.WorkflowTaskTimeout, tc.queue, workflows.AccountTaskTimeout)
		}
	}
}
