// Package ceiling measures the most a workload could get through Temporal
// on a stack: the same file, batches, concurrency and signal payloads as
// `workload run`, sent to workflows that only count the commands they are
// given. What the real accounts reach is then read as a share of this.
package ceiling

import (
	"context"
	"fmt"
	"time"

	"github.com/daytradinginc/daytrader/activities"
	"github.com/daytradinginc/daytrader/trading"
	"github.com/daytradinginc/daytrader/workflows"
	"github.com/daytradinginc/daytrader/workloads"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"golang.org/x/sync/errgroup"
)

// TaskQueue is where the counting workflows run, apart from the accounts.
const TaskQueue = "daytrader-ceiling"

// WorkflowID is the counting workflow of one user.
func WorkflowID(user string) string { return "ceiling-" + user }

// Count takes the account's signal (the same name and payload) and returns
// once it has counted expected commands.
func Count(ctx workflow.Context, expected int64) (int64, error) {
	ch := workflow.GetSignalChannel(ctx, workflows.SignalCommands)
	var n int64
	for n < expected {
		var cmds []trading.Command
		ch.Receive(ctx, &cmds)
		n += int64(len(cmds))
	}
	return n, nil
}

// Register puts Count on w.
func Register(w worker.Registry) {
	w.RegisterWorkflow(Count)
}

// Report is a ceiling run.
type Report struct {
	File              string  `json:"file,omitempty"`
	Users             int     `json:"users"`
	Commands          int64   `json:"commands"`
	Batches           int64   `json:"batches"`
	WallSeconds       float64 `json:"wallSeconds"` // first send to the last workflow done
	CommandsPerSecond float64 `json:"commandsPerSecond"`
	PeakRSSMiB        float64 `json:"peakRssMiB,omitempty"` // set by the caller that knows the process
}

// sender is a workloads.Sender to the counting workflows.
type sender struct {
	cl       client.Client
	expected map[string]int64
}

func (s *sender) Send(ctx context.Context, user string, cmds []trading.Command) error {
	_, err := s.cl.SignalWithStartWorkflow(ctx, WorkflowID(user), workflows.SignalCommands, cmds,
		client.StartWorkflowOptions{ID: WorkflowID(user), TaskQueue: TaskQueue}, Count, s.expected[user])
	return err
}

func (s *sender) RunGlobalDumpLog(context.Context, int64, string) (activities.DumpResult, error) {
	return activities.DumpResult{}, fmt.Errorf("the ceiling runs no DUMPLOG")
}

// Run sends src's commands to counting workflows on cl (a worker must
// poll TaskQueue) as `workload run` would send them to the accounts, and
// waits until every workflow has counted its last command.
func Run(ctx context.Context, cl client.Client, src workloads.Source, opts workloads.RunOptions) (*Report, error) {
	expected, err := workloads.CommandsByUser(src)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	stats, err := workloads.Stream(ctx, src, &sender{cl: cl, expected: expected}, opts)
	if err != nil {
		return nil, err
	}
	if err := waitAll(ctx, cl, expected); err != nil {
		return nil, err
	}
	wall := time.Since(start).Seconds()
	return &Report{File: opts.File, Users: len(expected), Commands: stats.Sent, Batches: stats.Batches,
		WallSeconds: wall, CommandsPerSecond: float64(stats.Sent) / wall}, nil
}

// waitAll waits for every counting workflow's result and checks its count.
func waitAll(ctx context.Context, cl client.Client, expected map[string]int64) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(64)
	for user, want := range expected {
		g.Go(func() error {
			var got int64
			if err := cl.GetWorkflow(ctx, WorkflowID(user), "").Get(ctx, &got); err != nil {
				return fmt.Errorf("counting workflow of %s: %w", user, err)
			}
			if got != want {
				return fmt.Errorf("counting workflow of %s counted %d commands, want %d", user, got, want)
			}
			return nil
		})
	}
	return g.Wait()
}
