package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/daytradinginc/daytrader/internal/health"
	"github.com/daytradinginc/daytrader/internal/telemetry"
	"github.com/daytradinginc/daytrader/internal/testdb"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
)

// TestMetricsListenerServesHealth: the METRICS_ADDR listener of dev and
// worker serves /metrics, /healthz (200 whatever the dependencies do) and
// /readyz: 200 with a real Postgres reachable, 503 naming Temporal when its
// address has nothing listening.
func TestMetricsListenerServesHealth(t *testing.T) {
	pool, err := pgxpool.New(context.Background(), testdb.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
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
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	tel, err := telemetry.New(context.Background(), telemetry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tel.Close(context.Background())

	get := func(srv *httptest.Server, path string) (int, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	up := httptest.NewServer(metricsMux(logger, tel.Handler(), health.Postgres(pool)))
	defer up.Close()
	down := httptest.NewServer(metricsMux(logger, tel.Handler(), health.Postgres(pool), health.Temporal(temporal)))
	defer down.Close()

	if code, body := get(up, "/metrics"); code != http.StatusOK || !strings.Contains(body, "go_goroutines") {
		t.Errorf("/metrics = %d", code)
	}
	if code, body := get(up, "/readyz"); code != http.StatusOK || !strings.Contains(body, `"postgres":{"ok":true`) {
		t.Errorf("/readyz with Postgres up = %d %s", code, body)
	}
	code, body := get(down, "/readyz")
	var rep health.Report
	if err := json.Unmarshal([]byte(body), &rep); err != nil {
		t.Fatalf("/readyz body %q: %v", body, err)
	}
	if code != http.StatusServiceUnavailable || rep.Ready || !rep.Checks["postgres"].OK || rep.Checks["temporal"].OK {
		t.Errorf("/readyz with Temporal down = %d %s", code, body)
	}
	if code, _ := get(down, "/healthz"); code != http.StatusOK {
		t.Errorf("/healthz with Temporal down = %d", code)
	}
}
