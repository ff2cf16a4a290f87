package ceiling

import (
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/trading"
	"github.com/daytradinginc/daytrader/workflows"
	"go.temporal.io/sdk/testsuite"
)

// TestCountEndsAtTheExpectedCount: the counting workflow takes the
// account's signal and finishes once it has counted every command, not
// before.
func TestCountEndsAtTheExpectedCount(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	batch := func(n int) []trading.Command {
		cmds := make([]trading.Command, n)
		for i := range cmds {
			cmds[i] = trading.Command{TxNum: int64(i + 1), Name: trading.QuoteCmd, User: "alice", Symbol: "ABC"}
		}
		return cmds
	}
	for i, n := range []int{2, 2, 1} {
		env.RegisterDelayedCallback(func() {
			if env.IsWorkflowCompleted() {
				t.Errorf("the workflow finished before batch %d", i+1)
			}
			env.SignalWorkflow(workflows.SignalCommands, batch(n))
		}, time.Duration(i+1)*time.Second)
	}
	env.ExecuteWorkflow(Count, int64(5))
	if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
		t.Fatalf("completed %v, error %v", env.IsWorkflowCompleted(), env.GetWorkflowError())
	}
	var got int64
	if err := env.GetWorkflowResult(&got); err != nil || got != 5 {
		t.Errorf("counted %d (%v), want 5", got, err)
	}
}
