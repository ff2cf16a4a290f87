package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"

	"github.com/daytradinginc/daytrader/internal/health"
	"github.com/daytradinginc/daytrader/internal/stack"
	"github.com/daytradinginc/daytrader/migrations"
	"github.com/daytradinginc/daytrader/trading"
	"github.com/daytradinginc/daytrader/web"
	"github.com/daytradinginc/daytrader/workflows"
	"github.com/shopspring/decimal"
)

// The settings the commands share (stack.Settings has them all).
func clientSettings() []string {
	return []string{"TEMPORAL_ADDRESS", "TEMPORAL_FRONTENDS", "TEMPORAL_FRONTEND_ADDR", "TEMPORAL_NAMESPACE"}
}

func webSettings() []string {
	return []string{"WEB_ADDR", "SECURE_COOKIES", "ADMIN_USER", "ADMIN_PASSWORD", "REGISTRATION", "SESSION_TTL",
		"LOGIN_USER_EVERY", "LOGIN_USER_BURST", "LOGIN_IP_EVERY", "LOGIN_IP_BURST", "TRUSTED_PROXIES",
		"TEMPORAL_UI_ADDR", "TEMPORAL_UI_URL"} // the UI's address or URL makes the admin pages' links
}

func workerSettings() []string {
	return slices.Concat([]string{"QUOTE_SERVER_ADDR", "DUMP_DIR", "SERVER_NAME"}, stack.WorkerSettingNames())
}

func emulatorSettings() []string {
	return []string{"QUOTE_SERVER_ADDR", "QUOTE_LATENCY", "QUOTE_SEED", "QUOTE_PRICES"}
}

// devSettings are every setting but temporal-node's own.
func devSettings() []string {
	return slices.DeleteFunc(stack.SettingNames(), func(name string) bool { return slices.Contains(nodeOnlySettings(), name) })
}

func serveCommands() []*spec {
	return []*spec{
		{name: "dev", summary: "everything on one machine: embedded Temporal + its UI, quote emulator, worker, web",
			about: "Runs the whole system in this process. Set TEMPORAL_ADDRESS (or choose a Temporal config profile that has\n" +
				"an address) to use a cluster or Temporal Cloud instead of the embedded server.",
			settings: devSettings(), flags: devFlags},
		{name: "worker", summary: "run a worker against TEMPORAL_ADDRESS and DATABASE_URL (run several to scale out)",
			about:    "Runs a worker: the accounts' workflows and activities. Several workers on one task queue share the accounts.",
			settings: slices.Concat(clientSettings(), []string{"TASK_QUEUE", "DATABASE_URL", "DATA_DIR", "METRICS_ADDR", "OTEL_EXPORTER_OTLP_ENDPOINT", "LOG_LEVEL", "LOG_FORMAT"}, workerSettings()),
			flags:    noFlags(runWorker)},
		{name: "web", summary: "run the web UI against TEMPORAL_ADDRESS and DATABASE_URL",
			about:    "Serves the web UI for traders and administrators. Run as many as you like behind a load balancer.",
			settings: slices.Concat(clientSettings(), []string{"TASK_QUEUE", "DATABASE_URL", "METRICS_ADDR", "OTEL_EXPORTER_OTLP_ENDPOINT", "LOG_LEVEL", "LOG_FORMAT"}, webSettings()),
			flags:    noFlags(runWeb)},
		{name: "quoteserver", summary: "run the legacy quote server emulator",
			about:    "Serves quotes at QUOTE_SERVER_ADDR the way the legacy quote server does.",
			settings: append(emulatorSettings(), "LOG_LEVEL", "LOG_FORMAT"), flags: noFlags(runQuoteServer)},
		{name: "migrate", summary: "apply the database migrations (idempotent)",
			about:    "Applies the database migrations to DATABASE_URL (the other commands do it at start too).",
			settings: []string{"DATABASE_URL"}, flags: noFlags(runMigrate)},
		{name: "summary", summary: "print an account's summary: daytrader summary [--json] USER",
			args: "USER", nargs: 1, about: "Prints USER's account: cash, holdings, pending buys and sells, trigger orders.",
			settings: append(clientSettings(), "LOG_LEVEL", "LOG_FORMAT"), flags: summaryFlags},
		{name: "user", summary: "create or update a web user: daytrader user [--admin] NAME (password from DAYTRADER_PASSWORD or stdin)",
			args: "NAME", nargs: 1, about: "Creates web user NAME, or updates its password and role. The password comes from\n" +
				"DAYTRADER_PASSWORD or, when that is empty, from the first line of standard input.",
			settings: []string{"DATABASE_URL"}, flags: userFlags},
	}
}

// noFlags is a command without flags of its own.
func noFlags(run runFunc) func(*flag.FlagSet) runFunc {
	return func(*flag.FlagSet) runFunc { return run }
}

func devFlags(fs *flag.FlagSet) runFunc {
	var opts stack.DevOptions
	fs.BoolVar(&opts.NoWorker, "no-worker", false, "run no worker in this process (run daytrader worker processes instead)")
	fs.BoolVar(&opts.NoWeb, "no-web", false, "serve no web UI")
	return func(ctx context.Context, cfg stack.Config, _ []string) error { return runDev(ctx, cfg, opts) }
}

func runDev(ctx context.Context, cfg stack.Config, opts stack.DevOptions) error {
	logger := cfg.Logger()
	defer tuneStackGC()()
	dev, err := stack.StartDev(ctx, cfg, opts)
	if err != nil {
		return err
	}
	defer dev.Close()
	if err := serveMetrics(ctx, cfg.MetricsAddr, logger, dev); err != nil {
		return err
	}
	printBanner(os.Stdout, dev, cfg)
	<-ctx.Done()
	logger.Info("shutting down")
	return nil
}

// printBanner is what `daytrader dev` (`make run`) prints: where to look.
func printBanner(w io.Writer, dev *stack.Dev, cfg stack.Config) {
	fmt.Fprintf(w, `
DayTrader is running. Ctrl-C stops everything; data persists in %s.

  Web UI (traders, admins)  %s
  Temporal web UI           %s
  Temporal HTTP API         %s
  Temporal gRPC             %s  (namespace %s, task queue %s)
  Quote server emulator     %s  (latency model %s)
  PostgreSQL (audit, users) %s
  DUMPLOG files             %s

`, cfg.DataDir, orDash(dev.WebURL), orDash(dev.Config.TemporalUIURL), orDash(dev.TemporalHTTPURL()),
		dev.Config.TemporalAddress, cfg.TemporalNamespace, cfg.TaskQueue, dev.Config.QuoteServerAddr, cfg.QuoteLatency,
		stack.Redact(cfg.DatabaseURL), cfg.Dumps())
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func runWorker(ctx context.Context, cfg stack.Config, _ []string) error {
	logger := cfg.Logger()
	dev, err := stack.StartDev(ctx, withRealTemporal(cfg), stack.DevOptions{NoWeb: true, NoQuoteServer: true})
	if err != nil {
		return err
	}
	defer dev.Close()
	if err := serveMetrics(ctx, cfg.MetricsAddr, logger, dev); err != nil {
		return err
	}
	logger.Info("worker running", "temporal", dev.Config.TemporalAddress, "frontends", cfg.TemporalFrontends, "task_queue", cfg.TaskQueue, "quote_server", cfg.QuoteServerAddr)
	<-ctx.Done()
	return nil
}

func runWeb(ctx context.Context, cfg stack.Config, _ []string) error {
	dev, err := stack.StartDev(ctx, withRealTemporal(cfg), stack.DevOptions{NoWorker: true, NoQuoteServer: true})
	if err != nil {
		return err
	}
	defer dev.Close()
	if err := serveMetrics(ctx, cfg.MetricsAddr, cfg.Logger(), dev); err != nil {
		return err
	}
	cfg.Logger().Info("web UI running", "url", dev.WebURL)
	<-ctx.Done()
	return nil
}

// withRealTemporal makes the stand-alone commands connect to a running
// Temporal (default: the one `daytrader dev` embeds) instead of embedding one.
func withRealTemporal(cfg stack.Config) stack.Config {
	if cfg.TemporalAddress == "" {
		cfg.TemporalAddress = cfg.EmbeddedFrontend
	}
	return cfg
}

func runQuoteServer(ctx context.Context, cfg stack.Config, _ []string) error {
	s, err := stack.StartQuoteServer(cfg, cfg.Logger())
	if err != nil {
		return err
	}
	defer s.Close()
	cfg.Logger().Info("quote server emulator running", "addr", s.Addr(), "latency", cfg.QuoteLatency, "seed", cfg.QuoteSeed)
	<-ctx.Done()
	return nil
}

func runMigrate(ctx context.Context, cfg stack.Config, _ []string) error {
	if err := migrations.Up(ctx, cfg.DatabaseURL); err != nil {
		return err
	}
	fmt.Println("migrations applied")
	return nil
}

func summaryFlags(fs *flag.FlagSet) runFunc {
	asJSON := fs.Bool("json", false, "print JSON")
	return func(ctx context.Context, cfg stack.Config, args []string) error {
		return runSummary(ctx, cfg, args[0], *asJSON)
	}
}

func runSummary(ctx context.Context, cfg stack.Config, user string, asJSON bool) error {
	// A malformed id is refused before dialing: no account can have it.
	if err := trading.CheckUser(user); err != nil {
		return err
	}
	cl, err := stack.Dial(ctx, withRealTemporal(cfg), cfg.Logger())
	if err != nil {
		return err
	}
	defer cl.Close()
	sum, err := workflows.NewAccounts(cl).Summary(ctx, user)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	}
	printSummary(os.Stdout, sum)
	return nil
}

// printSummary writes the summary as text: one line per holding with its
// profit and loss at the last price, pending trades, orders, then totals.
func printSummary(w io.Writer, sum trading.Summary) {
	if !sum.Exists {
		fmt.Fprintf(w, "%s has no account yet (ADD money to open one)\n", sum.User)
		return
	}
	fmt.Fprintf(w, "%s  cash $%s  reserved $%s\n", sum.User, sum.Cash.StringFixed(2), sum.ReservedCash.StringFixed(2))
	for _, h := range sum.Holdings {
		fmt.Fprintf(w, "  holding  %-3s %8d shares (+%d reserved)  avg cost $%s  value %s  unrealized %s%s\n",
			h.Symbol, h.Shares, h.ReservedShares, h.AvgCost.StringFixed(2), dollarsOr(h.MarketValue),
			dollarsOr(h.UnrealizedPL), percentOf(h.UnrealizedPct))
	}
	for _, p := range sum.PendingBuys {
		fmt.Fprintf(w, "  pending  BUY  %d %s at $%s until %s\n", p.Shares, p.Symbol, p.Price.StringFixed(2), p.ExpiresAt.Format("15:04:05"))
	}
	for _, p := range sum.PendingSells {
		fmt.Fprintf(w, "  pending  SELL %d %s at $%s until %s\n", p.Shares, p.Symbol, p.Price.StringFixed(2), p.ExpiresAt.Format("15:04:05"))
	}
	for _, o := range sum.BuyOrders {
		fmt.Fprintf(w, "  order    BUY  %s reserve $%s trigger %s\n", o.Symbol, o.Reserve.StringFixed(2), trig(o.Trigger.Valid, o.Trigger.Decimal.StringFixed(2)))
	}
	for _, o := range sum.SellOrders {
		fmt.Fprintf(w, "  order    SELL %s $%s (%d shares reserved) trigger %s\n", o.Symbol, o.Amount.StringFixed(2), o.ReservedShares, trig(o.Trigger.Valid, o.Trigger.Decimal.StringFixed(2)))
	}
	fmt.Fprintf(w, "  total    cost $%s  value %s  unrealized %s  realized $%s\n", sum.CostBasis.StringFixed(2),
		dollarsOr(sum.MarketValue), dollarsOr(sum.UnrealizedPL), sum.RealizedPL.StringFixed(2))
}

// dollarsOr is an amount, or "n/a" when it is unknown (no last price).
func dollarsOr(d decimal.NullDecimal) string {
	if !d.Valid {
		return "n/a"
	}
	if d.Decimal.IsNegative() {
		return "-$" + d.Decimal.Neg().StringFixed(2)
	}
	return "$" + d.Decimal.StringFixed(2)
}

func percentOf(d decimal.NullDecimal) string {
	if !d.Valid {
		return ""
	}
	return " (" + d.Decimal.StringFixed(2) + " %)"
}

func trig(ok bool, s string) string {
	if !ok {
		return "not set"
	}
	return "$" + s
}

func userFlags(fs *flag.FlagSet) runFunc {
	admin := fs.Bool("admin", false, "give the user the admin role")
	return func(ctx context.Context, cfg stack.Config, args []string) error {
		return runUser(ctx, cfg, args[0], *admin)
	}
}

func runUser(ctx context.Context, cfg stack.Config, name string, admin bool) error {
	// Checked before asking for a password or opening the database.
	if err := web.CheckUsername(name); err != nil {
		return err
	}
	password := os.Getenv("DAYTRADER_PASSWORD")
	if password == "" {
		var line string
		if _, err := fmt.Fscanln(os.Stdin, &line); err != nil {
			return fmt.Errorf("reading the password from stdin: %w", err)
		}
		password = strings.TrimSpace(line)
	}
	pool, err := stack.OpenDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	role := "trader"
	if admin {
		role = "admin"
	}
	if err := web.CreateUser(ctx, pool, name, password, role); err != nil {
		return err
	}
	fmt.Printf("user %s saved with role %s\n", name, role)
	return nil
}

// serveMetrics exposes the process's Prometheus metrics (dev.Telemetry's
// registry: Go runtime, process, the web's and the worker's, the Temporal
// SDK's) and the health endpoints of dev's Postgres and Temporal when an
// address is configured. It is a listener of its own, not a route of the
// web UI, so that metrics stay off the public address. A listener that
// cannot open stops the command: metrics asked for and silently missing
// would go unnoticed.
func serveMetrics(ctx context.Context, addr string, logger *slog.Logger, dev *stack.Dev) error {
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("METRICS_ADDR: %w", err)
	}
	mux := metricsMux(logger, dev.Telemetry.Handler(), health.Postgres(dev.DB), health.Temporal(dev.Client))
	go func() { _ = stack.Serve(ctx, ln, mux) }()
	logger.Info("metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	return nil
}

// metricsMux serves /metrics, /healthz (the process is up) and /readyz
// (every check passes; 503 while one fails).
func metricsMux(logger *slog.Logger, metrics http.Handler, checks ...health.Check) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/metrics", metrics)
	mux.HandleFunc("/healthz", health.Live)
	mux.Handle("/readyz", health.Ready(func(ctx context.Context, name string, err error) {
		logger.WarnContext(ctx, "readiness check failed", "dependency", name, "err", err)
	}, checks...))
	return mux
}
