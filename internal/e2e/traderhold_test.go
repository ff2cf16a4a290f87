package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/activities"
	"github.com/daytradinginc/daytrader/internal/stacktest"
	"github.com/daytradinginc/daytrader/worker"
	"github.com/daytradinginc/daytrader/workflows"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"
)

// TestWorkerHoldsTheBulkForATrader runs DayTrader's worker on the embedded
// server with a trader's activity running on the interactive queue, and a
// bulk workflow started meanwhile on the bulk queue: with a trader hold its
// task waits for the activity and the hold after it; with 0 it runs at once.
func TestWorkerHoldsTheBulkForATrader(t *testing.T) {
	dev := stacktest.Start(t, stacktest.Options{NoWorker: true})
	const traderWork, hold = 600 * time.Millisecond, 200 * time.Millisecond
	for _, tc := range []struct {
		name string
		hold time.Duration
	}{
		{"hold 0: the bulk runs beside the trader", 0},
		{"hold 200ms: the bulk waits for the trader's task and the hold", hold},
	} {
		t.Run(tc.name, func(t *testing.T) {
			traderDone, bulkRan := runTraderAndBulk(t, dev.Client, dev.Config.TaskQueue, tc.hold, traderWork)
			switch late := bulkRan.Sub(traderDone); {
			case tc.hold == 0 && late >= 0:
				t.Errorf("the bulk task ran %v after the trader's activity ended, want while it ran", late)
			case tc.hold > 0 && late < tc.hold:
				t.Errorf("the bulk task ran %v after the trader's activity ended, want at least the hold, %v", late, tc.hold)
			}
		})
	}
}

// runTraderAndBulk starts a worker with hold, a trader's workflow whose
// activity runs for work, and once that runs a bulk workflow; it returns
// when the activity ended and when the bulk workflow's task ran.
func runTraderAndBulk(t *testing.T, c client.Client, taskQueue string, hold, work time.Duration) (traderDone, bulkRan time.Time) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	started, ended, ran := make(chan struct{}, 1), make(chan time.Time, 1), make(chan time.Time, 10)
	w := worker.New(c, &activities.Activities{}, worker.Options{TaskQueue: taskQueue, TraderHold: hold})
	w.Interactive.RegisterActivityWithOptions(func(context.Context) error {
		started <- struct{}{}
		time.Sleep(work)
		ended <- time.Now()
		return nil
	}, activity.RegisterOptions{Name: "holdTestTraderWork"})
	w.Interactive.RegisterWorkflowWithOptions(func(ctx workflow.Context) error {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
		return workflow.ExecuteActivity(ctx, "holdTestTraderWork").Get(ctx, nil)
	}, workflow.RegisterOptions{Name: "holdTestTrader"})
	w.Bulk.RegisterWorkflowWithOptions(func(workflow.Context) error {
		ran <- time.Now()
		return nil
	}, workflow.RegisterOptions{Name: "holdTestBulk"})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	trader, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: workflows.InteractiveTaskQueue(taskQueue)}, "holdTestTrader")
	if err != nil {
		t.Fatal(err)
	}
	<-started
	bulk, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: taskQueue}, "holdTestBulk")
	if err != nil {
		t.Fatal(err)
	}
	for _, run := range []client.WorkflowRun{trader, bulk} {
		if err := run.Get(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	return <-ended, <-ran
}
