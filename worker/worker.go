// Package worker runs DayTrader's workflows and activities on a task queue.
// Any number of worker processes may serve the same queue: Temporal spreads
// the accounts over them.
package worker

import (
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
	// at once; local activities (quotes, audit writes) run inside them.
	WorkflowTaskPollers    int
	MaxConcurrentWorkflows int
	MaxConcurrentLocalActs int
	MaxCachedWorkflows     int
	// Account tunes the account and trigger workflows this worker runs
	// (zero: workflows.DefaultAccountOptions()); tests shorten intervals.
	Account workflows.AccountOptions
}

// New creates a worker with DayTrader registered on it. Start it with Run or
// Start; stop it with Stop.
func New(c client.Client, acts *activities.Activities, opts Options) sdkworker.Worker {
	if opts.TaskQueue == "" {
		opts.TaskQueue = workflows.TaskQueue
	}
	if opts.WorkflowTaskPollers == 0 {
		opts.WorkflowTaskPollers = 8
	}
	if opts.MaxConcurrentWorkflows == 0 {
		opts.MaxConcurrentWorkflows = 256
	}
	if opts.MaxConcurrentLocalActs == 0 {
		opts.MaxConcurrentLocalActs = 1000
	}
	if opts.MaxCachedWorkflows > 0 {
		// The sticky cache keeps account workflows in memory between tasks,
		// so a batch does not replay the account's history. Process-wide.
		sdkworker.SetStickyWorkflowCacheSize(opts.MaxCachedWorkflows)
	}
	w := sdkworker.New(c, opts.TaskQueue, sdkworker.Options{
		MaxConcurrentWorkflowTaskPollers:        opts.WorkflowTaskPollers,
		MaxConcurrentWorkflowTaskExecutionSize:  opts.MaxConcurrentWorkflows,
		MaxConcurrentLocalActivityExecutionSize: opts.MaxConcurrentLocalActs,
		MaxConcurrentActivityTaskPollers:        4,
	})
	Register(w, acts, opts.Account)
	return w
}
