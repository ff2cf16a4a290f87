package workloads

import (
	_ "embed"
	"html/template"
	"io"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/daytradinginc/daytrader/internal/svgchart"
)

//go:embed report.html.tmpl
var reportHTML string

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"int":   func(n int64) string { return svgchart.Number(decimal.NewFromInt(n), 0) },
	"count": func(n int) string { return svgchart.Number(decimal.NewFromInt(int64(n)), 0) },
	"fixed": func(f float64, places int) string { return strconv.FormatFloat(f, 'f', places, 64) },
	"rate": func(f float64) string { // rounded as the text report's %.0f, with separators
		return svgchart.Number(decimal.RequireFromString(strconv.FormatFloat(f, 'f', 0, 64)), 0)
	},
	"svg":     func(s string) template.HTML { return template.HTML(s) }, // svgchart escapes what it writes
	"nowUTC":  func() string { return time.Now().UTC().Format("2006-01-02 15:04:05 UTC") },
	"deref":   func(b *bool) bool { return b != nil && *b },
	"checked": func(b *bool) bool { return b != nil },
}).Parse(reportHTML))

// WriteHTML writes the report as one self-contained HTML page (styles
// inline, charts as inline SVG, no script, nothing fetched): the summary,
// commands/s over time, latency per command type as a table and a bar
// chart, the errors, the DUMPLOG results and the lines not run.
func (r *Report) WriteHTML(w io.Writer) error {
	return reportTemplate.Execute(w, htmlReport{Report: r})
}

// htmlReport is what the page's template reads: the report and its charts.
type htmlReport struct{ *Report }

// epoch is where the throughput chart's time axis starts: a round time, so
// its ticks fall on round seconds of the run.
var epoch = time.Unix(0, 0).UTC()

// ThroughputChart is commands/s over the run: the processed commands
// between one progress sample and the next, plotted at the end of each
// interval (samples beyond 300 are thinned to an even spread first, so each
// point is then the average over a longer interval).
func (h htmlReport) ThroughputChart() string {
	return svgchart.Line{
		ID: "throughput-chart", Title: "Commands processed per second",
		Points: Throughput(h.Progress, 300), TimeLabel: svgchart.ElapsedLabel(epoch), FromZero: true,
		Empty: "No progress samples", Width: 640, Height: 240,
	}.SVG()
}

// Throughput turns progress samples into commands/s per interval, at most
// maxPoints+1 of them, time measured from epoch.
func Throughput(samples []ProgressSample, maxPoints int) []svgchart.Point {
	cumulative := svgchart.NewBounded(maxPoints)
	for _, s := range samples {
		cumulative.Add(svgchart.Point{T: epoch.Add(seconds(s.Seconds)), V: decimal.NewFromInt(s.Processed)})
	}
	var out []svgchart.Point
	prev := svgchart.Point{T: epoch, V: decimal.Zero}
	for _, p := range cumulative.Points() {
		dt := p.T.Sub(prev.T).Seconds()
		if dt <= 0 {
			continue
		}
		out = append(out, svgchart.Point{T: p.T, V: p.V.Sub(prev.V).Div(decimal.NewFromFloat(dt)).Round(0)})
		prev = p
	}
	return out
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// LatencyChart is p50, p95 and p99 per command type (the table's numbers).
func (h htmlReport) LatencyChart() string {
	c := svgchart.Bars{ID: "latency-chart", Title: "Latency per command type (ms)", Series: []string{"p50", "p95", "p99"},
		Unit: " ms", Width: 640}
	ms := func(f float64) decimal.Decimal { return decimal.NewFromFloat(f) }
	for _, s := range h.ByCommand {
		c.Groups = append(c.Groups, svgchart.BarGroup{Label: string(s.Command),
			Values: []decimal.Decimal{ms(s.Latency.P50Ms), ms(s.Latency.P95Ms), ms(s.Latency.P99Ms)}})
	}
	return c.SVG()
}
