package e2e

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/activities"
	"github.com/daytradinginc/daytrader/internal/stacktest"
	"github.com/daytradinginc/daytrader/worker"
	"github.com/daytradinginc/daytrader/workflows"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"
)

// TestWorkerRunsFewerBulkTasksWhileTrading runs DayTrader's worker on the
// embedded server and six bulk workflows at once, each holding its
// workflow task for a while: with TraderSlots 2 no more than two run at a
// time after a trader's task, and more do when nobody has traded or
// without TraderSlots.
func TestWorkerRunsFewerBulkTasksWhileTrading(t *testing.T) {
	dev := stacktest.Start(t, stacktest.Options{NoWorker: true})
	for _, tc := range []struct {
		name          string
		slots         int
		trader        bool
		wantAtMostTwo bool
	}{
		{"a trader traded, TraderSlots 2: two at a time", 2, true, true},
		{"nobody traded, TraderSlots 2: more", 2, false, false},
		{"a trader traded, TraderSlots 0: more", 0, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			most := mostBulkTasksAtOnce(t, dev.Client, dev.Config.TaskQueue, tc.slots, tc.trader)
			if tc.wantAtMostTwo != (most <= 2) {
				t.Errorf("%d bulk workflow tasks ran at once", most)
			}
		})
	}
}

// mostBulkTasksAtOnce starts a worker with TraderSlots slots, runs a
// trader's workflow to its end if trader, then six bulk workflows whose
// task each takes 150 ms; it returns how many of those tasks ran at once
// at most.
func mostBulkTasksAtOnce(t *testing.T, c client.Client, taskQueue string, slots int, trader bool) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var mu sync.Mutex
	running, most := 0, 0
	w := worker.New(c, &activities.Activities{}, worker.Options{TaskQueue: taskQueue, TraderSlots: slots})
	w.Interactive.RegisterWorkflowWithOptions(func(workflow.Context) error { return nil },
		workflow.RegisterOptions{Name: "slotsTestTrader"})
	w.Bulk.RegisterWorkflowWithOptions(func(workflow.Context) error {
		mu.Lock()
		running++
		most = max(most, running)
		mu.Unlock()
		time.Sleep(150 * time.Millisecond) // the task's work: test code, not replayed
		mu.Lock()
		running--
		mu.Unlock()
		return nil
	}, workflow.RegisterOptions{Name: "slotsTestBulk"})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if trader {
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: workflows.InteractiveTaskQueue(taskQueue)}, "slotsTestTrader")
		if err == nil {
			err = run.Get(ctx, nil)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	var runs []client.WorkflowRun
	for range 6 {
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: taskQueue}, "slotsTestBulk")
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, run)
	}
	for _, run := range runs {
		if err := run.Get(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	return most
}
