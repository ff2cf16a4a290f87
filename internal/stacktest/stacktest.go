// Package stacktest starts the whole DayTrader stack for end-to-end tests:
// an embedded Temporal server on free ports in a temporary directory, a
// fresh migrated Postgres database, the quote server emulator, a worker and
// (optionally) the web UI, all in the test process.
package stacktest

import (
	"context"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/internal/stack"
	"github.com/daytradinginc/daytrader/internal/testdb"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Options adjust the stack for one test.
type Options struct {
	Web          bool   // also serve the web UI (Dev.WebURL)
	QuoteLatency string // default "none": tests don't wait for the legacy model
	QuotePrices  string // fixed prices file for the emulator
	AdminUser    string
	AdminPass    string
	NoWorker     bool
	LogLevel     string // default "warn"
	// TemporalEnv, when set, are Temporal client variables (the SDK's:
	// TEMPORAL_ADDRESS, TEMPORAL_TLS_*, TEMPORAL_CONFIG_FILE...) read as
	// the commands read them: the stack dials that Temporal instead of
	// embedding one.
	TemporalEnv stack.MapEnv
	// SpanExporter, when set, receives every span of the stack (tracing on).
	SpanExporter sdktrace.SpanExporter
}

// Start brings a stack up for t and stops it when t ends.
func Start(t testing.TB, opts Options) *stack.Dev {
	t.Helper()
	cfg := stack.FromEnv()
	cfg.TemporalAddress = ""
	if opts.TemporalEnv != nil {
		if err := cfg.Load(opts.TemporalEnv, "TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE"); err != nil {
			t.Fatalf("the Temporal client settings: %v", err)
		}
	}
	cfg.EmbeddedFrontend = "127.0.0.1:0"
	// Free ports like every other listener: the fixed default (7243) may be
	// a running `make run`'s or another test package's.
	cfg.TemporalHTTPAddr = "127.0.0.1:0"
	cfg.TemporalUIAddr = ""
	cfg.QuoteServerAddr = "127.0.0.1:0"
	cfg.WebAddr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.DatabaseURL = testdb.URL(t)
	cfg.QuoteLatency = opts.QuoteLatency
	if cfg.QuoteLatency == "" {
		cfg.QuoteLatency = "none"
	}
	cfg.QuotePrices = opts.QuotePrices
	cfg.AdminUser, cfg.AdminPassword = opts.AdminUser, opts.AdminPass
	cfg.LogLevel = opts.LogLevel
	if cfg.LogLevel == "" {
		cfg.LogLevel = "warn"
	}
	cfg.ServerName = "e2e"
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dev, err := stack.StartDev(ctx, cfg, stack.DevOptions{NoWeb: !opts.Web, NoWorker: opts.NoWorker, SpanExporter: opts.SpanExporter})
	if err != nil {
		t.Fatalf("starting the stack: %v", err)
	}
	t.Cleanup(func() {
		if err := dev.Close(); err != nil {
			t.Logf("stopping the stack: %v", err)
		}
	})
	return dev
}
