package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"

	"github.com/daytradinginc/daytrader/internal/stack"
	"github.com/daytradinginc/daytrader/migrations"
	"github.com/daytradinginc/daytrader/web"
	"github.com/daytradinginc/daytrader/workflows"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func init() {
	register("dev", "everything on one machine: embedded Temporal + its UI, quote emulator, worker, web", runDev)
	register("worker", "run a worker against TEMPORAL_ADDRESS and DATABASE_URL (run several to scale out)", runWorker)
	register("web", "run the web UI against TEMPORAL_ADDRESS and DATABASE_URL", runWeb)
	register("quoteserver", "run the legacy quote server emulator", runQuoteServer)
	register("migrate", "apply the database migrations (idempotent)", runMigrate)
	register("summary", "print an account's summary: daytrader summary [--json] USER", runSummary)
	register("user", "create or update a web user: daytrader user [--admin] NAME (password from DAYTRADER_PASSWORD or stdin)", runUser)
}

// parse binds the common configuration flags plus extra ones, then parses.
func parse(name string, args []string, extra func(fs *flag.FlagSet)) (stack.Config, *flag.FlagSet, error) {
	cfg := stack.FromEnv()
	fs := flag.NewFlagSet("daytrader "+name, flag.ContinueOnError)
	cfg.Flags(fs)
	if extra != nil {
		extra(fs)
	}
	// Flags may come before or after the arguments (`summary alice --json`).
	positional, err := parseInterspersed(fs, args)
	if err != nil {
		return cfg, fs, err
	}
	err = fs.Parse(append([]string{"--"}, positional...))
	return cfg, fs, err
}

func runDev(ctx context.Context, args []string) error {
	var opts stack.DevOptions
	cfg, _, err := parse("dev", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&opts.NoWorker, "no-worker", false, "run no worker in this process (run `daytrader worker` processes instead)")
		fs.BoolVar(&opts.NoWeb, "no-web", false, "serve no web UI")
	})
	if err != nil {
		return err
	}
	logger := cfg.Logger()
	dev, err := stack.StartDev(ctx, cfg, opts)
	if err != nil {
		return err
	}
	defer dev.Close()
	serveMetrics(ctx, cfg.MetricsAddr, logger)
	fmt.Printf(`
DayTrader is running. Ctrl-C stops everything; data persists in %s.

  Web UI (traders, admins)  %s
  Temporal web UI           %s
  Temporal gRPC             %s  (namespace %s, task queue %s)
  Quote server emulator     %s  (latency model %s)
  PostgreSQL (audit, users) %s
  DUMPLOG files             %s

`, cfg.DataDir, dev.WebURL, orDash(dev.Config.TemporalUIURL), dev.Config.TemporalAddress, cfg.TemporalNamespace,
		cfg.TaskQueue, dev.Config.QuoteServerAddr, cfg.QuoteLatency, stack.Redact(cfg.DatabaseURL), cfg.Dumps())
	<-ctx.Done()
	logger.Info("shutting down")
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func runWorker(ctx context.Context, args []string) error {
	cfg, _, err := parse("worker", args, nil)
	if err != nil {
		return err
	}
	logger := cfg.Logger()
	dev, err := stack.StartDev(ctx, withRealTemporal(cfg), stack.DevOptions{NoWeb: true, NoQuoteServer: true})
	if err != nil {
		return err
	}
	defer dev.Close()
	serveMetrics(ctx, cfg.MetricsAddr, logger)
	logger.Info("worker running", "temporal", dev.Config.TemporalAddress, "task_queue", cfg.TaskQueue, "quote_server", cfg.QuoteServerAddr)
	<-ctx.Done()
	return nil
}

func runWeb(ctx context.Context, args []string) error {
	cfg, _, err := parse("web", args, nil)
	if err != nil {
		return err
	}
	dev, err := stack.StartDev(ctx, withRealTemporal(cfg), stack.DevOptions{NoWorker: true, NoQuoteServer: true})
	if err != nil {
		return err
	}
	defer dev.Close()
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

func runQuoteServer(ctx context.Context, args []string) error {
	cfg, _, err := parse("quoteserver", args, nil)
	if err != nil {
		return err
	}
	s, err := stack.StartQuoteServer(cfg, cfg.Logger())
	if err != nil {
		return err
	}
	defer s.Close()
	cfg.Logger().Info("quote server emulator running", "addr", s.Addr(), "latency", cfg.QuoteLatency, "seed", cfg.QuoteSeed)
	<-ctx.Done()
	return nil
}

func runMigrate(ctx context.Context, args []string) error {
	cfg, _, err := parse("migrate", args, nil)
	if err != nil {
		return err
	}
	if err := migrations.Up(ctx, cfg.DatabaseURL); err != nil {
		return err
	}
	fmt.Println("migrations applied")
	return nil
}

func runSummary(ctx context.Context, args []string) error {
	var asJSON bool
	cfg, fs, err := parse("summary", args, func(fs *flag.FlagSet) { fs.BoolVar(&asJSON, "json", false, "print JSON") })
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: daytrader summary [--json] USER")
	}
	cl, err := stack.Dial(ctx, withRealTemporal(cfg), cfg.Logger())
	if err != nil {
		return err
	}
	defer cl.Close()
	sum, err := workflows.NewAccounts(cl).Summary(ctx, fs.Arg(0))
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	}
	if !sum.Exists {
		fmt.Printf("%s has no account yet (ADD money to open one)\n", sum.User)
		return nil
	}
	fmt.Printf("%s  cash $%s  reserved $%s\n", sum.User, sum.Cash.StringFixed(2), sum.ReservedCash.StringFixed(2))
	for _, h := range sum.Holdings {
		fmt.Printf("  holding  %-3s %8d shares (+%d reserved)\n", h.Symbol, h.Shares, h.ReservedShares)
	}
	for _, p := range sum.PendingBuys {
		fmt.Printf("  pending  BUY  %d %s at $%s until %s\n", p.Shares, p.Symbol, p.Price.StringFixed(2), p.ExpiresAt.Format("15:04:05"))
	}
	for _, p := range sum.PendingSells {
		fmt.Printf("  pending  SELL %d %s at $%s until %s\n", p.Shares, p.Symbol, p.Price.StringFixed(2), p.ExpiresAt.Format("15:04:05"))
	}
	for _, o := range sum.BuyOrders {
		fmt.Printf("  order    BUY  %s reserve $%s trigger %s\n", o.Symbol, o.Reserve.StringFixed(2), trig(o.Trigger.Valid, o.Trigger.Decimal.StringFixed(2)))
	}
	for _, o := range sum.SellOrders {
		fmt.Printf("  order    SELL %s $%s (%d shares reserved) trigger %s\n", o.Symbol, o.Amount.StringFixed(2), o.ReservedShares, trig(o.Trigger.Valid, o.Trigger.Decimal.StringFixed(2)))
	}
	return nil
}

func trig(ok bool, s string) string {
	if !ok {
		return "not set"
	}
	return "$" + s
}

func runUser(ctx context.Context, args []string) error {
	var admin bool
	cfg, fs, err := parse("user", args, func(fs *flag.FlagSet) { fs.BoolVar(&admin, "admin", false, "give the user the admin role") })
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: daytrader user [--admin] NAME  (password from DAYTRADER_PASSWORD or the first line of stdin)")
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
	if err := web.CreateUser(ctx, pool, fs.Arg(0), password, role); err != nil {
		return err
	}
	fmt.Printf("user %s saved with role %s\n", fs.Arg(0), role)
	return nil
}

// serveMetrics exposes Prometheus metrics (Go runtime and process) when an
// address is configured.
func serveMetrics(ctx context.Context, addr string, logger *slog.Logger) {
	if addr == "" {
		return
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		logger.Error("metrics listener", "error", err)
		return
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.Handler())
	go func() { _ = stack.Serve(ctx, ln, mux) }()
	logger.Info("metrics", "url", "http://"+ln.Addr().String()+"/metrics")
}
