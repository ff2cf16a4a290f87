package web

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"testing"

	"github.com/daytradinginc/daytrader/internal/health"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
)

// TestReadyzAndHealthz: /healthz is 200 whatever the dependencies do;
// /readyz is 200 with the database reachable, and 503 naming the dependency
// that is down: Temporal at an address nothing listens on, or a closed pool.
// Neither needs a session.
func TestReadyzAndHealthz(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	nowhere := ln.Addr().String()
	ln.Close()
	temporal, err := client.NewLazyClient(client.Options{HostPort: nowhere})
	if err != nil {
		t.Fatal(err)
	}
	defer temporal.Close()
	closed, err := pgxpool.NewWithConfig(context.Background(), testPool.Config())
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()

	for _, c := range []struct {
		name      string
		configure func(*Config)
		status    int
		down      string
	}{
		{"database up", func(*Config) {}, http.StatusOK, ""},
		{"temporal down", func(c *Config) { c.ReadyChecks = []health.Check{health.Temporal(temporal)} }, http.StatusServiceUnavailable, "temporal"},
		{"database down", func(c *Config) { c.DB = closed }, http.StatusServiceUnavailable, "postgres"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ts := newTestServer(t, c.configure)
			b := ts.newBrowser(t)
			wantStatus(t, b.get("/healthz"), http.StatusOK)
			r := b.get("/readyz")
			wantStatus(t, r, c.status)
			var rep health.Report
			if err := json.Unmarshal([]byte(r.body), &rep); err != nil {
				t.Fatalf("/readyz body %q: %v", r.body, err)
			}
			if rep.Ready != (c.down == "") {
				t.Errorf("ready = %v, want %v", rep.Ready, c.down == "")
			}
			if st := rep.Checks["postgres"]; st.OK != (c.down != "postgres") {
				t.Errorf("postgres = %+v", st)
			}
			if c.down != "" && (rep.Checks[c.down].OK || rep.Checks[c.down].Error == "") {
				t.Errorf("%s = %+v, want down with an error", c.down, rep.Checks[c.down])
			}
		})
	}
}
