package activities

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Prometheus metrics of the worker, served on METRICS_ADDR's /metrics.
var (
	auditEventsWritten = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "daytrader_audit_events_written_total",
		Help: "Audit records handed to the audit store, by logfile.xsd type (userCommand = commands processed).",
	}, []string{"type"})
	quoteLookups = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "daytrader_quote_lookups_total",
		Help: "Quote lookups by outcome: legacy_hit (billed), cached, error.",
	}, []string{"outcome"})
	auditEventsRejected = promauto.NewCounter(prometheus.CounterOpts{
		Name: "daytrader_audit_events_rejected_total",
		Help: "Audit records the schema cannot hold, dropped and logged (a bug: should stay 0).",
	})
	auditWriteSeconds = promauto.NewHistogram(prometheus.HistogramOpts{
		Name:    "daytrader_audit_write_seconds",
		Help:    "Time to write one batch of audit records.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
	})
)
