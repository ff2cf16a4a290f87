package probe

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
)

// Stages of an update to an account, from its history's event times: the
// workflow task that runs the command waits for a worker (queue) and runs
// (task: the rules, then the server records the task), the audit activity
// it schedules runs (audit: scheduled to completed, so its wait for a
// worker too), the next workflow task waits (queue after audit) and runs
// (answer: it completes the update).
var Stages = []string{"queue", "task", "audit", "queue after audit", "answer"}

// StageReport is how long the traders' updates spent in each of Stages.
type StageReport struct {
	Updates int                `json:"updates"`
	Stages  map[string]Latency `json:"stages"`
}

func (r StageReport) String() string {
	s := fmt.Sprintf("%d updates, p50/p99 ms:", r.Updates)
	for _, name := range Stages {
		l := r.Stages[name]
		s += fmt.Sprintf(" %s %.0f/%.0f,", name, l.P50ms, l.P99ms)
	}
	return s[:len(s)-1]
}

// UpdateStages reads the histories of the given workflows and measures the
// stages of every update that completed in them after the first skip of
// each (a trader's setup).
func UpdateStages(ctx context.Context, cl client.Client, workflowIDs []string, skip int) (StageReport, error) {
	took := make([][]time.Duration, len(Stages))
	n := 0
	for _, id := range workflowIDs {
		it := cl.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		var w stageWalk
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				return StageReport{}, fmt.Errorf("history of %s: %w", id, err)
			}
			if d, ok := w.step(ev); ok && w.done > skip {
				n++
				for i := range d {
					took[i] = append(took[i], d[i])
				}
			}
		}
	}
	rep := StageReport{Updates: n, Stages: map[string]Latency{}}
	for i, name := range Stages {
		rep.Stages[name] = latencyOf(took[i])
	}
	return rep, nil
}

// stageWalk follows one history: the latest workflow task's times, and
// those of the update being run.
type stageWalk struct {
	sched, started, completed time.Time // the latest workflow task
	accepted                  bool      // an update is between acceptance and completion
	task                      [3]time.Time
	actSched, actDone         time.Time
	done                      int // updates completed so far
}

// step takes the next event; at an update's completion it returns its
// stages.
func (w *stageWalk) step(ev *historypb.HistoryEvent) ([]time.Duration, bool) {
	at := ev.GetEventTime().AsTime()
	switch ev.GetEventType() {
	case enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
		w.sched = at
	case enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED:
		w.started = at
	case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
		w.completed = at
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
		w.accepted, w.task = true, [3]time.Time{w.sched, w.started, w.completed}
		w.actSched, w.actDone = time.Time{}, time.Time{}
	case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
		if w.accepted && w.actSched.IsZero() {
			w.actSched = at
		}
	case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
		if w.accepted && w.actDone.IsZero() {
			w.actDone = at
		}
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
		if !w.accepted || w.actDone.IsZero() {
			w.accepted = false
			return nil, false // answered without an audit write (a duplicate)
		}
		w.accepted = false
		w.done++
		return []time.Duration{w.task[1].Sub(w.task[0]), w.task[2].Sub(w.task[1]), w.actDone.Sub(w.actSched),
			w.started.Sub(w.sched), w.completed.Sub(w.started)}, true
	}
	return nil, false
}
