// Package telemetry is what a DayTrader process reports about itself: a
// Prometheus registry of its own (Go runtime, process, DayTrader's metrics
// and the Temporal SDK's), and, when an OTLP endpoint is configured,
// OpenTelemetry traces of web requests, workflow updates and activities.
//
// Each process (and each stack a test starts) has its own Telemetry, so
// nothing is registered in a package-level default registry and tests never
// see each other's counts.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/daytradinginc/daytrader/workflows"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
)

// Options configure a Telemetry.
type Options struct {
	// Service names the process in traces (service.name): daytrader-web, ...
	Service string
	// OTLPEndpoint is an OTLP/gRPC collector URL (http://host:4317 or
	// https://...); empty: no traces are exported.
	OTLPEndpoint string
	// SpanExporter, when set, receives every span synchronously instead of
	// an OTLP endpoint (tests use tracetest's in-memory exporter).
	SpanExporter sdktrace.SpanExporter
}

// Telemetry is one process's metrics registry and tracer.
type Telemetry struct {
	// Registry holds every metric the process serves on /metrics.
	Registry *prometheus.Registry
	// Tracer makes spans; a no-op tracer when tracing is off.
	Tracer trace.TracerProvider

	temporalMetrics client.MetricsHandler
	tracing         bool
	closers         []func(context.Context) error
}

// New builds a process's telemetry. Close flushes and stops it.
func New(ctx context.Context, opts Options) (_ *Telemetry, err error) {
	t := &Telemetry{Registry: prometheus.NewRegistry(), Tracer: noop.NewTracerProvider()}
	defer func() {
		if err != nil {
			_ = t.Close(context.Background())
		}
	}()
	t.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if t.temporalMetrics, err = t.newTemporalMetrics(); err != nil {
		return nil, err
	}
	if err := t.startTracing(ctx, opts); err != nil {
		return nil, err
	}
	return t, nil
}

// Handler serves the registry in the Prometheus exposition format.
func (t *Telemetry) Handler() http.Handler {
	return promhttp.HandlerFor(t.Registry, promhttp.HandlerOpts{Registry: t.Registry})
}

// Tracing reports whether spans are exported.
func (t *Telemetry) Tracing() bool { return t.tracing }

// secondsBuckets suit the SDK's latencies (timers are recorded in
// seconds): 1 ms to about 33 s. OpenTelemetry's default buckets (0 to
// 10,000) assume milliseconds and would put every latency in the first.
var secondsBuckets = []float64{0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 33}

// newTemporalMetrics is the SDK's metrics handler: the SDK's counters,
// gauges and timers go to an OpenTelemetry meter whose Prometheus exporter
// registers them in t.Registry (temporal_request_total,
// temporal_workflow_task_schedule_to_start_latency_seconds, ...).
func (t *Telemetry) newTemporalMetrics() (client.MetricsHandler, error) {
	exporter, err := otelprom.New(otelprom.WithRegisterer(t.Registry), otelprom.WithoutScopeInfo(), otelprom.WithoutTargetInfo())
	if err != nil {
		return nil, fmt.Errorf("temporal metrics exporter: %w", err)
	}
	seconds := sdkmetric.NewView(sdkmetric.Instrument{Kind: sdkmetric.InstrumentKindHistogram, Unit: "s"},
		sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{Boundaries: secondsBuckets}})
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter), sdkmetric.WithView(seconds))
	t.closers = append(t.closers, provider.Shutdown)
	return temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
		Meter:                provider.Meter("temporal-sdk-go"),
		UseMonotonicCounters: true, // counters, not gauges, in Prometheus
	}), nil
}

// startTracing sets t.Tracer up when opts ask for traces.
func (t *Telemetry) startTracing(ctx context.Context, opts Options) error {
	var export sdktrace.TracerProviderOption
	switch {
	case opts.SpanExporter != nil:
		export = sdktrace.WithSyncer(opts.SpanExporter)
	case opts.OTLPEndpoint != "":
		exporter, err := otlpExporter(ctx, opts.OTLPEndpoint)
		if err != nil {
			return err
		}
		export = sdktrace.WithBatcher(exporter)
	default:
		return nil
	}
	res := resource.NewSchemaless(attribute.String("service.name", opts.Service))
	provider := sdktrace.NewTracerProvider(export, sdktrace.WithResource(res))
	t.closers = append(t.closers, provider.Shutdown)
	t.Tracer, t.tracing = provider, true
	return nil
}

// ClientOptions puts the SDK's metrics handler and, with tracing on, the
// tracing interceptor on a Temporal client's options. A worker made from
// that client inherits both, so one web command's trace continues through
// the workflow's update handler into its activities.
func (t *Telemetry) ClientOptions(o *client.Options) error {
	o.MetricsHandler = t.temporalMetrics
	if !t.tracing {
		return nil
	}
	tracer, err := temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{
		Tracer: t.Tracer.Tracer("go.temporal.io/sdk"),
		// The account workflow reads an update's span under this key to
		// run the update's batch under it (workflows.batchContext).
		SpanContextKey: workflows.TraceSpanKey,
	})
	if err != nil {
		return fmt.Errorf("temporal tracing interceptor: %w", err)
	}
	o.Interceptors = append([]interceptor.ClientInterceptor{tracer}, o.Interceptors...)
	return nil
}

// Close flushes pending spans and stops the providers.
func (t *Telemetry) Close(ctx context.Context) error {
	var errs []error
	for i := len(t.closers) - 1; i >= 0; i-- {
		errs = append(errs, t.closers[i](ctx))
	}
	t.closers = nil
	return errors.Join(errs...)
}
