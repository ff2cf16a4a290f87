// Package worker runs DayTrader's workflows and activities on its task
// queues. Any number of worker processes may serve the same queues: Temporal
// spreads the accounts over them.
package worker

import (
	"cmp"
	"errors"
	"time"

	"github.com/daytradinginc/daytrader/activities"
	"github.com/daytradinginc/daytrader/workflows"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Register puts every workflow and activity of DayTrader on w, the account
// and trigger workflows bound to account (zero: the production defaults).
func Register(w sdkworker.Registry, acts *activities.Activities, account workflows.AccountOptions) {
	wfs := workflows.NewWorkflows(account)
	w.RegisterWorkflowWithOptions(wfs.Account, workflow.RegisterOptions{Name: workflows.AccountWorkflowType})
	w.RegisterWorkflowWithOptions(wfs.Trigger, workflow.RegisterOptions{Name: workflows.TriggerWorkflowType})
	w.RegisterWorkflowWithOptions(workflows.DumpLog, workflow.RegisterOptions{Name: workflows.DumpLogWorkflowType})
	w.RegisterActivity(acts)
}

// Options are the worker's tuning knobs; the defaults suit a 2-core machine
// running the whole stack.
type Options struct {
	TaskQueue string
	// WorkflowTaskPollers and concurrency bound how many account batches run
	// at once on the bulk queue; local activities (quotes) run inside them.
	WorkflowTaskPollers    int
	MaxConcurrentWorkflows int
	MaxConcurrentLocalActs int
	MaxCachedWorkflows     int
	// InteractiveWorkflowTaskPollers poll the interactive queue (and its
	// sticky queue) for workflow tasks.
	InteractiveWorkflowTaskPollers int
	// InteractiveMaxConcurrentWorkflows bounds the workflow tasks (and,
	// as many, activities) run at once for the accounts of the interactive
	// queue: slots of their own, which bulk tasks never take.
	InteractiveMaxConcurrentWorkflows int
	// InteractiveActs are the activities of the interactive queue (nil:
	// the bulk queue's): with an audit store on a connection pool of its
	// own, a trader's audit write does not wait for a connection behind
	// the bulk's.
	InteractiveActs *activities.Activities
	// TraderHold: a bulk task waits to start while a task of the
	// interactive queue runs and for TraderHold after (traderGate; 0:
	// bulk tasks never wait).
	TraderHold time.Duration
	// TraderSlots: while a trader trades (a task of the interactive queue
	// ran in the last 30 s), the bulk queue runs at most TraderSlots
	// workflow tasks at once instead of MaxConcurrentWorkflows
	// (fewerWhileTrading; 0: as many as ever).
	TraderSlots int
	// Account tunes the account and trigger workflows this worker runs
	// (zero: workflows.DefaultAccountOptions()); tests shorten intervals.
	Account workflows.AccountOptions
}

// Worker serves both of DayTrader's task queues in one process: the bulk
// queue (TaskQueue) and the interactive one
// (workflows.InteractiveTaskQueue), each with its own pollers and slots,
// so that a backlog of bulk tasks never holds up a trader's.
type Worker struct {
	Bulk, Interactive sdkworker.Worker
}

// New creates a worker with DayTrader registered on both queues. Start it
// with Start; stop it with Stop.
func New(c client.Client, acts *activities.Activities, opts Options) *Worker {
	opts = withDefaults(opts)
	if opts.MaxCachedWorkflows > 0 {
		// The sticky cache keeps account workflows in memory between tasks,
		// so a batch does not replay the account's history. Process-wide.
		sdkworker.SetStickyWorkflowCacheSize(opts.MaxCachedWorkflows)
	}
	var gate *traderGate
	if opts.TraderHold > 0 || opts.TraderSlots > 0 {
		gate = newTraderGate(opts.TraderHold)
	}
	bulk := sdkworker.New(c, opts.TaskQueue, sdkworker.Options{
		MaxConcurrentWorkflowTaskPollers: opts.WorkflowTaskPollers,
		MaxConcurrentActivityTaskPollers: 4,
		Tuner: tuner(gate, false, slotCounts{opts.MaxConcurrentWorkflows, bulkActivitySlots,
			opts.MaxConcurrentLocalActs, opts.TraderSlots, opts.WorkflowTaskPollers}),
	})
	n := opts.InteractiveMaxConcurrentWorkflows
	interactive := sdkworker.New(c, workflows.InteractiveTaskQueue(opts.TaskQueue), sdkworker.Options{
		// A poller takes one task per round trip, and a trader's command
		// is two workflow tasks and a summary query: with 8, twenty traders'
		// tasks waited 36-41 ms (p50) for one, with 32 4-5 ms (README,
		// "Pollers for the traders").
		MaxConcurrentWorkflowTaskPollers: opts.InteractiveWorkflowTaskPollers,
		MaxConcurrentActivityTaskPollers: 2,
		Tuner:                            tuner(gate, true, slotCounts{n, n, n, 0, opts.InteractiveWorkflowTaskPollers}),
	})
	Register(bulk, acts, opts.Account)
	Register(interactive, cmp.Or(opts.InteractiveActs, acts), opts.Account)
	return &Worker{Bulk: bulk, Interactive: interactive}
}

func withDefaults(opts Options) Options {
	if opts.TaskQueue == "" {
		opts.TaskQueue = workflows.TaskQueue
	}
	if opts.WorkflowTaskPollers == 0 {
		opts.WorkflowTaskPollers = 8
	}
	if opts.MaxConcurrentWorkflows == 0 {
		opts.MaxConcurrentWorkflows = 32
	}
	if opts.MaxConcurrentLocalActs == 0 {
		opts.MaxConcurrentLocalActs = 1000
	}
	if opts.InteractiveWorkflowTaskPollers == 0 {
		opts.InteractiveWorkflowTaskPollers = 32
	}
	if opts.InteractiveMaxConcurrentWorkflows == 0 {
		opts.InteractiveMaxConcurrentWorkflows = 64
	}
	return opts
}

// Start starts polling both queues.
func (w *Worker) Start() error {
	if err := w.Interactive.Start(); err != nil {
		return err
	}
	if err := w.Bulk.Start(); err != nil {
		w.Interactive.Stop()
		return errors.Join(errors.New("starting the bulk queue's worker"), err)
	}
	return nil
}

// Stop stops both.
func (w *Worker) Stop() {
	w.Bulk.Stop()
	w.Interactive.Stop()
}
