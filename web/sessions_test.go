package web

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// The workload starter yields to traders (workloads.TraderWatch); a
// trader who signs in or opens the dashboard counts before any command,
// so that the bulk's backlog drains while the first order is typed.
func TestSignInAndDashboardTellTheStarterATraderIsAtTheScreen(t *testing.T) {
	ctx := context.Background()
	ts := newTestServer(t)
	atScreens := func() bool {
		t.Helper()
		active, err := TradersAtScreens(ctx, testPool, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return active
	}
	// Other tests' sessions, long ago as far as this one is concerned.
	age := func() {
		t.Helper()
		if _, err := testPool.Exec(ctx, `UPDATE web_sessions SET seen_at = now() - interval '1 hour'`); err != nil {
			t.Fatal(err)
		}
		if atScreens() {
			t.Fatal("a trader at the screen after every session's last view was made an hour old")
		}
	}
	age()
	b := ts.registered(t, uniqueUser("screen")) // signed in, not yet on the dashboard
	if !atScreens() {
		t.Error("nobody at the screen right after a sign-in")
	}
	age()
	wantStatus(t, b.get("/fragments/summary"), http.StatusOK)
	wantStatus(t, b.get("/history"), http.StatusOK)
	if atScreens() {
		t.Error("a trader at the screen after a summary fragment and the history: only the dashboard counts")
	}
	wantStatus(t, b.get("/"), http.StatusOK)
	if !atScreens() {
		t.Error("nobody at the screen right after the dashboard was opened")
	}
}
