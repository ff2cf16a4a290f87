package workflows

import (
	"fmt"
	"time"

	"github.com/daytradinginc/daytrader/activities"
	"github.com/daytradinginc/daytrader/trading"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// How a batch's audit records are written (workflow.GetVersion change ID
// auditWriteChange): the audit must hold exactly what the committed history
// did, also when a worker dies mid-task and another retries the task.
const (
	auditWriteChange = "quotes-recorded-before-audit"
	// auditInTask (DefaultVersion): a local activity in the batch's task.
	auditInTask = workflow.DefaultVersion
	// Version 1 (end the task after the quote fetch, then a local activity)
	// never left development and is not supported.
	// auditByActivity: a regular activity, scheduled by the task that ran
	// the batch, so it runs only once that task is in the history, with the
	// records that history implies; its retries reuse the same input.
	auditByActivity workflow.Version = 2
)

func (r *accountRun) auditVersion() workflow.Version {
	return workflow.GetVersion(r.ctx, auditWriteChange, auditInTask, auditByActivity)
}

// record numbers events with this account's audit keys and queues them.
func (r *accountRun) record(evs []trading.Event) {
	for _, ev := range evs {
		r.st.EventSeq++
		ev.Key = r.auditKey(r.st.EventSeq)
		r.unwritten = append(r.unwritten, ev)
	}
}

// auditKey is the key of this account's audit record number seq.
func (r *accountRun) auditKey(seq int64) string {
	return fmt.Sprintf("%s/%s/%d", r.wfID, r.st.ChainID, seq)
}

// flushAudit writes the queued events. It retries until Postgres takes them:
// an account does not move on while its audit is behind, so nothing
// acknowledged can be missing from the history. ctx is r.ctx, or a batch's
// context carrying its update's trace span (batchContext).
func (r *accountRun) flushAudit(ctx workflow.Context) error {
	if len(r.unwritten) == 0 {
		return nil
	}
	var f workflow.Future
	if r.auditVersion() == auditByActivity {
		f = r.writeAuditByActivity(ctx)
	} else {
		f = r.writeAuditInTask(ctx)
	}
	if err := f.Get(r.ctx, nil); err != nil {
		return err
	}
	r.unwritten = nil
	return nil
}

func (r *accountRun) writeAuditByActivity(ctx workflow.Context) workflow.Future {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		// Unlimited retries: during a Postgres outage the account waits
		// (and answers queries); its updates stay unacknowledged.
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 200 * time.Millisecond, BackoffCoefficient: 2,
			MaximumInterval: 5 * time.Second},
	})
	var a *activities.Activities
	return workflow.ExecuteActivity(ctx, a.WriteAudit, activities.AuditRecords(r.unwritten))
}

// writeAuditInTask is how histories recorded before auditByActivity write
// their audit; it is kept so that they replay.
func (r *accountRun) writeAuditInTask(ctx workflow.Context) workflow.Future {
	ctx = workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		// A retry whose backoff is longer than the workflow task timeout
		// (3 s in the runs that write this way) waits on a workflow timer
		// instead of holding the task: during a Postgres outage the account
		// still answers queries, and its updates wait, unacknowledged, for
		// the audit.
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 200 * time.Millisecond, BackoffCoefficient: 2,
			MaximumInterval: 10 * time.Second},
	})
	var a *activities.Activities
	return workflow.ExecuteLocalActivity(ctx, a.WriteAudit, activities.AuditRecords(r.unwritten))
}

// dumpLog writes the user's history, including this command's own record,
// into the dump directory.
func (r *accountRun) dumpLog(cmd trading.Command, res *trading.Result) error {
	if err := r.flushAudit(r.ctx); err != nil {
		return err
	}
	ctx := workflow.WithActivityOptions(r.ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 5},
	})
	var a *activities.Activities
	var out activities.DumpResult
	req := activities.DumpRequest{TxNum: cmd.TxNum, User: r.user, Filename: cmd.Filename}
	if err := workflow.ExecuteActivity(ctx, a.DumpLog, req).Get(ctx, &out); err != nil {
		res.OK = false
		res.Message = "DUMPLOG failed: " + err.Error()
		r.record([]trading.Event{{Type: trading.ErrorEvent, Time: workflow.Now(r.ctx), TxNum: cmd.TxNum, Command: trading.DumpLog,
			User: r.user, Filename: cmd.Filename, Message: res.Message}})
		return nil
	}
	res.Message = fmt.Sprintf("wrote %d records to %s", out.Events, out.Path)
	return nil
}
