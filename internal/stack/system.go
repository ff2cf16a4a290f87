package stack

import (
	"context"
	"time"

	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/quotes"
	"github.com/daytradinginc/daytrader/trading"
	"github.com/daytradinginc/daytrader/web"
	"github.com/daytradinginc/daytrader/workflows"
	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
)

// systemSource answers the administrators' System page: commands and
// legacy quotes from the audit (every worker's), the task queue's backlog
// from Temporal, and the quote cache of this process's worker (nil when it
// runs none: each worker has its own cache).
type systemSource struct {
	audit                *audit.Store
	client               client.Client
	namespace, taskQueue string
	cache                *quotes.Cache
}

// recentErrors is how many errorEvents the System page lists.
const recentErrors = 10

// Snapshot reads every part; one that fails says why and the others are
// still shown.
func (s *systemSource) Snapshot(ctx context.Context, now time.Time) web.SystemSnapshot {
	snap := web.SystemSnapshot{At: now}
	// Whole intervals only, ending a second ago: a command applied just
	// before the end may still be on its way to the audit.
	end := now.Add(-time.Second).Truncate(web.SystemInterval)
	var err error
	if snap.Commands, err = s.audit.CountByInterval(ctx, trading.UserCommandEvent, end.Add(-web.SystemWindow), end, web.SystemInterval); err == nil {
		var hits []audit.Bucket
		hits, err = s.audit.CountByInterval(ctx, trading.QuoteServerEvent, end.Add(-time.Minute), end, time.Minute)
		if err == nil {
			snap.LegacyHits = hits[0].Count
		}
	}
	if err != nil {
		snap.AuditErr = "The audit cannot be read right now: " + err.Error()
	}
	if snap.Backlog, err = s.backlog(ctx); err != nil {
		snap.BacklogErr = "Temporal cannot be asked right now: " + err.Error()
	}
	if s.cache != nil {
		stats := s.cache.Stats()
		snap.QuoteCache = &stats
	}
	if snap.Errors, err = s.audit.RecentErrors(ctx, recentErrors); err != nil {
		snap.ErrorsErr = "The errors cannot be read right now: " + err.Error()
	}
	return snap
}

// backlog asks Temporal how many workflow tasks (account batches) and
// activity tasks (audit writes, DUMPLOGs) wait in the bulk task queue and in
// the traders' (workflows.InteractiveTaskQueue), and how long the oldest of
// each has waited. Temporal's counts are approximate, and tasks on a
// worker's sticky queue are not in them (a busy worker's tasks move back to
// the queue after five seconds).
func (s *systemSource) backlog(ctx context.Context) ([]web.Backlog, error) {
	var out []web.Backlog
	for _, q := range []struct{ name, queue string }{
		{"", s.taskQueue}, {web.InteractiveQueue, workflows.InteractiveTaskQueue(s.taskQueue)},
	} {
		for _, kind := range []struct {
			name string
			typ  enumspb.TaskQueueType
		}{{"workflow", enumspb.TASK_QUEUE_TYPE_WORKFLOW}, {"activity", enumspb.TASK_QUEUE_TYPE_ACTIVITY}} {
			resp, err := s.client.WorkflowService().DescribeTaskQueue(ctx, &workflowservice.DescribeTaskQueueRequest{
				Namespace:     s.namespace,
				TaskQueue:     &taskqueuepb.TaskQueue{Name: q.queue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
				TaskQueueType: kind.typ,
				ReportStats:   true,
			})
			if err != nil {
				return nil, err
			}
			stats := resp.GetStats()
			out = append(out, web.Backlog{Queue: q.name, Kind: kind.name, Tasks: stats.GetApproximateBacklogCount(),
				Oldest: stats.GetApproximateBacklogAge().AsDuration()})
		}
	}
	return out, nil
}
