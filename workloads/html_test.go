package workloads

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"golang.org/x/net/html"

	"github.com/daytradinginc/daytrader/internal/htmltest"
)

// page is a parsed HTML report.
type page struct {
	t   *testing.T
	doc *html.Node
}

func parseReport(t *testing.T, r *Report) page {
	t.Helper()
	var b bytes.Buffer
	if err := r.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	return page{t, htmltest.Parse(t, &b)}
}

func (p page) section(id string) *html.Node { return htmltest.ByID(p.t, p.doc, id) }

// cells are the texts of the cells of the one row whose attribute key is val.
func (p page) cells(in *html.Node, key, val string) []string {
	p.t.Helper()
	rows := htmltest.Find(in, func(n *html.Node) bool { return n.Data == "tr" && htmltest.Attr(n, key) == val })
	if len(rows) != 1 {
		p.t.Fatalf("%d rows with %s=%q", len(rows), key, val)
	}
	return htmltest.Cells(rows[0])
}

// svgValues are the data-v of the elements named tag in the chart.
func svgValues(in *html.Node, tag string) string {
	var vs []string
	for _, n := range htmltest.Find(in, func(n *html.Node) bool { return n.Data == tag && htmltest.Attr(n, "data-v") != "" }) {
		vs = append(vs, htmltest.Attr(n, "data-v"))
	}
	return strings.Join(vs, " ")
}

func testReport() *Report {
	valid, invalid := true, false
	return &Report{
		File: "runs/<odd>.txt", Users: 3, Commands: 1234, Sent: 1234, Batches: 9, BatchSize: 200, Concurrency: 64,
		Processed: 1234, SendSeconds: 0.25, WallSeconds: 1.5, CommandsPerSecond: 822.666, LegacyQuoteHits: 17,
		ByCommand: []CommandStats{
			{Command: "ADD", Count: 1000, Latency: Latency{Samples: 1000, P50Ms: 1.25, P95Ms: 2, P99Ms: 3.5, MaxMs: 4}},
			{Command: "BUY", Count: 234, Errors: 5, Latency: Latency{Samples: 234, P50Ms: 10, P95Ms: 20, P99Ms: 40, MaxMs: 41}},
		},
		All:      CommandStats{Count: 1234, Errors: 5, Latency: Latency{Samples: 1234, P50Ms: 2, P95Ms: 15, P99Ms: 39, MaxMs: 41}},
		Progress: []ProgressSample{{0.5, 1234, 400}, {1.0, 1234, 1000}, {1.5, 1234, 1234}},
		Errors:   []ErrorGroup{{Command: "BUY", Pattern: "not enough cash <script>alert(1)</script>", Count: 5, Example: "not enough cash & more"}},
		Dumps: []DumpReport{
			{Line: 1235, TxNum: 1235, Filename: "./testLOG", Path: "/tmp/d/testLOG", Records: 2000, Seconds: 0.12, Valid: &valid},
			{Line: 1236, TxNum: 1236, Filename: "./bad", Path: "/tmp/d/bad", Records: 1, Valid: &invalid, Validation: "bad: element x: not expected"},
		},
		ParseErrors: []LineError{{Line: 7, Text: "[7] FROB,x", Error: "unknown command"}},
	}
}

// TestHTMLReportShowsTheReport: every section, its numbers as the report
// has them, the charts' values, text escaped, and nothing the page would
// fetch or run.
func TestHTMLReportShowsTheReport(t *testing.T) {
	r := testReport()
	p := parseReport(t, r)
	summary := map[string]string{"commands": "1,234", "users": "3", "processed": "1,234", "wall-seconds": "1.50",
		"commands-per-second": "823", "legacy-quote-hits": "17", "error-events": "5", "malformed-lines": "1", "skipped-lines": "0"}
	for key, want := range summary {
		if got := p.cells(p.section("summary"), "data-key", key); got[1] != want {
			t.Errorf("summary %s = %q, want %q", key, got[1], want)
		}
	}
	// 400 commands in the first 0.5 s, 600 in the next, 234 in the last.
	if got := svgValues(p.section("throughput"), "circle"); got != "800 1200 468" {
		t.Errorf("commands/s points %q, want 800 1200 468", got)
	}
	latency := p.section("latency")
	if got := strings.Join(p.cells(latency, "data-command", "BUY"), "|"); got != "BUY|234|5|234|10.0|20.0|40.0|41.0" {
		t.Errorf("BUY latency row %s", got)
	}
	if got := strings.Join(p.cells(latency, "data-command", "all"), "|"); got != "all|1,234|5|1,234|2.0|15.0|39.0|41.0" {
		t.Errorf("all latency row %s", got)
	}
	if got := svgValues(latency, "rect"); got != "1.25 2 3.5 10 20 40" {
		t.Errorf("latency bars %q", got)
	}
	errs := p.cells(p.section("errors"), "data-command", "BUY")
	if errs[0] != "5" || errs[2] != "not enough cash <script>alert(1)</script>" || errs[3] != "not enough cash & more" {
		t.Errorf("errors row %q", errs)
	}
	dumps := p.section("dumplog")
	if got := p.cells(dumps, "data-line", "1235"); got[3] != "2,000" || got[5] != "valid (xmllint against logfile.xsd)" {
		t.Errorf("DUMPLOG row %q", got)
	}
	if got := p.cells(dumps, "data-line", "1236"); !strings.HasPrefix(got[5], "NOT VALID") || !strings.Contains(got[5], "element x: not expected") {
		t.Errorf("invalid DUMPLOG row %q", got)
	}
	if got := p.cells(p.section("lines"), "data-kind", "malformed"); got[0] != "7" || got[2] != "[7] FROB,x" {
		t.Errorf("malformed line row %q", got)
	}
	if n := htmltest.Find(p.doc, func(n *html.Node) bool {
		return n.Data == "script" || n.Data == "link" || htmltest.Attr(n, "src") != "" || strings.HasPrefix(htmltest.Attr(n, "href"), "http")
	}); len(n) != 0 {
		t.Errorf("the page would run or fetch %d things: it must be self-contained", len(n))
	}
	if title := htmltest.Text(htmltest.Find(p.doc, htmltest.Tag("title"))[0]); title != "Workload report: runs/<odd>.txt" {
		t.Errorf("title %q", title)
	}
}

// TestHTMLReportEmptyParts: no errors, no DUMPLOG and no lines left out
// say so instead of showing empty tables.
func TestHTMLReportEmptyParts(t *testing.T) {
	r := testReport()
	r.Errors, r.Dumps, r.ParseErrors, r.Progress = nil, nil, nil, nil
	p := parseReport(t, r)
	if got := htmltest.Text(p.section("errors")); got != "Errors No error events." {
		t.Errorf("errors section %q", got)
	}
	if got := htmltest.Text(p.section("dumplog")); got != "DUMPLOG The file has no global DUMPLOG." {
		t.Errorf("DUMPLOG section %q", got)
	}
	if n := htmltest.Find(p.doc, htmltest.HasAttr("id", "lines")); len(n) != 0 {
		t.Error("a lines section with no lines")
	}
	if got := htmltest.Text(htmltest.Find(p.section("throughput"), htmltest.Tag("svg"))[0]); !strings.Contains(got, "No progress samples") {
		t.Errorf("throughput chart without samples says %q", got)
	}
}

// TestThroughputStaysBoundedAndAddsUp: 5,000 samples become at most 301
// points whose rates, times their intervals, add up to every command.
func TestThroughputStaysBoundedAndAddsUp(t *testing.T) {
	var samples []ProgressSample
	for i := range 5000 {
		samples = append(samples, ProgressSample{Seconds: float64(i+1) * 0.5, Processed: int64((i + 1) * (i%7 + 1))})
	}
	samples[len(samples)-1].Processed = 1_000_000
	pts := Throughput(samples, 300)
	if len(pts) > 301 || len(pts) < 100 {
		t.Fatalf("%d points", len(pts))
	}
	total, prev := decimal.Zero, epoch
	for _, p := range pts {
		total = total.Add(p.V.Mul(decimal.NewFromFloat(p.T.Sub(prev).Seconds())))
		prev = p.T
	}
	if d := total.Sub(decimal.NewFromInt(1_000_000)).Abs(); d.GreaterThan(decimal.NewFromInt(1000)) {
		t.Errorf("the rates add up to %s commands, want 1,000,000 (rounding aside)", total)
	}
	if last := pts[len(pts)-1].T.Sub(epoch); last != 2500*time.Second {
		t.Errorf("last point at %v, want the last sample's 2500 s", last)
	}
}
