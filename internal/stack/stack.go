// Package stack assembles DayTrader's parts from configuration: a Temporal
// client (or an embedded Temporal dev server), Postgres with its migrations,
// the quote source, the worker and the web server. Every binary subcommand
// and the end-to-end tests build on it, so they run the same wiring.
package stack

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/daytradinginc/daytrader/activities"
	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/migrations"
	"github.com/daytradinginc/daytrader/quotes"
	"github.com/daytradinginc/daytrader/temporal"
	"github.com/daytradinginc/daytrader/web"
	"github.com/daytradinginc/daytrader/worker"
	"github.com/daytradinginc/daytrader/workflows"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"
)

// Config is every setting of DayTrader. Each field has an environment
// variable (the README's configuration table lists them) and a flag.
type Config struct {
	TemporalAddress   string // TEMPORAL_ADDRESS: a real cluster; empty in `dev` = embedded
	TemporalNamespace string // TEMPORAL_NAMESPACE
	EmbeddedFrontend  string // TEMPORAL_FRONTEND_ADDR: where `dev` serves embedded Temporal gRPC
	TemporalUIAddr    string // TEMPORAL_UI_ADDR: where `dev` serves the Temporal web UI
	TemporalUIURL     string // TEMPORAL_UI_URL: link target for admins (default from TemporalUIAddr)
	DatabaseURL       string // DATABASE_URL
	QuoteServerAddr   string // QUOTE_SERVER_ADDR: the legacy quote server (dev runs the emulator here)
	QuoteLatency      string // QUOTE_LATENCY: emulator latency model, legacy or none
	QuoteSeed         int64  // QUOTE_SEED: emulator price walk seed
	QuotePrices       string // QUOTE_PRICES: emulator fixed prices file (SYM,price lines)
	WebAddr           string // WEB_ADDR
	MetricsAddr       string // METRICS_ADDR: Prometheus /metrics of the worker ("" = off)
	DataDir           string // DATA_DIR: embedded Temporal's SQLite lives here
	DumpDir           string // DUMP_DIR: DUMPLOG files are written inside it only
	ServerName        string // SERVER_NAME: the <server> of audit records
	AdminUser         string // ADMIN_USER: web administrator created at start
	AdminPassword     string // ADMIN_PASSWORD
	SecureCookies     bool   // SECURE_COOKIES: set when the web UI is served over HTTPS
	TaskQueue         string // TASK_QUEUE
	LogLevel          string // LOG_LEVEL: debug, info, warn, error
}

// DefaultDatabaseURL is the project-local cluster that scripts/postgres.sh runs.
const DefaultDatabaseURL = "postgres://postgres@127.0.0.1:54329/daytrader?sslmode=disable"

// FromEnv returns the configuration from the environment, with defaults
// that suit one machine.
func FromEnv() Config {
	host, _ := os.Hostname()
	c := Config{
		TemporalAddress:   os.Getenv("TEMPORAL_ADDRESS"),
		TemporalNamespace: env("TEMPORAL_NAMESPACE", "default"),
		EmbeddedFrontend:  env("TEMPORAL_FRONTEND_ADDR", "127.0.0.1:7233"),
		TemporalUIAddr:    env("TEMPORAL_UI_ADDR", "127.0.0.1:8233"),
		TemporalUIURL:     os.Getenv("TEMPORAL_UI_URL"),
		DatabaseURL:       env("DATABASE_URL", DefaultDatabaseURL),
		QuoteServerAddr:   env("QUOTE_SERVER_ADDR", "127.0.0.1:4444"),
		QuoteLatency:      env("QUOTE_LATENCY", "legacy"),
		QuotePrices:       os.Getenv("QUOTE_PRICES"),
		WebAddr:           env("WEB_ADDR", "127.0.0.1:8080"),
		MetricsAddr:       os.Getenv("METRICS_ADDR"),
		DataDir:           env("DATA_DIR", ".data"),
		DumpDir:           os.Getenv("DUMP_DIR"),
		ServerName:        env("SERVER_NAME", cmp.Or(host, "daytrader")),
		AdminUser:         os.Getenv("ADMIN_USER"),
		AdminPassword:     os.Getenv("ADMIN_PASSWORD"),
		TaskQueue:         env("TASK_QUEUE", workflows.TaskQueue),
		LogLevel:          env("LOG_LEVEL", "info"),
	}
	c.QuoteSeed, _ = strconv.ParseInt(env("QUOTE_SEED", "468"), 10, 64)
	c.SecureCookies, _ = strconv.ParseBool(env("SECURE_COOKIES", "false"))
	return c
}

// Flags binds the settings to command-line flags (the environment gives the
// defaults, a flag overrides it).
func (c *Config) Flags(fs *flag.FlagSet) {
	fs.StringVar(&c.TemporalAddress, "temporal-address", c.TemporalAddress, "Temporal frontend host:port (env TEMPORAL_ADDRESS); empty in dev = embedded server")
	fs.StringVar(&c.TemporalNamespace, "namespace", c.TemporalNamespace, "Temporal namespace (env TEMPORAL_NAMESPACE)")
	fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL, "PostgreSQL URL (env DATABASE_URL)")
	fs.StringVar(&c.QuoteServerAddr, "quote-server", c.QuoteServerAddr, "legacy quote server host:port (env QUOTE_SERVER_ADDR)")
	fs.StringVar(&c.WebAddr, "web-addr", c.WebAddr, "web UI listen address (env WEB_ADDR)")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "data directory of the embedded Temporal server (env DATA_DIR)")
	fs.StringVar(&c.DumpDir, "dump-dir", c.DumpDir, "directory DUMPLOG files are written to (env DUMP_DIR; default DATA_DIR/dumps)")
	fs.StringVar(&c.QuoteLatency, "quote-latency", c.QuoteLatency, "quote emulator latency model: legacy or none (env QUOTE_LATENCY)")
	fs.Int64Var(&c.QuoteSeed, "quote-seed", c.QuoteSeed, "quote emulator price seed (env QUOTE_SEED)")
	fs.StringVar(&c.QuotePrices, "quote-prices", c.QuotePrices, "quote emulator fixed prices file, SYM,price lines (env QUOTE_PRICES)")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", c.MetricsAddr, "Prometheus /metrics listen address (env METRICS_ADDR; empty = off)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error (env LOG_LEVEL)")
}

// Dumps is the DUMPLOG directory.
func (c Config) Dumps() string { return cmp.Or(c.DumpDir, filepath.Join(c.DataDir, "dumps")) }

func env(key, def string) string { return cmp.Or(os.Getenv(key), def) }

// Logger is the process's structured logger at the configured level.
func (c Config) Logger() *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.LogLevel)); err != nil {
		lvl = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
}

// Dial connects to Temporal at c.TemporalAddress.
func Dial(ctx context.Context, c Config, logger *slog.Logger) (client.Client, error) {
	addr := cmp.Or(c.TemporalAddress, c.EmbeddedFrontend)
	// The SDK logs every workflow-level event at info; keep it to warnings.
	quiet := slog.New(&levelHandler{min: slog.LevelWarn, Handler: logger.Handler()})
	cl, err := client.DialContext(ctx, client.Options{HostPort: addr, Namespace: c.TemporalNamespace,
		Logger: sdklog.NewStructuredLogger(quiet)})
	if err != nil {
		return nil, fmt.Errorf("connecting to Temporal at %s: %w", addr, err)
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
	cfg, err := pgxpool.ParseConfig(c.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	cfg.MaxConns = max(cfg.MaxConns, 16)
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
// client behind a process-wide cache, and the audit store.
func NewActivities(c Config, pool *pgxpool.Pool, logger *slog.Logger) (*activities.Activities, error) {
	qc, err := quotes.NewClient(c.QuoteServerAddr, quotes.ClientOptions{Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("quote client: %w", err)
	}
	return &activities.Activities{
		Quotes:  quotes.NewCache(qc, time.Now),
		Audit:   audit.NewStore(pool),
		Server:  c.ServerName,
		DumpDir: c.Dumps(),
		Logger:  logger,
	}, nil
}

// StartWorker starts a worker on the task queue; stop it with Stop.
func StartWorker(cl client.Client, acts *activities.Activities, c Config) (sdkworker.Worker, error) {
	w := worker.New(cl, acts, worker.Options{TaskQueue: c.TaskQueue})
	if err := w.Start(); err != nil {
		return nil, fmt.Errorf("starting worker: %w", err)
	}
	return w, nil
}

// NewWeb builds the web UI's handler.
func NewWeb(c Config, cl client.Client, pool *pgxpool.Pool, logger *slog.Logger) (*web.Server, error) {
	accounts := workflows.NewAccounts(cl)
	accounts.TaskQueue = c.TaskQueue
	uiURL := c.TemporalUIURL
	if uiURL == "" && c.TemporalUIAddr != "" {
		uiURL = "http://" + c.TemporalUIAddr
	}
	return web.New(web.Config{
		Accounts: accounts, Audit: audit.NewStore(pool), DB: pool, Logger: logger,
		TemporalUIURL: uiURL, TemporalNamespace: c.TemporalNamespace, SecureCookies: c.SecureCookies,
		AdminUser: c.AdminUser, AdminPassword: c.AdminPassword,
	})
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

// StartTemporal starts the embedded Temporal dev server with its web UI.
func StartTemporal(ctx context.Context, c Config, logger *slog.Logger) (*temporal.Server, error) {
	return temporal.Start(ctx, temporal.Options{
		DataDir: filepath.Join(c.DataDir, "temporal"), Namespace: c.TemporalNamespace,
		FrontendAddr: c.EmbeddedFrontend, UIAddr: c.TemporalUIAddr, Logger: logger,
	})
}
