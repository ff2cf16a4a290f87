package web

import (
	"bufio"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/daytradinginc/daytrader/internal/telemetry/telemetrytest"
)

// TestMetricsAfterRealTraffic: after a trader registers, opens pages, sends
// a command, follows the event stream and asks for paths no route takes,
// the server's registry (its own: no other test's requests) holds latency
// histograms under chi's route patterns, never raw paths, an in-flight
// gauge and the count of open event streams.
func TestMetricsAfterRealTraffic(t *testing.T) {
	reg := prometheus.NewRegistry()
	ts := newTestServer(t, func(c *Config) { c.Metrics = reg })
	scrape := func() telemetrytest.Families {
		return telemetrytest.Scrape(t, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	}
	alice := uniqueUser("alice")
	b := ts.registered(t, alice)
	wantStatus(t, b.get("/"), http.StatusOK)
	wantStatus(t, b.htmxPost("/commands", url.Values{"command": {"ADD"}, "amount": {"100"}}), http.StatusOK)
	wantStatus(t, b.get("/history?command=ADD"), http.StatusOK)
	for _, p := range []string{"/" + alice + "/secret", "/nope-" + alice} {
		wantStatus(t, b.get(p), http.StatusNotFound)
	}

	m := scrape()
	const latency = "daytrader_web_request_duration_seconds"
	for _, c := range []struct {
		route, method, code string
		want                float64
	}{
		{"/register", "POST", "303", 1},
		{"/commands", "POST", "200", 1},
		{"/history", "GET", "200", 1},
		{unmatchedRoute, "GET", "404", 2},
	} {
		if got := m.Sum(t, latency, map[string]string{"route": c.route, "method": c.method, "code": c.code}); got != c.want {
			t.Errorf("%s %s %s: %v requests, want %v", c.method, c.route, c.code, got, c.want)
		}
	}
	// The dashboard was asked for once here, and once by csrf() for the
	// command's token.
	if got := m.Sum(t, latency, map[string]string{"route": "/", "method": "GET"}); got != 2 {
		t.Errorf("GET / counted %v times, want 2", got)
	}
	for _, route := range m.LabelValues(t, latency, "route") {
		if strings.Contains(route, alice) || (route != unmatchedRoute && !strings.HasPrefix(route, "/")) {
			t.Errorf("route label %q is not a route pattern", route)
		}
	}
	if got := m.Sum(t, "daytrader_web_requests_in_flight", nil); got != 0 {
		t.Errorf("%v requests in flight after all answered, want 0", got)
	}
	for _, stream := range []string{"account", "system"} {
		if got := m.Sum(t, "daytrader_web_sse_clients", map[string]string{"stream": stream}); got != 0 {
			t.Errorf("%v %s streams before any was opened", got, stream)
		}
	}

	// An open event stream is a client and a request in flight until it ends.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/events", nil)
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	readEvent(t, bufio.NewReader(resp.Body)) // the stream is open and subscribed
	m = scrape()
	if got := m.Sum(t, "daytrader_web_sse_clients", map[string]string{"stream": "account"}); got != 1 {
		t.Errorf("%v account streams open, want 1", got)
	}
	if got := m.Sum(t, "daytrader_web_requests_in_flight", nil); got != 1 {
		t.Errorf("%v requests in flight with a stream open, want 1", got)
	}
	resp.Body.Close()
	cancel()
	waitFor(t, "the stream's end to be counted", func() bool {
		m := scrape()
		return m.Sum(t, "daytrader_web_sse_clients", nil) == 0 &&
			m.Sum(t, latency, map[string]string{"route": "/events"}) == 1
	})
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestMetricsNeedNoRegistry: without Config.Metrics the server works and
// registers nothing in the default registry (no global is touched).
func TestMetricsNeedNoRegistry(t *testing.T) {
	ts := newTestServer(t)
	wantStatus(t, ts.newBrowser(t).get("/login"), http.StatusOK)
	families, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if strings.HasPrefix(f.GetName(), "daytrader_") {
			t.Errorf("%s registered in the default registry", f.GetName())
		}
	}
}
