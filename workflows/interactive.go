package workflows

import (
	"strings"

	"go.temporal.io/sdk/workflow"
)

// interactiveSuffix names a task queue's interactive sibling.
const interactiveSuffix = "-interactive"

// InteractiveTaskQueue is the queue of the accounts traders use beside
// taskQueue, the bulk queue: every worker serves both, each with slots of
// its own, so a backlog of bulk tasks never holds up a trader's.
func InteractiveTaskQueue(taskQueue string) string {
	if IsInteractiveTaskQueue(taskQueue) {
		return taskQueue
	}
	return taskQueue + interactiveSuffix
}

// IsInteractiveTaskQueue says whether taskQueue is an interactive queue.
func IsInteractiveTaskQueue(taskQueue string) bool {
	return strings.HasSuffix(taskQueue, interactiveSuffix)
}

// moveChange (workflow.GetVersion): from version 1 on, an account on the
// bulk queue that receives SignalInteractive continues as new on the
// interactive queue. A history recorded before ignores the signal when
// replayed, as the code that recorded it did.
const moveChange = "move-to-interactive-queue"

// takeMoveRequest reads SignalInteractive: the account moves, at its next
// continue-as-new (when it is idle), to its queue's interactive sibling.
// Several requests are one move; on the interactive queue there is none.
func (r *accountRun) takeMoveRequest() {
	asked := false
	for r.moveCh.ReceiveAsync(nil) {
		asked = true
	}
	current := workflow.GetInfo(r.ctx).TaskQueueName
	if !asked || r.moveTo != "" || IsInteractiveTaskQueue(current) {
		return
	}
	if workflow.GetVersion(r.ctx, moveChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return
	}
	r.moveTo = InteractiveTaskQueue(current)
}

// continueAsNewContext is r.ctx with the account's task timeout (a run
// started by an older build may have another), on the queue the account
// moves to, if any.
func (r *accountRun) continueAsNewContext() workflow.Context {
	ctx := workflow.WithWorkflowTaskTimeout(r.ctx, AccountTaskTimeout)
	if r.moveTo == "" {
		return ctx
	}
	return workflow.WithWorkflowTaskQueue(ctx, r.moveTo)
}
