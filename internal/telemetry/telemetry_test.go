package telemetry

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/internal/telemetry/telemetrytest"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.temporal.io/sdk/client"
)

// TestTemporalMetricsReachTheRegistry: what the SDK reports through the
// handler (a counter, a timer, a gauge) is scraped from the Telemetry's own
// registry in the Prometheus format: counters as _total, timers as
// histograms in seconds with buckets that fit seconds.
func TestTemporalMetricsReachTheRegistry(t *testing.T) {
	tel := newTelemetry(t, Options{})
	var o client.Options
	if err := tel.ClientOptions(&o); err != nil {
		t.Fatal(err)
	}
	if len(o.Interceptors) != 0 {
		t.Errorf("tracing is off, yet %d interceptors were added", len(o.Interceptors))
	}
	h := o.MetricsHandler.WithTags(map[string]string{"operation": "StartWorkflowExecution"})
	h.Counter("temporal_request").Inc(3)
	h.Timer("temporal_request_latency").Record(30 * time.Millisecond)
	h.Gauge("temporal_num_pollers").Update(2)

	families := telemetrytest.Scrape(t, tel.Handler())
	if got := families.Sum(t, "temporal_request_total", map[string]string{"operation": "StartWorkflowExecution"}); got != 3 {
		t.Errorf("temporal_request_total = %v, want 3", got)
	}
	if got := families.Sum(t, "temporal_num_pollers", nil); got != 2 {
		t.Errorf("temporal_num_pollers = %v, want 2", got)
	}
	hist := families.Histogram(t, "temporal_request_latency_seconds", nil)
	if hist.GetSampleCount() != 1 || hist.GetSampleSum() < 0.029 || hist.GetSampleSum() > 0.031 {
		t.Errorf("temporal_request_latency_seconds: count %d sum %v, want one 0.03 s sample", hist.GetSampleCount(), hist.GetSampleSum())
	}
	for _, b := range hist.GetBucket() {
		// 30 ms is above the 20 ms bound and within the 50 ms one.
		if want := uint64(0); b.GetUpperBound() == 0.02 && b.GetCumulativeCount() != want ||
			b.GetUpperBound() == 0.05 && b.GetCumulativeCount() != 1 {
			t.Errorf("bucket le=%v holds %d", b.GetUpperBound(), b.GetCumulativeCount())
		}
	}
	if families.Sum(t, "go_goroutines", nil) < 1 {
		t.Error("no Go runtime metrics")
	}
}

// TestTracingOnlyWhenAsked: off by default; on with an exporter the Temporal client
// gets the tracing interceptor, and spans reach the exporter.
func TestTracingOnlyWhenAsked(t *testing.T) {
	if tel := newTelemetry(t, Options{}); tel.Tracing() {
		t.Error("tracing on without an endpoint or exporter")
	}
	spans := tracetest.NewInMemoryExporter()
	tel := newTelemetry(t, Options{Service: "daytrader-test", SpanExporter: spans})
	var o client.Options
	if err := tel.ClientOptions(&o); err != nil {
		t.Fatal(err)
	}
	if !tel.Tracing() || len(o.Interceptors) != 1 {
		t.Fatalf("tracing %v with %d interceptors, want on with the SDK's tracing interceptor", tel.Tracing(), len(o.Interceptors))
	}
	_, span := tel.Tracer.Tracer("test").Start(context.Background(), "work")
	span.End()
	got := spans.GetSpans()
	if len(got) != 1 || got[0].Name != "work" {
		t.Fatalf("exported %v, want the span work", got)
	}
	if svc, _ := got[0].Resource.Set().Value("service.name"); svc.AsString() != "daytrader-test" {
		t.Errorf("service.name %q", svc.AsString())
	}
}

// TestOTLPEndpointStartsLazily: an endpoint with no collector behind it
// does not stop the process (spans are dropped, requests are not).
func TestOTLPEndpointStartsLazily(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close() // nothing listens there now
	tel := newTelemetry(t, Options{Service: "x", OTLPEndpoint: addr})
	if !tel.Tracing() {
		t.Fatal("tracing off with an endpoint")
	}
	_, span := tel.Tracer.Tracer("test").Start(context.Background(), "lost")
	span.End()
}

func newTelemetry(t *testing.T, opts Options) *Telemetry {
	t.Helper()
	tel, err := New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = tel.Close(ctx)
	})
	return tel
}
