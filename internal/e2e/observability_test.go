package e2e

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/internal/browsertest"
	"github.com/daytradinginc/daytrader/internal/probe"
	"github.com/daytradinginc/daytrader/internal/stack"
	"github.com/daytradinginc/daytrader/internal/stacktest"
	"github.com/daytradinginc/daytrader/internal/telemetry/telemetrytest"
	"github.com/daytradinginc/daytrader/trading"
	"github.com/daytradinginc/daytrader/workflows"
)

// TestObservabilityOnTheRealStack runs a small workload (three accounts by
// signal, one failing command each) and a web trader's commands through the
// whole stack, then scrapes the process's /metrics and checks every count
// against the audit in Postgres, and reads the administrator's System page
// in real Chromium: the same figures, live over SSE.
func TestObservabilityOnTheRealStack(t *testing.T) {
	const admin = "boss"
	dev := stacktest.Start(t, stacktest.Options{Web: true, AdminUser: admin, AdminPass: "admin password"})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	store := audit.NewStore(dev.DB)
	accounts := workflows.NewAccounts(dev.Client)
	for i, user := range []string{"obsa", "obsb", "obsc"} {
		n := int64(10 * (i + 1))
		if err := accounts.Send(ctx, user, []trading.Command{
			{TxNum: n, Name: trading.Add, User: user, Amount: "1000.00"},
			{TxNum: n + 1, Name: trading.QuoteCmd, User: user, Symbol: "ABC"},
			{TxNum: n + 2, Name: trading.Buy, User: user, Symbol: "ABC", Amount: "100.00"},
			{TxNum: n + 3, Name: trading.CommitBuy, User: user},
			{TxNum: n + 4, Name: trading.CommitSell, User: user}, // fails: an errorEvent
		}); err != nil {
			t.Fatal(err)
		}
	}
	waitForUserCommands(ctx, t, store, 15)
	// Then a web trader, whose QUOTE of ABC the cache answers.
	trader, err := probe.Register(ctx, dev.WebURL, "obsweb", "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	for _, form := range []url.Values{
		{"command": {"ADD"}, "amount": {"500"}},
		{"command": {"QUOTE"}, "symbol": {"ABC"}},
		{"command": {"QUOTE"}, "symbol": {"XYZ"}},
	} {
		if _, err := trader.Command(ctx, form); err != nil {
			t.Fatal(err)
		}
	}
	counts, err := store.CountByType(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if counts[trading.UserCommandEvent] != 18 || counts[trading.ErrorEvent] != 3 {
		t.Fatalf("audit holds %v, want 18 userCommands and 3 errorEvents", counts)
	}
	checkMetrics(t, dev, counts)
	checkSystemPage(t, dev, admin, counts)
}

// checkMetrics scrapes the stack's /metrics: the worker's counts equal the
// audit's, and the web's and the Temporal SDK's series moved.
func checkMetrics(t *testing.T, dev *stack.Dev, counts map[trading.EventType]int64) {
	t.Helper()
	m := telemetrytest.Scrape(t, dev.Telemetry.Handler())
	var total float64
	for typ, n := range counts {
		if got := m.Sum(t, "daytrader_audit_events_written_total", map[string]string{"type": string(typ)}); got != float64(n) {
			t.Errorf("audit events written of type %s: metric %v, audit %d", typ, got, n)
		}
		total += float64(n)
	}
	batches := m.Histogram(t, "daytrader_audit_batch_records", nil)
	if batches.GetSampleSum() != total || batches.GetSampleCount() < 4 ||
		float64(batches.GetSampleCount()) != m.Sum(t, "daytrader_audit_write_seconds", nil) {
		t.Errorf("audit batches: %d holding %v records, %v timed writes; want every one of the %v records, at least a batch per account",
			batches.GetSampleCount(), batches.GetSampleSum(), m.Sum(t, "daytrader_audit_write_seconds", nil), total)
	}
	billed := float64(counts[trading.QuoteServerEvent])
	if got := m.Sum(t, "daytrader_quote_legacy_fetch_seconds", map[string]string{"outcome": "ok"}); got != billed || billed < 2 {
		t.Errorf("legacy fetches %v, audit's quoteServer records %v (ABC and XYZ at least)", got, billed)
	}
	if got := m.Sum(t, "daytrader_quote_lookups_total", map[string]string{"outcome": "legacy_hit"}); got != billed {
		t.Errorf("legacy hits %v, want %v", got, billed)
	}
	if m.Sum(t, "daytrader_quote_legacy_attempts_total", nil) < billed {
		t.Error("fewer legacy connections than fetches")
	}
	if hits := m.Sum(t, "daytrader_quote_cache_requests_total", map[string]string{"result": "hit"}); hits < 1 {
		t.Errorf("%v cache hits, want the web trader's QUOTE ABC among them", hits)
	}
	if got := m.Sum(t, "daytrader_web_request_duration_seconds", map[string]string{"route": "/commands", "method": "POST", "code": "200"}); got != 3 {
		t.Errorf("%v web commands measured, want 3", got)
	}
	for name, labels := range map[string]map[string]string{
		"temporal_request_total":                           {"operation": "SignalWithStartWorkflowExecution"},
		"temporal_workflow_task_execution_latency_seconds": nil,
		"temporal_activity_execution_latency_seconds":      {"activity_type": "WriteAudit"},
	} {
		if got := m.Sum(t, name, labels); got < 3 {
			t.Errorf("%s%v = %v, want the SDK to have counted at least 3", name, labels, got)
		}
	}
}

// checkSystemPage reads the System page in Chromium until the last
// minute's figures include the run, which the SSE stream brings in.
func checkSystemPage(t *testing.T, dev *stack.Dev, admin string, counts map[trading.EventType]int64) {
	t.Helper()
	ui := browsertest.New(t, dev.WebURL)
	ui.Wait = 40 * time.Second
	ui.SignIn(admin, "admin password")
	ui.Open("/admin/system")
	first := ui.Text("[data-testid=system-at]")
	// The commands are counted once their 10-second interval is over (and
	// a second more); the stream sends fresh figures every 5 s.
	ui.WaitText("[data-testid=legacy-hits]", strconv.FormatInt(counts[trading.QuoteServerEvent], 10))
	ui.WaitFor("the chart to hold every command", `(() => {
		const v = [...document.querySelectorAll("#system-live svg circle[data-v]")].map(c => Number(c.dataset.v));
		return v.length === 60 && Math.round(v.reduce((a, b) => a + b, 0) * 10) === 18; })()`)
	// Whatever the first load showed, the stream swaps fresh figures in.
	ui.WaitFor("the stream to refresh the figures", `document.querySelector("[data-testid=system-at]").textContent !== `+strconv.Quote(first))
	if rate, err := strconv.ParseFloat(ui.Text("[data-testid=commands-rate]"), 64); err != nil || rate != 0.3 {
		t.Errorf("commands per second %q, want 0.3 (18 in the last minute)", ui.Text("[data-testid=commands-rate]"))
	}
	if hit := ui.Text("[data-testid=quote-hit-rate]"); hit == "—" || hit == "" {
		t.Errorf("quote hit rate %q, want a percentage (this process runs the worker)", hit)
	}
	if backlog, err := strconv.Atoi(ui.Text("[data-testid=backlog]")); err != nil || backlog < 0 {
		t.Errorf("backlog %q, want Temporal's count", ui.Text("[data-testid=backlog]"))
	}
	// Both task queues are asked: the bulk one and the traders'.
	if got := ui.Text("[data-backlog=interactive-workflow]"); !strings.HasPrefix(got, "traders' account batches: ") {
		t.Errorf("traders' backlog line %q", got)
	}
	rows := browsertest.Eval[int](ui, "count error rows", `document.querySelectorAll("[data-testid=recent-errors] tr[data-error]").length`)
	if rows != int(counts[trading.ErrorEvent]) {
		t.Errorf("%d error rows, want the audit's %d errorEvents", rows, counts[trading.ErrorEvent])
	}
	ui.WaitText("[data-testid=recent-errors]", "COMMIT_SELL")
	ui.Screenshot("system-01-after-workload")

	// On a phone the page fits its width: the chart scales, only the errors
	// table scrolls inside its box.
	ui.Do("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
	ui.WaitFor("the page to fit a phone's width", `document.documentElement.scrollWidth <= 390 &&
		document.querySelector("#system-live svg").getBoundingClientRect().right <= 390 &&
		document.querySelector("[data-testid=recent-errors] tbody tr").getBoundingClientRect().height < 100`)
	ui.Screenshot("system-02-phone")
}
