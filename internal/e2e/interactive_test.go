package e2e

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/internal/stack"
	"github.com/daytradinginc/daytrader/internal/stacktest"
	"github.com/daytradinginc/daytrader/trading"
	"github.com/daytradinginc/daytrader/workflows"
	"github.com/shopspring/decimal"
	enumspb "go.temporal.io/api/enums/v1"
)

// TestTraderCommandsCompleteDuringABulkRun: while bulk accounts work
// through a backlog of signalled commands, a trader's account (opened by
// the web UI's update, on the interactive queue) answers every command,
// and a bulk account that a trader signs in to moves to the interactive
// queue in the middle of its own backlog, a trader's update to it sent at
// the same time. Every command of both is applied exactly once (cash and
// processed count), the move is the first run's continue-as-new onto the
// interactive queue, and that run replays.
func TestTraderCommandsCompleteDuringABulkRun(t *testing.T) {
	dev := stacktest.Start(t, stacktest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	accounts := workflows.NewAccounts(dev.Client)
	accounts.TaskQueue, accounts.Namespace = dev.Config.TaskQueue, dev.Config.TemporalNamespace

	const users, perUser, batch = 6, 400, 20
	errs := make(chan error, users+1)
	var wg sync.WaitGroup
	for i := range users {
		wg.Go(func() { errs <- sendAdds(ctx, accounts, fmt.Sprintf("bulk%d", i), int64(i+1)*100_000, perUser, batch) })
	}
	waitForAccount(ctx, t, accounts, "bulk0")
	// A trader signs in to bulk0 and sends a command while its backlog runs.
	wg.Go(func() {
		if err := accounts.MakeInteractive(ctx, "bulk0"); err != nil {
			errs <- err
			return
		}
		errs <- execute(ctx, accounts, trading.Command{TxNum: 99, Name: trading.Add, User: "bulk0", Amount: "1000.00"})
	})
	// Another trader, on the web from the start.
	for k := range 5 {
		if err := execute(ctx, accounts, trading.Command{TxNum: int64(k + 1), Name: trading.Add, User: "webtrader", Amount: "1.00"}); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	waitForCash(ctx, t, accounts, "webtrader", decimal.RequireFromString("5"))
	for i := range users {
		user, want, cash := fmt.Sprintf("bulk%d", i), int64(perUser), decimal.NewFromInt(perUser)
		if i == 0 { // the trader's ADD 1000.00
			want, cash = want+1, cash.Add(decimal.NewFromInt(1000))
		}
		waitForCash(ctx, t, accounts, user, cash)
		if p, err := accounts.Progress(ctx, user); err != nil || p.Processed != want {
			t.Errorf("%s processed %d commands (%v), want %d", user, p.Processed, err, want)
		}
	}
	interactive := workflows.InteractiveTaskQueue(dev.Config.TaskQueue)
	waitForPlacement(ctx, t, dev.Client, "bulk0", placement{interactive, workflows.PriorityInteractive})
	checkMovedByContinueAsNew(ctx, t, dev, "bulk0", interactive)
}

// checkMovedByContinueAsNew: user's first run ended in a continue-as-new
// onto queue, and replays.
func checkMovedByContinueAsNew(ctx context.Context, t *testing.T, dev *stack.Dev, user, queue string) {
	t.Helper()
	d, err := dev.Client.DescribeWorkflowExecution(ctx, workflows.AccountWorkflowID(user), "")
	if err != nil {
		t.Fatal(err)
	}
	first := d.GetWorkflowExecutionInfo().GetFirstRunId()
	hist := fetchHistory(ctx, t, dev.Client, workflows.AccountWorkflowID(user), first)
	last := hist.Events[len(hist.Events)-1]
	if last.GetEventType() != enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW {
		t.Fatalf("%s's first run ended with %s, want a continue-as-new", user, last.GetEventType())
	}
	if got := last.GetWorkflowExecutionContinuedAsNewEventAttributes().GetTaskQueue().GetName(); got != queue {
		t.Errorf("%s continued as new on %q, want %q", user, got, queue)
	}
	replayRun(ctx, t, dev, user, first)
}

// sendAdds signals n commands ADD 1.00 to user's account, batch by batch,
// numbered from firstTx on.
func sendAdds(ctx context.Context, accounts *workflows.Accounts, user string, firstTx int64, n, batch int) error {
	for i := 0; i < n; i += batch {
		var cmds []trading.Command
		for k := i; k < min(i+batch, n); k++ {
			cmds = append(cmds, trading.Command{TxNum: firstTx + int64(k), Name: trading.Add, User: user, Amount: "1.00"})
		}
		if err := accounts.Send(ctx, user, cmds); err != nil {
			return fmt.Errorf("sending %s's commands: %w", user, err)
		}
	}
	return nil
}

// execute runs cmd by update and wants it applied.
func execute(ctx context.Context, accounts *workflows.Accounts, cmd trading.Command) error {
	res, err := accounts.Execute(ctx, cmd)
	if err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	if !res.OK {
		return fmt.Errorf("%s: refused: %s", cmd, res.Message)
	}
	return nil
}
