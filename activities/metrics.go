package activities

import (
	"context"
	"errors"

	"github.com/daytradinginc/daytrader/quotes"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Metrics are the worker's Prometheus metrics, registered in the registry
// the process serves on METRICS_ADDR's /metrics. A nil *Metrics records
// nothing (tests that build Activities by hand).
type Metrics struct {
	auditEventsWritten  *prometheus.CounterVec
	auditEventsRejected prometheus.Counter
	auditWriteSeconds   prometheus.Histogram
	auditBatchSize      prometheus.Histogram
	quoteLookups        *prometheus.CounterVec
	legacySeconds       *prometheus.HistogramVec
	legacyAttempts      prometheus.Counter
	legacyHedged        prometheus.Counter
}

// NewMetrics registers the worker's metrics in reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	return &Metrics{
		auditEventsWritten: f.NewCounterVec(prometheus.CounterOpts{
			Name: "daytrader_audit_events_written_total",
			Help: "Audit records handed to the audit store, by logfile.xsd type (userCommand = commands processed).",
		}, []string{"type"}),
		auditEventsRejected: f.NewCounter(prometheus.CounterOpts{
			Name: "daytrader_audit_events_rejected_total",
			Help: "Audit records the schema cannot hold, dropped and logged (a bug: should stay 0).",
		}),
		auditWriteSeconds: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "daytrader_audit_write_seconds",
			Help:    "Time to write one batch of audit records (one multi-row INSERT, or a COPY from 1,000 records).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
		auditBatchSize: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "daytrader_audit_batch_records",
			Help:    "Audit records per batch written (one account's workflow task).",
			Buckets: prometheus.ExponentialBuckets(1, 2, 12),
		}),
		quoteLookups: f.NewCounterVec(prometheus.CounterOpts{
			Name: "daytrader_quote_lookups_total",
			Help: "Quote lookups of the accounts by outcome: legacy_hit (billed), cached, error.",
		}, []string{"outcome"}),
		legacySeconds: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "daytrader_quote_legacy_fetch_seconds",
			Help:    "Time of one legacy quote fetch, hedged attempts included, by outcome: ok, rejected, unavailable, canceled.",
			Buckets: []float64{0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.2, 0.5, 1, 2, 4, 8},
		}, []string{"outcome"}),
		legacyAttempts: f.NewCounter(prometheus.CounterOpts{
			Name: "daytrader_quote_legacy_attempts_total",
			Help: "Connections opened to the legacy quote server (each fetch opens one, plus one per hedge).",
		}),
		legacyHedged: f.NewCounter(prometheus.CounterOpts{
			Name: "daytrader_quote_legacy_hedged_total",
			Help: "Legacy fetches answered by a hedged attempt (not the first).",
		}),
	}
}

// ObserveFetch records one legacy fetch; it is the quote client's
// ClientOptions.Observe.
func (m *Metrics) ObserveFetch(info quotes.FetchInfo, err error) {
	if m == nil {
		return
	}
	outcome := "ok"
	switch {
	case err == nil:
	case errors.Is(err, quotes.ErrRejected):
		outcome = "rejected"
	case errors.Is(err, quotes.ErrUnavailable):
		outcome = "unavailable"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		outcome = "canceled"
	default:
		outcome = "unavailable"
	}
	m.legacySeconds.WithLabelValues(outcome).Observe(info.Elapsed.Seconds())
	m.legacyAttempts.Add(float64(info.Attempts))
	if info.Winner > 1 {
		m.legacyHedged.Inc()
	}
}

// WatchCache exports the cache's counters, read at each scrape, as
// daytrader_quote_cache_requests_total{result="hit"|"miss"}: the hit rate is
// hit / (hit + miss). Legacy fetches are daytrader_quote_legacy_fetch_seconds_count.
func WatchCache(reg prometheus.Registerer, cache *quotes.Cache) {
	f := promauto.With(reg)
	for _, r := range []struct {
		result string
		read   func(quotes.CacheStats) int64
	}{
		{"hit", func(s quotes.CacheStats) int64 { return s.Hits }},
		{"miss", func(s quotes.CacheStats) int64 { return s.Misses }},
	} {
		f.NewCounterFunc(prometheus.CounterOpts{
			Name:        "daytrader_quote_cache_requests_total",
			Help:        "Quote cache requests: hit (a valid cached quote) or miss (waited for a legacy fetch).",
			ConstLabels: prometheus.Labels{"result": r.result},
		}, func() float64 { return float64(r.read(cache.Stats())) })
	}
	f.NewCounterFunc(prometheus.CounterOpts{
		Name: "daytrader_quote_cache_shared_total",
		Help: "Quote cache misses answered by the cache all workers share with another worker's fetch (billed to that worker, not this one).",
	}, func() float64 { return float64(cache.Stats().SharedHits) })
}

func (m *Metrics) quoteLookup(outcome string) {
	if m != nil {
		m.quoteLookups.WithLabelValues(outcome).Inc()
	}
}

func (m *Metrics) auditRejected() {
	if m != nil {
		m.auditEventsRejected.Inc()
	}
}

// auditWritten records one stored batch: its time, size and types.
func (m *Metrics) auditWritten(seconds float64, types map[string]int) {
	if m == nil {
		return
	}
	m.auditWriteSeconds.Observe(seconds)
	n := 0
	for typ, count := range types {
		m.auditEventsWritten.WithLabelValues(typ).Add(float64(count))
		n += count
	}
	m.auditBatchSize.Observe(float64(n))
}
