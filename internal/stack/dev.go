package stack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/daytradinginc/daytrader/activities"
	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/internal/telemetry"
	"github.com/daytradinginc/daytrader/quotes"
	"github.com/daytradinginc/daytrader/web"
	"github.com/daytradinginc/daytrader/worker"
	"github.com/jackc/pgx/v5/pgxpool"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.temporal.io/sdk/client"
)

// TemporalServer is a Temporal server running in this process (package
// temporal's Server): an interface so that this package builds without
// go.temporal.io/server for the starter binary (noserver.go).
type TemporalServer interface {
	FrontendAddr() string
	HTTPURL() string
	UIURL() string
	Namespace() string
	// Stopping quiets the shutdown's expected warnings and cancelled calls
	// before the worker and client stop (Close); Stop stops the server.
	Stopping()
	Stop() error
}

// Dev is the whole system in one process: embedded Temporal (unless
// TemporalAddress names a cluster), the quote server emulator, a worker and
// the web UI. `daytrader dev` and the end-to-end tests run it.
type Dev struct {
	Config   Config
	Temporal TemporalServer // nil when TemporalAddress is set
	Quotes   *quotes.Server
	Client   client.Client
	DB       *pgxpool.Pool
	Acts     *activities.Activities
	Worker   *worker.Worker
	Web      *web.Server
	WebURL   string
	// Telemetry is the process's metrics registry (served on METRICS_ADDR)
	// and tracer.
	Telemetry *telemetry.Telemetry

	// webDB and interactiveDB are the web UI's and the interactive queue's
	// audit writes' own connection pools when this process also runs the
	// worker: they never wait for a connection behind the bulk's audit
	// writes, which can hold every connection of DB.
	webDB, interactiveDB *pgxpool.Pool

	webLn   net.Listener
	webDone chan error
	cancel  context.CancelFunc
}

// DevOptions switch parts of the stack off (tests, scale-out runs).
type DevOptions struct {
	NoWorker      bool
	NoWeb         bool
	NoQuoteServer bool // a quote server already runs at QuoteServerAddr
	// SpanExporter, when set, gets every span (tests: tracetest's
	// in-memory exporter), whatever OTEL_EXPORTER_OTLP_ENDPOINT says.
	SpanExporter sdktrace.SpanExporter
}

// service names the process in traces.
func (o DevOptions) service() string {
	switch {
	case o.NoWorker && !o.NoWeb:
		return "daytrader-web"
	case o.NoWeb && !o.NoWorker:
		return "daytrader-worker"
	}
	return "daytrader"
}

// StartDev brings the stack up. Close stops it in reverse order.
func StartDev(ctx context.Context, c Config, opts DevOptions) (_ *Dev, err error) {
	logger := c.Logger()
	d := &Dev{Config: c}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	embedded := c.TemporalAddress == "" && len(c.TemporalFrontends) == 0
	if embedded {
		if err := CanRunTemporal(); err != nil {
			return nil, err // before making a data dir for nothing
		}
	}
	if err := os.MkdirAll(c.DataDir, 0o755); err != nil {
		return nil, err
	}
	if d.Telemetry, err = telemetry.New(ctx, telemetry.Options{Service: opts.service(),
		OTLPEndpoint: c.OTLPEndpoint, SpanExporter: opts.SpanExporter}); err != nil {
		return nil, err
	}
	if embedded {
		if err := d.startTemporal(ctx, logger); err != nil {
			return nil, err
		}
	}
	if !opts.NoQuoteServer {
		if d.Quotes, err = StartQuoteServer(d.Config, logger); err != nil {
			return nil, fmt.Errorf("quote server: %w", err)
		}
		d.Config.QuoteServerAddr = d.Quotes.Addr()
	}
	if d.DB, err = OpenDB(ctx, d.Config); err != nil {
		return nil, err
	}
	if d.Client, err = dial(ctx, d.Config, logger, d.Telemetry); err != nil {
		return nil, err
	}
	logger.Info("connected to Temporal", append(d.Config.TemporalAttrs(), "embedded", d.Temporal != nil)...)
	if d.Acts, err = NewActivities(d.Config, d.DB, logger, d.Telemetry.Registry); err != nil {
		return nil, err
	}
	if !opts.NoWorker {
		if err := d.startWorker(ctx); err != nil {
			return nil, err
		}
	}
	if !opts.NoWeb {
		if err := d.startWeb(ctx, logger); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// startTemporal starts the embedded Temporal server and points the
// stack's Config at it.
func (d *Dev) startTemporal(ctx context.Context, logger *slog.Logger) (err error) {
	if d.Temporal, err = StartTemporal(ctx, d.Config, logger); err != nil {
		return fmt.Errorf("embedded Temporal: %w", err)
	}
	d.Config.TemporalAddress = d.Temporal.FrontendAddr()
	d.Config.TemporalUIURL = d.Temporal.UIURL()
	// The profile's TLS and API key are a cluster's: the embedded server
	// serves plaintext.
	d.Config.TemporalProfile = TemporalProfile{}
	return nil
}

// startWeb serves the web UI. Beside a worker it has a Postgres pool of its
// own, so the bulk's audit writes never hold the connection a trader's page
// needs, and its System page shows that worker's quote cache.
func (d *Dev) startWeb(ctx context.Context, logger *slog.Logger) (err error) {
	var cache *quotes.Cache
	webDB := d.DB
	if d.Worker != nil {
		cache, _ = d.Acts.Quotes.(*quotes.Cache)
		if d.webDB, err = openPool(ctx, d.Config, 8); err != nil {
			return err
		}
		webDB = d.webDB
	}
	if d.Web, err = NewWeb(d.Config, d.Client, webDB, logger, d.Telemetry, cache); err != nil {
		return fmt.Errorf("web: %w", err)
	}
	if d.webLn, err = net.Listen("tcp", d.Config.WebAddr); err != nil {
		return fmt.Errorf("web listen: %w", err)
	}
	d.WebURL = "http://" + d.webLn.Addr().String()
	var wctx context.Context
	wctx, d.cancel = context.WithCancel(context.Background())
	d.webDone = make(chan error, 1)
	go func() { d.webDone <- Serve(wctx, d.webLn, d.Web) }()
	return nil
}

// startWorker starts the worker, the interactive queue's audit writes on a
// pool of their own.
func (d *Dev) startWorker(ctx context.Context) (err error) {
	if d.interactiveDB, err = openPool(ctx, d.Config, 4); err != nil {
		return err
	}
	interactive := *d.Acts
	interactive.Audit = audit.NewStore(d.interactiveDB)
	d.Worker, err = StartWorker(d.Client, d.Acts, &interactive, d.Config)
	return err
}

// Close stops everything that was started.
func (d *Dev) Close() error {
	var errs []error
	if d.Temporal != nil {
		d.Temporal.Stopping()
	}
	if d.cancel != nil {
		d.cancel()
		errs = append(errs, <-d.webDone)
	}
	if d.Web != nil {
		d.Web.Close()
	}
	if d.Worker != nil {
		d.Worker.Stop()
	}
	if d.Client != nil {
		d.Client.Close()
	}
	for _, pool := range []*pgxpool.Pool{d.DB, d.webDB, d.interactiveDB} {
		if pool != nil {
			pool.Close()
		}
	}
	if d.Quotes != nil {
		errs = append(errs, d.Quotes.Close())
	}
	if d.Temporal != nil {
		errs = append(errs, d.Temporal.Stop())
	}
	if d.Telemetry != nil {
		// Flushes the spans of everything stopped above.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		errs = append(errs, d.Telemetry.Close(ctx))
		cancel()
	}
	return errors.Join(errs...)
}

// TemporalHTTPURL is the embedded Temporal's HTTP API ("" when off, or
// when TemporalAddress names a cluster).
func (d *Dev) TemporalHTTPURL() string {
	if d.Temporal == nil {
		return ""
	}
	return d.Temporal.HTTPURL()
}

// Describe is what `daytrader dev` prints: where to look.
func (d *Dev) Describe() []slog.Attr {
	attrs := []slog.Attr{slog.String("web", d.WebURL)}
	if d.Temporal != nil {
		attrs = append(attrs, slog.String("temporal_ui", d.Temporal.UIURL()))
	}
	attrs = append(attrs, slog.String("temporal_grpc", d.Config.TemporalAddress),
		slog.String("quote_server", d.Config.QuoteServerAddr), slog.String("dumps", d.Config.Dumps()))
	return attrs
}
