package e2e

import (
	"context"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/internal/probe"
	"github.com/daytradinginc/daytrader/internal/stacktest"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// TestOneWebCommandIsOneTrace turns tracing on (an in-memory exporter
// instead of an OTLP collector) and follows a web command that is not the
// account's first: its HTTP request's span is the root of one trace that
// holds the Temporal update, the workflow's handling of it and the batch's
// activities (the quote fetch and the audit write), each where it ran.
// Before, the batch's activities joined the trace of the request that had
// opened the account.
func TestOneWebCommandIsOneTrace(t *testing.T) {
	spans := tracetest.NewInMemoryExporter()
	dev := stacktest.Start(t, stacktest.Options{Web: true, SpanExporter: spans})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	trader, err := probe.Register(ctx, dev.WebURL, "tracy", "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	for _, form := range []url.Values{{"command": {"ADD"}, "amount": {"100"}}, {"command": {"QUOTE"}, "symbol": {"ABC"}}} {
		if _, err := trader.Command(ctx, form); err != nil {
			t.Fatal(err)
		}
	}
	// The worker's spans end as their tasks complete, moments after the
	// answer; wait for the quote's audit write to be reported.
	var quote []sdktrace.ReadOnlySpan
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		quote = lastTrace(spans.GetSpans().Snapshots(), "POST /commands")
		if hasSpan(quote, "RunActivity:WriteAudit") || time.Now().After(deadline) {
			break
		}
	}
	byName := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range quote {
		byName[s.Name()] = s
	}
	root := byName["POST /commands"]
	if root == nil || root.Parent().IsValid() || root.SpanKind() != trace.SpanKindServer {
		t.Fatalf("no root server span POST /commands; trace: %v", names(quote))
	}
	// Each span's parent, by name, up to the request.
	for child, parent := range map[string]string{
		"UpdateWithStartWorkflow:execute": "POST /commands",
		"HandleUpdate:execute":            "UpdateWithStartWorkflow:execute",
		"StartActivity:GetQuotesV2":       "HandleUpdate:execute",
		"RunActivity:GetQuotesV2":         "StartActivity:GetQuotesV2",
		"StartActivity:WriteAudit":        "HandleUpdate:execute",
		"RunActivity:WriteAudit":          "StartActivity:WriteAudit",
	} {
		c, p := byName[child], byName[parent]
		if c == nil || p == nil {
			t.Errorf("%s or %s missing from the command's trace %v", child, parent, names(quote))
			continue
		}
		if c.Parent().SpanID() != p.SpanContext().SpanID() {
			t.Errorf("%s's parent is not %s", child, parent)
		}
	}
}

// lastTrace is every span of the trace of the last span named root.
func lastTrace(all []sdktrace.ReadOnlySpan, root string) []sdktrace.ReadOnlySpan {
	var last sdktrace.ReadOnlySpan
	for _, s := range all {
		if s.Name() == root && (last == nil || s.StartTime().After(last.StartTime())) {
			last = s
		}
	}
	var out []sdktrace.ReadOnlySpan
	for _, s := range all {
		if last != nil && s.SpanContext().TraceID() == last.SpanContext().TraceID() {
			out = append(out, s)
		}
	}
	return out
}

func hasSpan(spans []sdktrace.ReadOnlySpan, name string) bool {
	return slices.ContainsFunc(spans, func(s sdktrace.ReadOnlySpan) bool { return s.Name() == name })
}

func names(spans []sdktrace.ReadOnlySpan) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name())
	}
	return out
}
