package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/daytradinginc/daytrader/internal/htmltest"
	"github.com/daytradinginc/daytrader/internal/stack"
	"github.com/daytradinginc/daytrader/internal/testenv"
	"github.com/daytradinginc/daytrader/workloads"
)

// TestWorkloadRunWritesAnHTMLReport runs the course's 1userWorkLoad with
// --embedded --html and reads the page as a person would: its sections, and
// in them the numbers the text report printed (summary, latency per
// command, errors, the DUMPLOG and its validation), and a commands/s chart
// with a point per progress sample.
func TestWorkloadRunWritesAnHTMLReport(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	shared := testenv.SharedDir(t)
	cfg := stack.FromEnv()
	cfg.LogLevel, cfg.QuoteLatency = "warn", "none"
	page := filepath.Join(t.TempDir(), "report.html")
	var text bytes.Buffer
	f := &runFlags{embedded: true, quiet: true, html: page, stdout: &text, opts: workloads.RunOptions{
		BatchSize: 7, Concurrency: 4, PollInterval: 50 * time.Millisecond,
		ValidateXSD: filepath.Join(shared, "spec", "logfile.xsd")}}
	if err := f.check(); err != nil {
		t.Fatal(err)
	}
	if err := workloadRun(ctx, cfg, f, filepath.Join(shared, "workloads", "1userWorkLoad")); err != nil {
		t.Fatalf("workload run: %v\n%s", err, text.String())
	}
	raw, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	doc := htmltest.Parse(t, bytes.NewReader(raw))
	want := parseTextReport(t, text.String())
	got := htmlNumbers(t, doc)
	for key, w := range want {
		if got[key] != w {
			t.Errorf("%s: the page says %q, the text report %q", key, got[key], w)
		}
	}
	if len(want) < 16 {
		t.Errorf("read only %d numbers from the text report:\n%s", len(want), text.String())
	}
	t.Logf("the page matches the text report's %d figures: %v", len(want), want)
	throughput := htmltest.ByID(t, doc, "throughput")
	marks := htmltest.Find(throughput, htmltest.Tag("circle"))
	samples, err := strconv.Atoi(htmltest.Attr(throughput, "data-samples"))
	if err != nil || len(marks) == 0 || len(marks) > samples {
		t.Errorf("commands/s chart: %d points for %d progress samples", len(marks), samples)
	}
}

var (
	commandsLine = regexp.MustCompile(`(?m)^commands   (\d+) from (\d+) users, (\d+) sent in (\d+) batches`)
	summaryLine  = regexp.MustCompile(`(?m)^processed  (\d+) in ([0-9.]+) s: (\d+) commands/s`)
	errorsLine   = regexp.MustCompile(`(?m)^errors     (\d+) error events; (\d+) malformed lines left out; (\d+) lines skipped`)
	quotesLine   = regexp.MustCompile(`(?m)^quotes     (\d+) legacy quote server hits`)
	dumpLine     = regexp.MustCompile(`(?m)^DUMPLOG    line (\d+) \[(\d+)\] \S+: (\d+) records in \S+, written in ([0-9.]+) s; (valid) \(xmllint(?:, peak RSS \d+ MiB)?\)`)
	latencyRow   = regexp.MustCompile(`^\s*([A-Z_]+|all)\s+(\d+)\s+(\d+)\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)\s*$`)
	errorRow     = regexp.MustCompile(`^\s*(\d+)\s+([A-Z_]+)\s+(.+?)\s*$`)
)

// parseTextReport reads the numbers of WriteText's report by name.
func parseTextReport(t *testing.T, text string) map[string]string {
	t.Helper()
	out := map[string]string{}
	must := func(re *regexp.Regexp, names ...string) {
		m := re.FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("the text report has no line like %s:\n%s", re, text)
		}
		for i, n := range names {
			out[n] = m[i+1]
		}
	}
	must(commandsLine, "commands", "users", "sent", "batches")
	must(summaryLine, "processed", "wall-seconds", "commands-per-second")
	must(errorsLine, "error-events", "malformed-lines", "skipped-lines")
	must(quotesLine, "legacy-quote-hits")
	must(dumpLine, "dump-line", "dump-tx", "dump-records", "dump-seconds", "dump-result")
	section := ""
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(line, "latency:"):
			section = "latency"
		case strings.HasPrefix(line, "errors by command"):
			section = "errors"
		case section == "latency" && latencyRow.MatchString(line):
			m := latencyRow.FindStringSubmatch(line)
			out["latency "+m[1]] = strings.Join(m[2:], " ")
		case section == "errors" && errorRow.MatchString(line):
			m := errorRow.FindStringSubmatch(line)
			out["error "+m[2]+" "+m[3]] = m[1]
		}
	}
	return out
}

// htmlNumbers reads the same numbers from the page, under the same names.
func htmlNumbers(t *testing.T, doc *html.Node) map[string]string {
	t.Helper()
	out := map[string]string{}
	plain := func(s string) string { return strings.ReplaceAll(s, ",", "") }
	for _, row := range htmltest.Find(htmltest.ByID(t, doc, "summary"), htmltest.Tag("tr")) {
		out[htmltest.Attr(row, "data-key")] = plain(htmltest.Cells(row)[1])
	}
	for _, row := range htmltest.Find(htmltest.ByID(t, doc, "latency"), htmltest.HasAttr("data-command", "")) {
		c := htmltest.Cells(row)
		// The text report has no samples column: count errors p50 p95 p99 max.
		out["latency "+c[0]] = plain(strings.Join(append(c[1:3], c[4:]...), " "))
	}
	for _, row := range htmltest.Find(htmltest.ByID(t, doc, "errors"), htmltest.HasAttr("data-command", "")) {
		c := htmltest.Cells(row)
		out["error "+c[1]+" "+c[2]] = plain(c[0])
	}
	for _, row := range htmltest.Find(htmltest.ByID(t, doc, "dumplog"), htmltest.HasAttr("data-line", "")) {
		c := htmltest.Cells(row)
		out["dump-line"], out["dump-tx"], out["dump-records"], out["dump-seconds"] = c[0], c[1], plain(c[3]), c[4]
		out["dump-result"] = strings.Fields(c[5])[0]
	}
	return out
}

// TestWorkloadRunRefusesAnHTMLPathItCannotWrite: a --html file in a
// directory that does not exist is refused before anything runs, not
// after a long run.
func TestWorkloadRunRefusesAnHTMLPathItCannotWrite(t *testing.T) {
	c, _, stderr := testCLI(nil)
	code := c.run(context.Background(), []string{"workload", "run", "--html", filepath.Join(t.TempDir(), "missing", "r.html"), "no-such-file"})
	if code != exitUsage || !strings.Contains(stderr.String(), "--html") || !strings.Contains(stderr.String(), "no directory") {
		t.Errorf("exit %d, %s; want exit 2 naming --html", code, stderr)
	}
}
