package workflows

import "go.temporal.io/sdk/workflow"

// traceSpanKey is the type of TraceSpanKey.
type traceSpanKey struct{}

// TraceSpanKey is the workflow context key under which the Temporal SDK's
// tracing interceptor keeps the current span (its SpanContextKey, set by
// the telemetry package when tracing is on). An update's handler finds its
// HandleUpdate span there.
var TraceSpanKey any = traceSpanKey{}

// batchContext is the context a batch's activities (quotes, audit write)
// run under: the account's, carrying the trace span of the batch's first
// update when there is one. The batch is run by the account's main loop,
// not by the update's handler, so without it a web command's trace would
// stop at its update, and the activities would join the trace of whoever
// started the workflow. Without tracing no update has a span and this is
// r.ctx; a context value makes no command, so replay is unaffected.
func (r *accountRun) batchContext(batch []queued) workflow.Context {
	for _, q := range batch {
		if q.wait != nil && q.wait.span != nil {
			return workflow.WithValue(r.ctx, TraceSpanKey, q.wait.span)
		}
	}
	return r.ctx
}
