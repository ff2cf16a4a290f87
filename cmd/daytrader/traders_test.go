package main

import (
	"context"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/internal/testdb"
	"github.com/daytradinginc/daytrader/trading"
	"github.com/jackc/pgx/v5/pgxpool"
)

// A workload run yields to traders (workloads.TraderWatch) from the moment
// one signs in or opens the dashboard, not only once a command of theirs
// is audited: before, a trader who arrived mid-run sent the first order
// into the whole backlog.
func TestWorkloadRunsSeeTradersAtTheirScreens(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, testdb.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	a := newAuditWithTraders(pool)
	check := func(when string, want bool) {
		t.Helper()
		if got, err := a.TradersActive(ctx); err != nil || got != want {
			t.Errorf("%s: TradersActive %v, %v; want %v", when, got, err, want)
		}
	}
	exec := func(sql string) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	check("nobody signed in, nothing audited", false)
	exec(`INSERT INTO web_users (username, password_hash, role) VALUES ('screen', 'x', 'trader')`)
	exec(`INSERT INTO web_sessions (token_hash, username, csrf_token, expires_at, seen_at)
	      VALUES ('\x01', 'screen', 'c', now() + interval '1 hour', now() - interval '1 minute')`)
	check("a session last on the dashboard a minute ago", false)
	exec(`UPDATE web_sessions SET seen_at = now()`)
	check("a session on the dashboard just now", true)

	exec(`UPDATE web_sessions SET seen_at = now() - interval '1 minute'`)
	cmd := trading.Event{Key: "screen/1", Type: trading.UserCommandEvent, Time: time.Now(),
		TxNum: audit.FirstInteractiveTxNum + 1, Command: trading.QuoteCmd, User: "screen", Symbol: "ABC"}
	if err := a.Write(ctx, "w", []trading.Event{cmd}); err != nil {
		t.Fatal(err)
	}
	check("a trader's command just now, the dashboard a minute ago", true)
}
