package web

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/net/html"

	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/internal/telemetry/telemetrytest"
	"github.com/daytradinginc/daytrader/quotes"
	"github.com/daytradinginc/daytrader/trading"
)

// fakeSystem answers the System page with a fixed snapshot, counting calls.
type fakeSystem struct {
	mu    sync.Mutex
	snap  SystemSnapshot
	calls int
}

func (f *fakeSystem) Snapshot(_ context.Context, now time.Time) SystemSnapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	s := f.snap
	s.At = now
	return s
}

// busySystem is a snapshot of a system at work: 60 intervals, the last six
// (the last minute) with 10, 20, ..., 60 commands; a backlog; a cache.
func busySystem() *fakeSystem {
	end := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var buckets []audit.Bucket
	for i := range 60 {
		n := int64(0)
		if i >= 54 {
			n = int64(i-53) * 10
		}
		buckets = append(buckets, audit.Bucket{Start: end.Add(time.Duration(i-60) * SystemInterval), Count: n})
	}
	return &fakeSystem{snap: SystemSnapshot{
		Commands:   buckets,
		LegacyHits: 42,
		Backlog: []Backlog{{Kind: "workflow", Tasks: 5, Oldest: 2300 * time.Millisecond}, {Kind: "activity", Tasks: 2, Oldest: time.Second},
			{Queue: InteractiveQueue, Kind: "workflow", Tasks: 1, Oldest: 200 * time.Millisecond}, {Queue: InteractiveQueue, Kind: "activity"}},
		QuoteCache: &quotes.CacheStats{Hits: 300, Misses: 100, SharedHits: 40},
		Errors: []audit.StoredEvent{{ID: 77, Event: trading.Event{Type: trading.ErrorEvent, TxNum: 12, User: "bob",
			Command: trading.CommitSell, Time: end.Add(-3 * time.Second), Message: "no pending sell <script>"}}},
	}}
}

// systemAdmin is a test server with sys as its System and a signed-in
// administrator.
func systemAdmin(t *testing.T, sys System, configure ...func(*Config)) (*testServer, *browser) {
	t.Helper()
	admin := uniqueUser("admin")
	ts := newTestServer(t, append([]func(*Config){func(c *Config) {
		c.AdminUser, c.AdminPassword, c.System = admin, "admin password", sys
	}}, configure...)...)
	b := ts.newBrowser(t)
	wantStatus(t, b.login(admin, "admin password"), http.StatusSeeOther)
	return ts, b
}

// TestSystemPageShowsTheSnapshot parses the page: every figure in its
// place, computed from the snapshot (210 commands in the last minute =
// 3.5/s, 75 % hits), the chart's points, the errors table (escaped).
func TestSystemPageShowsTheSnapshot(t *testing.T) {
	_, b := systemAdmin(t, busySystem())
	r := b.get("/admin/system")
	wantStatus(t, r, http.StatusOK)
	doc := parseHTML(t, r.body)
	for id, want := range map[string]string{
		"commands-rate":  "3.5",
		"backlog":        "8",
		"quote-hit-rate": "75.0 %",
		"legacy-hits":    "42",
	} {
		if got := textByAttr(doc, "data-testid", id); got != want {
			t.Errorf("%s shows %q, want %q", id, got, want)
		}
	}
	at := findAll(doc, func(n *html.Node) bool { return n.Data == "time" && attr(n.Parent, "data-testid") == "system-at" })
	if len(at) != 1 || attr(at[0], "datetime") == "" || attr(at[0], "data-local") != "clock" {
		t.Errorf("the snapshot's time is not a <time data-local=clock datetime=...>: %d found", len(at))
	}
	if got := textByAttr(doc, "data-testid", "system-at"); !strings.HasPrefix(got, "As of ") || !strings.HasSuffix(got, " UTC") {
		t.Errorf("system-at reads %q", got)
	}
	if got := textByAttr(doc, "data-testid", "quote-shared"); got != "40 misses answered by another worker's quote" {
		t.Errorf("shared cache note %q", got)
	}
	if got := textByAttr(doc, "data-backlog", "workflow"); got != "account batches: 5, oldest 2.3s" {
		t.Errorf("workflow backlog %q", got)
	}
	if got := textByAttr(doc, "data-backlog", "activity"); got != "audit writes: 2, oldest 1s" {
		t.Errorf("activity backlog %q", got)
	}
	if got := textByAttr(doc, "data-backlog", "interactive-workflow"); got != "traders' account batches: 1, oldest 200ms" {
		t.Errorf("traders' workflow backlog %q", got)
	}
	if got := textByAttr(doc, "data-backlog", "interactive-activity"); got != "traders' audit writes: none" {
		t.Errorf("traders' activity backlog %q", got)
	}
	marks := findAll(doc, func(n *html.Node) bool { return n.Data == "circle" && attr(n, "data-v") != "" })
	if len(marks) != 60 {
		t.Fatalf("%d chart points, want 60", len(marks))
	}
	if last := marks[59]; attr(last, "data-v") != "6" || attr(last, "data-t") != "2026-03-01T12:00:00Z" {
		t.Errorf("last point v=%s t=%s, want 6 commands/s at 12:00:00 (the end of its interval)", attr(last, "data-v"), attr(last, "data-t"))
	}
	rows := tableRows(t, r.body, "data-error")
	want := map[string]string{"time": "2026-03-01 11:59:57 UTC", "user": "bob", "tx": "12", "command": "COMMIT_SELL", "message": "no pending sell <script>"}
	for col, w := range want {
		if got := rows["77"][col].text; got != w {
			t.Errorf("error row %s = %q, want %q", col, got, w)
		}
	}
	if strings.Contains(r.body, "sell <script>") {
		t.Error("the error message is not escaped")
	}
	if sse := findAll(doc, func(n *html.Node) bool { return attr(n, "sse-connect") == "/admin/system/events" }); len(sse) != 1 {
		t.Error("the page does not follow /admin/system/events")
	}
}

// TestSystemPageWithoutWorkerOrDependencies: no quote cache in this
// process, Temporal and the audit unreachable: the page says so part by
// part and still shows the rest.
func TestSystemPageWithoutWorkerOrDependencies(t *testing.T) {
	sys := busySystem()
	sys.snap.QuoteCache = nil
	sys.snap.Backlog, sys.snap.BacklogErr = nil, "Temporal cannot be asked right now: connection refused"
	sys.snap.Errors, sys.snap.ErrorsErr = nil, "The errors cannot be read right now: timeout"
	_, b := systemAdmin(t, sys)
	r := b.get("/admin/system")
	wantStatus(t, r, http.StatusOK)
	doc := parseHTML(t, r.body)
	if got := textByAttr(doc, "data-testid", "quote-hit-rate"); got != "—" {
		t.Errorf("hit rate without a cache %q", got)
	}
	if got := textByAttr(doc, "data-testid", "backlog"); got != "—" {
		t.Errorf("backlog without Temporal %q", got)
	}
	wantContains(t, r, "no worker runs in this process", "connection refused", "The errors cannot be read right now: timeout")
	if got := textByAttr(doc, "data-testid", "commands-rate"); got != "3.5" {
		t.Errorf("commands rate %q, want it shown despite the other failures", got)
	}
}

// TestSystemPageIsForAdministrators: traders get 403, strangers the login.
func TestSystemPageIsForAdministrators(t *testing.T) {
	sys := busySystem()
	ts, _ := systemAdmin(t, sys)
	trader := ts.registered(t, uniqueUser("trader"))
	for _, path := range []string{"/admin/system", "/admin/system/events"} {
		wantStatus(t, trader.get(path), http.StatusForbidden)
		if r := ts.newBrowser(t).get(path); r.StatusCode != http.StatusSeeOther && r.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s without a session: %d", path, r.StatusCode)
		}
	}
	if sys.calls != 0 {
		t.Errorf("System asked %d times for refused requests", sys.calls)
	}
	systemLinks := func(page string) []*html.Node {
		return findAll(parseHTML(t, page), func(n *html.Node) bool { return n.Data == "a" && attr(n, "href") == "/admin/system" })
	}
	if links := systemLinks(trader.get("/").body); len(links) != 0 {
		t.Error("a trader's navigation links to the System page")
	}
}

// TestSystemPageInTheNavigation: administrators reach the page from the
// navigation, which marks it current there.
func TestSystemPageInTheNavigation(t *testing.T) {
	_, b := systemAdmin(t, busySystem())
	for path, current := range map[string]bool{"/": false, "/admin/system": true} {
		links := findAll(parseHTML(t, b.get(path).body), func(n *html.Node) bool { return n.Data == "a" && attr(n, "href") == "/admin/system" })
		if len(links) != 1 || (attr(links[0], "aria-current") == "page") != current {
			t.Errorf("%s: %d System links, current=%v; want one, current %v", path, len(links), len(links) == 1 && attr(links[0], "aria-current") == "page", current)
		}
	}
}

// TestSystemStreamSendsTheLivePart: the stream sends "system" events whose
// data is the page's live part with fresh figures, and counts as a system
// SSE client while open.
func TestSystemStreamSendsTheLivePart(t *testing.T) {
	reg := prometheus.NewRegistry()
	sys := busySystem()
	ts, b := systemAdmin(t, sys, func(c *Config) { c.Metrics, c.SystemEvery = reg, 50*time.Millisecond })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/admin/system/events", nil)
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || ct != "text/event-stream" {
		t.Fatalf("status %d, content type %q", resp.StatusCode, ct)
	}
	stream := bufio.NewReader(resp.Body)
	name, data := readEvent(t, stream)
	if name != "system" {
		t.Fatalf("event %q, want system", name)
	}
	doc := parseHTML(t, data)
	if got := textByAttr(doc, "data-testid", "commands-rate"); got != "3.5" {
		t.Errorf("streamed commands rate %q", got)
	}
	sys.mu.Lock()
	sys.snap.LegacyHits = 43
	sys.mu.Unlock()
	for range 2 { // one may have been rendered before the change
		_, data = readEvent(t, stream)
	}
	if got := textByAttr(parseHTML(t, data), "data-testid", "legacy-hits"); got != "43" {
		t.Errorf("after a change the stream shows legacy hits %q, want 43", got)
	}
	m := telemetrytest.Scrape(t, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	if got := m.Sum(t, "daytrader_web_sse_clients", map[string]string{"stream": "system"}); got != 1 {
		t.Errorf("%v system streams counted, want 1", got)
	}
}

func parseHTML(t *testing.T, page string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatalf("parsing HTML: %v", err)
	}
	return doc
}

// textByAttr is the collapsed text of the one element whose attribute key
// is val ("" when there is none or several).
func textByAttr(doc *html.Node, key, val string) string {
	found := findAll(doc, func(n *html.Node) bool { return attr(n, key) == val })
	if len(found) != 1 {
		return ""
	}
	return strings.Join(strings.Fields(textOf(found[0])), " ")
}

// TestEventStreamsEnd: both event streams end when the session expires
// (the browser's reconnect then meets the login check) and when the server
// closes, and are no longer counted.
func TestEventStreamsEnd(t *testing.T) {
	for _, path := range []string{"/events", "/admin/system/events"} {
		t.Run(path, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			ts, b := systemAdmin(t, busySystem(), func(c *Config) { c.Metrics, c.SessionTTL = reg, 2*time.Second })
			expired := openStream(t, ts, b, path)
			if _, err := io.Copy(io.Discard, expired); err != nil {
				t.Fatalf("the stream broke instead of ending: %v", err)
			}
			ts2, b2 := systemAdmin(t, busySystem())
			closing := openStream(t, ts2, b2, path)
			ts2.web.Close()
			if _, err := io.Copy(io.Discard, closing); err != nil {
				t.Fatalf("the stream broke instead of ending: %v", err)
			}
			m := telemetrytest.Scrape(t, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
			if got := m.Sum(t, "daytrader_web_sse_clients", nil); got != 0 {
				t.Errorf("%v streams still counted", got)
			}
		})
	}
}

// openStream opens an event stream that must end within 15 s.
func openStream(t *testing.T, ts *testServer, b *browser, path string) io.Reader {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+path, nil)
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: status %d", path, resp.StatusCode)
	}
	return resp.Body
}
