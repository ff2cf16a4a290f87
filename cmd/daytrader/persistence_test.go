package main

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/internal/stack"
	"github.com/daytradinginc/daytrader/temporal"
	"github.com/daytradinginc/daytrader/workflows"
	"github.com/daytradinginc/daytrader/workloads"
)

// TestEmbeddedRunOnPostgresPersistence: with TEMPORAL_PERSISTENCE=postgres
// an embedded run's Temporal keeps its state in the run's own
// <run>_temporal and <run>_temporal_visibility databases (no SQLite file),
// a small workload runs to the end on it, and closing the run drops all
// three databases.
func TestEmbeddedRunOnPostgresPersistence(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cfg := stack.FromEnv()
	cfg.LogLevel, cfg.QuoteLatency, cfg.TemporalPersistence = "warn", "none", stack.PersistencePostgres
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	env, err := startEmbedded(ctx, cfg, false, logger, stack.DevOptions{NoWeb: true})
	if err != nil {
		t.Fatal(err)
	}
	env.stderr = io.Discard
	closed := false
	defer func() {
		if !closed {
			env.close()
		}
	}()
	temporalURL, err := stack.TemporalDatabaseURL(env.dev.Config.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(env.dataDir, "temporal", "temporal.db")); !os.IsNotExist(err) {
		t.Errorf("a SQLite file in the run's data dir (stat: %v)", err)
	}

	file := generatedWorkload(t, workloads.GenOptions{Users: 4, Lines: 400, Seed: 3})
	parsed, _, err := workloads.ParseFile(file, true)
	if err != nil {
		t.Fatal(err)
	}
	accounts := workflows.NewAccounts(env.dev.Client)
	accounts.TaskQueue = env.dev.Config.TaskQueue
	rep, err := workloads.Run(ctx, parsed, accounts, audit.NewStore(env.dev.DB), workloads.RunOptions{BatchSize: 50, Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Processed != rep.Commands || rep.Commands != 399 {
		t.Errorf("processed %d of %d commands, want all 399", rep.Processed, rep.Commands)
	}
	if n := countRows(t, ctx, temporalURL, `SELECT count(*) FROM current_executions`); n < 4 {
		t.Errorf("%d workflows in %s, want at least the 4 accounts", n, stack.Redact(temporalURL))
	}

	env.close()
	closed = true
	names := []string{dbName(t, env.dev.Config.DatabaseURL), dbName(t, temporalURL), dbName(t, temporalURL) + temporal.VisibilitySuffix}
	if n := countRows(t, ctx, cfg.DatabaseURL, `SELECT count(*) FROM pg_database WHERE datname = ANY($1)`, names); n != 0 {
		t.Errorf("%d of the run's databases %v left after close, want none", n, names)
	}
}

func dbName(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(u.Path, "/")
}

func countRows(t *testing.T, ctx context.Context, dbURL, query string, args ...any) int {
	t.Helper()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(ctx, query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}
