// Package stack assembles DayTrader's parts from configuration: a Temporal
// client (or an embedded Temporal dev server), Postgres with its migrations,
// the quote source, the worker and the web server. Every binary subcommand
// and the end-to-end tests build on it, so they run the same wiring.
package stack

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/daytradinginc/daytrader/activities"
	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/internal/health"
	"github.com/daytradinginc/daytrader/internal/telemetry"
	"github.com/daytradinginc/daytrader/migrations"
	"github.com/daytradinginc/daytrader/quotes"
	"github.com/daytradinginc/daytrader/quotes/pgquotes"
	"github.com/daytradinginc/daytrader/web"
	"github.com/daytradinginc/daytrader/worker"
	"github.com/daytradinginc/daytrader/workflows"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"golang.org/x/time/rate"
	"google.golang.org/grpc"
)

// Config is every setting of DayTrader. Each field has an environment
// variable and a flag, from one table (Settings in settings.go) that also
// gives its default, accepted values and help.
type Config struct {
	TemporalAddress   string // TEMPORAL_ADDRESS: a real cluster; empty in `dev` = embedded
	TemporalNamespace string // TEMPORAL_NAMESPACE
	EmbeddedFrontend  string // TEMPORAL_FRONTEND_ADDR: where `dev` serves embedded Temporal gRPC
	TemporalHTTPAddr  string // TEMPORAL_HTTP_ADDR: where `dev` serves Temporal's HTTP API ("" = off)
	TemporalUIAddr    string // TEMPORAL_UI_ADDR: where `dev` serves the Temporal web UI ("" = off)
	TemporalUIURL     string // TEMPORAL_UI_URL: link target for admins (default from TemporalUIAddr)
	DatabaseURL       string // DATABASE_URL
	QuoteServerAddr   string // QUOTE_SERVER_ADDR: the legacy quote server (dev runs the emulator here)
	QuoteLatency      string // QUOTE_LATENCY: emulator latency model, legacy or none
	QuoteSeed         int64  // QUOTE_SEED: emulator price walk seed
	QuotePrices       string // QUOTE_PRICES: emulator fixed prices file (SYM,price lines)
	WebAddr           string // WEB_ADDR
	MetricsAddr       string // METRICS_ADDR: Prometheus /metrics of dev, worker and web ("" = off)
	OTLPEndpoint      string // OTEL_EXPORTER_OTLP_ENDPOINT: OTLP/gRPC trace collector ("" = no tracing)
	DataDir           string // DATA_DIR: embedded Temporal's SQLite lives here
	DumpDir           string // DUMP_DIR: DUMPLOG files are written inside it only
	ServerName        string // SERVER_NAME: the <server> of audit records ("" = host name)
	AdminUser         string // ADMIN_USER: web administrator created at start
	AdminPassword     string // ADMIN_PASSWORD
	SecureCookies     bool   // SECURE_COOKIES: set when the web UI is served over HTTPS
	TaskQueue         string // TASK_QUEUE
	LogLevel          string // LOG_LEVEL: debug, info, warn, error
	LogFormat         string // LOG_FORMAT: text or json ("" = text)

	TemporalPersistence string // TEMPORAL_PERSISTENCE: PersistenceSQLite or PersistencePostgres (embedded Temporal)

	// TemporalProfile is the rest of the client's settings (TLS, API key),
	// from the SDK's config file and variables (Load); zero: plaintext.
	TemporalProfile TemporalProfile

	TemporalFrontends []string // TEMPORAL_FRONTENDS: every frontend of a multi-node cluster; replaces TemporalAddress

	// A temporal-node's frontend serves TLS with these PEM files (all three
	// or none): TEMPORAL_FRONTEND_TLS_CERT_PATH, _KEY_PATH and _CA_PATH.
	FrontendTLSCert, FrontendTLSKey, FrontendTLSCA string

	Registration   string         // REGISTRATION: open or closed (self-service sign-up)
	SessionTTL     time.Duration  // SESSION_TTL: how long a web login lasts
	LoginUserEvery time.Duration  // LOGIN_USER_EVERY: web.LoginLimit.PerUser as an interval
	LoginUserBurst int            // LOGIN_USER_BURST
	LoginIPEvery   time.Duration  // LOGIN_IP_EVERY: web.LoginLimit.PerIP as an interval
	LoginIPBurst   int            // LOGIN_IP_BURST
	TrustedProxies []netip.Prefix // TRUSTED_PROXIES: whose X-Forwarded-For the login limits believe

	WorkerWorkflowTaskPollers    int // WORKER_WORKFLOW_TASK_POLLERS
	WorkerMaxConcurrentWorkflows int // WORKER_MAX_CONCURRENT_WORKFLOWS
	WorkerMaxConcurrentLocalActs int // WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES
	WorkerMaxCachedWorkflows     int // WORKER_MAX_CACHED_WORKFLOWS
	// WORKER_INTERACTIVE_WORKFLOW_TASK_POLLERS
	WorkerInteractiveWorkflowTaskPollers int
	// WORKER_INTERACTIVE_MAX_CONCURRENT_WORKFLOWS
	WorkerInteractiveMaxConcurrentWorkflows int
	WorkerTraderHold                        time.Duration // WORKER_TRADER_HOLD
	WorkerTraderSlots                       int           // WORKER_TRADER_SLOTS
}

// DefaultDatabaseURL is the project-local cluster that scripts/postgres.sh runs.
const DefaultDatabaseURL = "postgres://postgres@127.0.0.1:54329/daytrader?sslmode=disable"

// Dumps is the DUMPLOG directory.
func (c Config) Dumps() string { return cmp.Or(c.DumpDir, filepath.Join(c.DataDir, "dumps")) }

// Logger is the process's structured logger at the configured level.
// LoadEnv and the flag refuse any other level than the four; a Config
// built in code with an empty one logs at info.
func (c Config) Logger() *slog.Logger { return c.LoggerTo(os.Stderr) }

// LoggerTo is Logger writing to w: LOG_FORMAT=json gives one JSON object a
// line, anything else slog's key=value text.
func (c Config) LoggerTo(w io.Writer) *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.LogLevel)); err != nil {
		lvl = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lvl}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Dial connects to Temporal at c.TemporalAddress (TEMPORAL_FRONTEND_ADDR
// when empty) with c.TemporalProfile's TLS and credentials; extra are
// gRPC options of this client only (after the SDK's own).
func Dial(ctx context.Context, c Config, logger *slog.Logger, extra ...grpc.DialOption) (client.Client, error) {
	return dial(ctx, c, logger, nil, extra...)
}

// dial is Dial reporting the SDK's metrics, and traces when they are on,
// through tel (nil: neither).
func dial(ctx context.Context, c Config, logger *slog.Logger, tel *telemetry.Telemetry, extra ...grpc.DialOption) (client.Client, error) {
	opts, err := c.clientOptions()
	if err != nil {
		return nil, err
	}
	opts.ConnectionOptions.DialOptions = append(slices.Clip(opts.ConnectionOptions.DialOptions), extra...)
	// The same JSON payloads as the SDK's default converter, with the audit
	// records of a batch written and read without reflection.
	opts.DataConverter = activities.DataConverter()
	// The SDK logs every workflow-level event at info; keep it to warnings.
	quiet := slog.New(&levelHandler{min: slog.LevelWarn, Handler: logger.Handler()})
	opts.Logger = sdklog.NewStructuredLogger(quiet)
	if tel != nil {
		if err := tel.ClientOptions(&opts); err != nil {
			return nil, err
		}
	}
	cl, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("connecting to Temporal at %s (namespace %s, TLS %s): %w%s",
			c.temporalTarget(), opts.Namespace, c.tlsMode(), err, c.tlsHint(err))
	}
	return cl, nil
}

type levelHandler struct {
	min slog.Level
	slog.Handler
}

func (h *levelHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

// OpenDB connects to Postgres and applies the migrations (idempotent).
func OpenDB(ctx context.Context, c Config) (*pgxpool.Pool, error) {
	if err := migrations.Up(ctx, c.DatabaseURL); err != nil {
		return nil, fmt.Errorf("migrating %s: %w (is Postgres running? `scripts/postgres.sh start`)", Redact(c.DatabaseURL), err)
	}
	return openPool(ctx, c, 16)
}

// openPool connects to Postgres with at least maxConns connections (more
// if DATABASE_URL's pool_max_conns says so). The database must be migrated.
func openPool(ctx context.Context, c Config, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(c.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	cfg.MaxConns = max(cfg.MaxConns, maxConns)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to Postgres: %w", err)
	}
	return pool, nil
}

// Redact hides a password in a database URL for logs and messages.
func Redact(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return "DATABASE_URL"
}

// NewActivities builds the activities with their clients: the hedging quote
// client behind a process-wide cache, itself in front of the quote cache
// every worker shares in pool's database (pgquotes), and the audit store.
// Their metrics go to reg.
func NewActivities(c Config, pool *pgxpool.Pool, logger *slog.Logger, reg prometheus.Registerer) (*activities.Activities, error) {
	metrics := activities.NewMetrics(reg)
	qc, err := quotes.NewClient(c.QuoteServerAddr, quotes.ClientOptions{Logger: logger, Observe: metrics.ObserveFetch})
	if err != nil {
		return nil, fmt.Errorf("quote client: %w", err)
	}
	cache := quotes.NewSharedCache(qc, pgquotes.NewStore(pool, logger), time.Now)
	activities.WatchCache(reg, cache)
	return &activities.Activities{
		Quotes:  cache,
		Audit:   audit.NewStore(pool),
		Server:  c.serverName(),
		DumpDir: c.Dumps(),
		Logger:  logger,
		Metrics: metrics,
	}, nil
}

// serverName is the <server> of audit records: SERVER_NAME, or the host's.
func (c Config) serverName() string {
	if c.ServerName != "" {
		return c.ServerName
	}
	host, _ := os.Hostname()
	return cmp.Or(host, "daytrader")
}

// StartWorker starts a worker on the task queue and its interactive
// sibling; stop it with Stop.
// interactive are the activities of the interactive queue (nil: acts).
func StartWorker(cl client.Client, acts, interactive *activities.Activities, c Config) (*worker.Worker, error) {
	opts := c.workerOptions()
	opts.InteractiveActs = interactive
	w := worker.New(cl, acts, opts)
	if err := w.Start(); err != nil {
		return nil, fmt.Errorf("starting worker: %w", err)
	}
	return w, nil
}

// workerOptions are the worker's tuning knobs. Zero fields (a Config built
// in code) take worker.New's defaults, as the table's defaults are.
func (c Config) workerOptions() worker.Options {
	return worker.Options{
		TaskQueue:              c.TaskQueue,
		WorkflowTaskPollers:    c.WorkerWorkflowTaskPollers,
		MaxConcurrentWorkflows: c.WorkerMaxConcurrentWorkflows,
		MaxConcurrentLocalActs: c.WorkerMaxConcurrentLocalActs,
		MaxCachedWorkflows:     c.WorkerMaxCachedWorkflows,

		InteractiveWorkflowTaskPollers:    c.WorkerInteractiveWorkflowTaskPollers,
		InteractiveMaxConcurrentWorkflows: c.WorkerInteractiveMaxConcurrentWorkflows,
		TraderHold:                        c.WorkerTraderHold,
		TraderSlots:                       c.WorkerTraderSlots,
	}
}

// NewWeb builds the web UI's handler; its metrics go to tel's registry and
// its spans to tel's tracer (when tracing is on). cache is this process's
// worker's quote cache, nil when it runs none.
func NewWeb(c Config, cl client.Client, pool *pgxpool.Pool, logger *slog.Logger, tel *telemetry.Telemetry, cache *quotes.Cache) (*web.Server, error) {
	accounts := workflows.NewAccounts(cl)
	accounts.TaskQueue, accounts.Namespace = c.TaskQueue, c.TemporalNamespace
	wc := c.webConfig()
	store := audit.NewStore(pool)
	wc.Accounts, wc.Audit, wc.DB, wc.Logger = accounts, store, pool, logger
	wc.ReadyChecks = []health.Check{health.Temporal(cl)}
	wc.Metrics = tel.Registry
	if tel.Tracing() {
		wc.Tracer = tel.Tracer
	}
	wc.System = &systemSource{audit: store, client: cl, namespace: c.TemporalNamespace, taskQueue: cmp.Or(c.TaskQueue, workflows.TaskQueue), cache: cache}
	return web.New(wc)
}

// webConfig is the web UI's part of the settings.
func (c Config) webConfig() web.Config {
	uiURL := c.TemporalUIURL
	if uiURL == "" && c.TemporalUIAddr != "" {
		uiURL = "http://" + c.TemporalUIAddr
	}
	return web.Config{
		TemporalUIURL: uiURL, TemporalNamespace: c.TemporalNamespace, SecureCookies: c.SecureCookies,
		AdminUser: c.AdminUser, AdminPassword: c.AdminPassword,
		RegistrationClosed: c.Registration == "closed",
		SessionTTL:         c.SessionTTL,
		LoginLimit:         c.loginLimit(),
		TrustedProxies:     c.TrustedProxies,
	}
}

// loginLimit is the web's login limit; zero fields (a Config built in
// code) take web.DefaultLoginLimit's, as the table's defaults are.
func (c Config) loginLimit() web.LoginLimit {
	var l web.LoginLimit
	if c.LoginUserEvery > 0 {
		l.PerUser = rate.Every(c.LoginUserEvery)
	}
	if c.LoginIPEvery > 0 {
		l.PerIP = rate.Every(c.LoginIPEvery)
	}
	l.UserBurst, l.IPBurst = c.LoginUserBurst, c.LoginIPBurst
	return l
}

// Serve runs an HTTP server until ctx ends, then shuts it down gracefully.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}

// StartQuoteServer runs the legacy quote server emulator.
func StartQuoteServer(c Config, logger *slog.Logger) (*quotes.Server, error) {
	model, err := quotes.ParseLatencyModel(c.QuoteLatency)
	if err != nil {
		return nil, err
	}
	opts := quotes.ServerOptions{Addr: c.QuoteServerAddr, Latency: model, Seed: c.QuoteSeed, Logger: logger}
	if c.QuotePrices != "" {
		if opts.FixedPrices, err = quotes.LoadPrices(c.QuotePrices); err != nil {
			return nil, err
		}
	}
	s, err := quotes.NewServer(opts)
	if err != nil {
		return nil, err
	}
	if err := s.Start(); err != nil {
		return nil, err
	}
	return s, nil
}
