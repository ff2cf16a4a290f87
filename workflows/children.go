package workflows

import (
	"slices"
	"time"

	"github.com/daytradinginc/daytrader/trading"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/workflow"
)

// markChildrenDirty schedules a reconcile of Trigger workflows after the
// burst of commands settles (debounced, but never later than MaxChildDelay).
func (r *accountRun) markChildrenDirty(now time.Time) {
	if slices.Equal(r.watchedKeys(), r.desiredTriggers()) && r.pricesMatch() {
		return
	}
	if r.firstDirty.IsZero() {
		r.firstDirty = now
	}
	due := now.Add(r.opts.ChildDebounce)
	if limit := r.firstDirty.Add(r.opts.MaxChildDelay); due.After(limit) {
		due = limit
	}
	r.childrenDue = due
}

// armTimer keeps one timer for the next thing that must happen by itself:
// a pending trade expiring, or the Trigger workflows being reconciled.
func (r *accountRun) armTimer() {
	next := r.st.Account.NextExpiry()
	if !next.IsZero() {
		// Timers fire on whole seconds past the deadline so a burst of trades
		// made within a second shares one timer; the rules already refuse a
		// late COMMIT, so the drop can be a little late without harm.
		next = next.Truncate(time.Second).Add(time.Second)
	}
	if !r.childrenDue.IsZero() && (next.IsZero() || r.childrenDue.Before(next)) {
		next = r.childrenDue
	}
	if next.IsZero() || (!r.timerAt.IsZero() && !next.Before(r.timerAt)) {
		return
	}
	d := next.Sub(workflow.Now(r.ctx))
	if d < time.Millisecond {
		d = time.Millisecond
	}
	r.timerAt = next
	r.timer = workflow.NewTimer(r.ctx, d)
}

// housekeeping runs when the timer fires: drop expired pending trades and
// bring the Trigger workflows in line with the account's triggers.
func (r *accountRun) housekeeping() {
	now := workflow.Now(r.ctx)
	r.record(r.st.Account.ExpirePending(now))
	if !r.childrenDue.IsZero() && !now.Before(r.childrenDue) {
		r.reconcileChildren()
		r.childrenDue, r.firstDirty = time.Time{}, time.Time{}
	}
	r.st.Account.ForgetStaleQuotes(now)
	if err := r.flushAudit(r.ctx); err != nil {
		workflow.GetLogger(r.ctx).Error("audit flush failed; will retry with the next batch", "err", err)
	}
}

func (r *accountRun) desiredTriggers() []trading.TriggerKey { return r.st.Account.Triggers() }

func (r *accountRun) watchedKeys() []trading.TriggerKey {
	keys := make([]trading.TriggerKey, len(r.st.Watched))
	for i, w := range r.st.Watched {
		keys[i] = w.Key
	}
	return keys
}

func (r *accountRun) pricesMatch() bool {
	for _, w := range r.st.Watched {
		if p, ok := r.st.Account.TriggerPrice(w.Key); !ok || !p.Equal(w.Price) {
			return false
		}
	}
	return true
}

// reconcileChildren starts a Trigger workflow for each new trigger, tells a
// running one about a changed price, and cancels those whose trigger is gone
// (executed or cancelled). Children are abandoned on continue-as-new and
// addressed by workflow ID, so they outlive any one run of the account.
func (r *accountRun) reconcileChildren() {
	kept := r.updateWatchers()
	for _, k := range r.desiredTriggers() {
		if slices.ContainsFunc(kept, func(w WatchedTrigger) bool { return w.Key == k }) {
			continue
		}
		kept = append(kept, r.startWatcher(k))
	}
	r.st.Watched = kept
}

// updateWatchers cancels the watchers whose trigger is gone, reprices those
// whose trigger price changed, and returns the ones still needed.
func (r *accountRun) updateWatchers() []WatchedTrigger {
	var kept []WatchedTrigger
	for _, w := range r.st.Watched {
		price, ok := r.st.Account.TriggerPrice(w.Key)
		id := TriggerWorkflowID(r.user, w.Key)
		if !ok {
			r.async("cancel trigger workflow", workflow.RequestCancelExternalWorkflow(r.ctx, id, ""))
			continue
		}
		if !price.Equal(w.Price) {
			r.async("reprice trigger workflow", workflow.SignalExternalWorkflow(r.ctx, id, "", SignalReprice, price))
			w.Price = price
		}
		kept = append(kept, w)
	}
	return kept
}

// startWatcher starts the Trigger workflow of k.
func (r *accountRun) startWatcher(k trading.TriggerKey) WatchedTrigger {
	price, _ := r.st.Account.TriggerPrice(k)
	// Disconnected: ending this run (continue-as-new) must not cancel
	// the watcher; it is abandoned and found again by its ID.
	dctx, _ := workflow.NewDisconnectedContext(r.ctx)
	cctx := workflow.WithChildOptions(dctx, workflow.ChildWorkflowOptions{
		WorkflowID:            TriggerWorkflowID(r.user, k),
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
	})
	child := workflow.ExecuteChildWorkflow(cctx, TriggerWorkflowType, TriggerInput{
		User: r.user, Key: k, Price: price, CheckEvery: r.opts.TriggerCheckEvery,
	})
	r.async("start trigger workflow", child.GetChildWorkflowExecution())
	return WatchedTrigger{Key: k, Price: price}
}

// async waits for a fire-and-forget command in the background and logs a
// failure; the account never blocks on its children.
func (r *accountRun) async(what string, f workflow.Future) {
	workflow.Go(r.ctx, func(ctx workflow.Context) {
		if err := f.Get(ctx, nil); err != nil {
			workflow.GetLogger(ctx).Info(what+" did not complete", "err", err)
		}
	})
}
