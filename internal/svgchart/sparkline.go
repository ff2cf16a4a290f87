package svgchart

import (
	"context"
	"fmt"
	"html"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Sparkline is a word-sized line of Points: no axes, the last point marked;
// its label (aria-label and tooltip) says what it shows.
type Sparkline struct {
	// Label names the series ("ABC price"); the points' summary follows it.
	Label  string
	Points []Point // any order: drawn by time
	Format Format  // nil: Number
	// Width and Height are the viewBox; 0: 120 × 32.
	Width, Height float64
}

// SparkLayout is where a sparkline's points go: time across, value up, each
// scaled to the box (less a 3-unit inset for the stroke and the dot).
type SparkLayout struct {
	Width, Height float64
	Points        []Point // sorted by time
	XY            []XY
}

// Layout places the points. A flat series runs along the middle; a single
// point sits in the middle.
func (s Sparkline) Layout() SparkLayout {
	l := SparkLayout{Width: s.Width, Height: s.Height}
	if l.Width <= 0 || l.Height <= 0 {
		l.Width, l.Height = 120, 32
	}
	l.Points = slices.Clone(s.Points)
	slices.SortStableFunc(l.Points, func(a, b Point) int { return a.T.Compare(b.T) })
	if len(l.Points) == 0 {
		return l
	}
	const inset = 3
	lo, hi := l.Points[0].V, l.Points[0].V
	for _, p := range l.Points {
		lo, hi = decimal.Min(lo, p.V), decimal.Max(hi, p.V)
	}
	t0, t1 := l.Points[0].T, l.Points[len(l.Points)-1].T
	w, h := l.Width-2*inset, l.Height-2*inset
	for _, p := range l.Points {
		x, y := l.Width/2, l.Height/2
		if t1.After(t0) {
			x = inset + w*float64(p.T.Sub(t0))/float64(t1.Sub(t0))
		}
		if hi.GreaterThan(lo) {
			y = inset + h*(1-p.V.Sub(lo).Div(hi.Sub(lo)).InexactFloat64())
		}
		l.XY = append(l.XY, XY{x, y})
	}
	return l
}

// label is the sparkline's accessible name: Label and what the points show.
func (s Sparkline) label(l SparkLayout) string {
	if len(l.Points) == 0 {
		return s.Label + ": no data yet"
	}
	format := s.Format
	if format == nil {
		format = Number
	}
	return s.Label + ": " + summarize(l.Points, format)
}

// Render writes the sparkline as one <svg> element.
func (s Sparkline) Render(_ context.Context, w io.Writer) error {
	l := s.Layout()
	label := s.label(l)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart sparkline" viewBox="0 0 %s %s" width="%s" height="%s" role="img" aria-label="%s" data-points="%d"><title>%s</title>`,
		num(l.Width), num(l.Height), num(l.Width), num(l.Height), esc(label), len(l.Points), esc(label))
	switch len(l.XY) {
	case 0:
		fmt.Fprintf(&b, `<line class="chart-empty" x1="3" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-dasharray="3 3"/>`,
			num(l.Height/2), num(l.Width-3), num(l.Height/2), gridColour)
	default:
		var pts []string
		for _, p := range l.XY {
			pts = append(pts, num(p.X)+","+num(p.Y))
		}
		if len(pts) > 1 {
			fmt.Fprintf(&b, `<polyline class="chart-path" points="%s" fill="none" stroke="%s" stroke-width="1.5" stroke-linejoin="round" stroke-linecap="round"/>`,
				strings.Join(pts, " "), lineColour)
		}
		last, lp := l.XY[len(l.XY)-1], l.Points[len(l.Points)-1]
		fmt.Fprintf(&b, `<circle class="chart-last" cx="%s" cy="%s" r="2.5" fill="%s" data-t="%s" data-v="%s"/>`,
			num(last.X), num(last.Y), lineColour, lp.T.UTC().Format(time.RFC3339Nano), lp.V.String())
	}
	b.WriteString(`</svg>`)
	_, err := io.WriteString(w, b.String())
	return err
}

// SVG is the sparkline's markup.
func (s Sparkline) SVG() string { return render(s) }

// num writes a coordinate with at most two decimals.
func num(f float64) string {
	return strconv.FormatFloat(float64(int64(f*100+sign(f)*0.5))/100, 'f', -1, 64)
}

func sign(f float64) float64 {
	if f < 0 {
		return -1
	}
	return 1
}

// esc makes text safe inside an element or a quoted attribute.
func esc(s string) string { return html.EscapeString(s) }

type renderer interface {
	Render(context.Context, io.Writer) error
}

func render(r renderer) string {
	var b strings.Builder
	_ = r.Render(context.Background(), &b) // a strings.Builder does not fail
	return b.String()
}
