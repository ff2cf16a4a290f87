package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// httpMetrics are the web server's Prometheus metrics, registered in
// Config.Metrics (nil: kept but served nowhere).
type httpMetrics struct {
	duration   *prometheus.HistogramVec
	inFlight   prometheus.Gauge
	sseClients *prometheus.GaugeVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	f := promauto.With(reg)
	m := &httpMetrics{
		duration: f.NewHistogramVec(prometheus.HistogramOpts{
			Name: "daytrader_web_request_duration_seconds",
			Help: "Web requests by route pattern (chi's, e.g. /admin/users/{user}; unmatched for no route), method and status code. " +
				"Event streams count when they end.",
			Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
		}, []string{"route", "method", "code"}),
		inFlight: f.NewGauge(prometheus.GaugeOpts{
			Name: "daytrader_web_requests_in_flight",
			Help: "Web requests being served, open event streams included.",
		}),
		sseClients: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "daytrader_web_sse_clients",
			Help: "Open server-sent event streams: account (traders' dashboards), system (the administrators' System page).",
		}, []string{"stream"}),
	}
	// Both streams are series from the start: 0 is a value a dashboard
	// can show, a missing series is not.
	for _, stream := range []string{"account", "system"} {
		m.sseClients.WithLabelValues(stream)
	}
	return m
}

// sseClient counts an open event stream until the returned func is called.
func (m *httpMetrics) sseClient(stream string) (done func()) {
	g := m.sseClients.WithLabelValues(stream)
	g.Inc()
	return g.Dec
}

// unmatchedRoute labels requests no route took (404s of any path), so a
// scan of random paths cannot add label values.
const unmatchedRoute = "unmatched"

// observe measures every request under its route pattern, not its path (a
// path holds user names: the label values would be unbounded), and, when
// tracing is on, makes it a server span that the Temporal calls it makes
// continue. The route is known only once chi has routed, so the span is
// named after the handler ran.
func (s *Server) observe(next http.Handler) http.Handler {
	tracer := s.tracer()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		s.metrics.inFlight.Inc()
		defer s.metrics.inFlight.Dec()
		var span trace.Span
		if tracer != nil {
			ctx, sp := tracer.Start(r.Context(), r.Method, trace.WithSpanKind(trace.SpanKindServer))
			r, span = r.WithContext(ctx), sp
		}
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		route := chi.RouteContext(r.Context()).RoutePattern()
		if route == "" {
			route = unmatchedRoute
		}
		status := rec.status
		if status == 0 {
			status = http.StatusOK // nothing written: net/http sends 200
		}
		s.metrics.duration.WithLabelValues(route, r.Method, strconv.Itoa(status)).Observe(time.Since(start).Seconds())
		if span != nil {
			endSpan(span, r.Method, route, status)
		}
	})
}

// tracer is the web's tracer, or nil when tracing is off.
func (s *Server) tracer() trace.Tracer {
	if s.cfg.Tracer == nil {
		return nil
	}
	return s.cfg.Tracer.Tracer("github.com/daytradinginc/daytrader/web")
}

// endSpan names the span "METHOD /route" with OpenTelemetry's HTTP
// attributes; a 5xx marks it failed.
func endSpan(span trace.Span, method, route string, status int) {
	span.SetName(method + " " + route)
	span.SetAttributes(attribute.String("http.request.method", method), attribute.String("http.route", route),
		attribute.Int("http.response.status_code", status))
	if status >= 500 {
		span.SetStatus(codes.Error, http.StatusText(status))
	}
	span.End()
}
