package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/internal/health"
	"github.com/daytradinginc/daytrader/internal/telemetry"
	"github.com/daytradinginc/daytrader/internal/telemetry/telemetrytest"
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

// TestWebServesMetricsOnItsOwnListener: `daytrader web` with METRICS_ADDR
// serves its metrics (and health) there, not on the web UI's address, and
// the web's requests are counted under their route.
func TestWebServesMetricsOnItsOwnListener(t *testing.T) {
	dbURL := testdb.URL(t)
	temporal := exec.Command(daytrader, "dev", "--no-web", "--no-worker")
	temporal.Env = append(isolated(t), "DATABASE_URL="+dbURL, "TEMPORAL_UI_ADDR=", "QUOTE_LATENCY=none", "LOG_LEVEL=warn")
	grpcAddr, _, _ := strings.Cut(startForBanner(t, temporal)["Temporal gRPC"], " ")
	webAddr, metricsAddr := freeAddr(t), freeAddr(t)
	webCmd := exec.Command(daytrader, "web")
	webCmd.Env = append(isolated(t), "DATABASE_URL="+dbURL, "TEMPORAL_ADDRESS="+grpcAddr,
		"WEB_ADDR="+webAddr, "METRICS_ADDR="+metricsAddr, "LOG_LEVEL=warn")
	var stderr strings.Builder
	webCmd.Stderr = &stderr
	if err := webCmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = webCmd.Process.Kill(); _ = webCmd.Wait() })
	status := func(url string) int {
		resp, err := http.Get(url)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for deadline := time.Now().Add(time.Minute); status("http://"+metricsAddr+"/readyz") != http.StatusOK; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("web's METRICS_ADDR never became ready: %s", stderr.String())
		}
	}
	if got := status("http://" + webAddr + "/login"); got != http.StatusOK {
		t.Fatalf("GET /login: %d", got)
	}
	if got := status("http://" + webAddr + "/metrics"); got != http.StatusNotFound {
		t.Errorf("the web UI's own address serves /metrics: %d, want 404", got)
	}
	m := telemetrytest.ScrapeURL(t, "http://"+metricsAddr+"/metrics")
	if got := m.Sum(t, "daytrader_web_request_duration_seconds", map[string]string{"route": "/login", "method": "GET"}); got != 1 {
		t.Errorf("GET /login counted %v times on METRICS_ADDR, want 1", got)
	}
	if got := m.Sum(t, "temporal_request_total", nil); got < 1 {
		t.Error("no Temporal SDK metrics on the web's METRICS_ADDR")
	}
}

// freeAddr is a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
