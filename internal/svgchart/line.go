package svgchart

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Point is one value at one time.
type Point struct {
	T time.Time
	V decimal.Decimal
}

// Line is a line chart of Points over time, with a value axis on the left and
// a time axis below.
type Line struct {
	// ID prefixes the ids of the chart's <title> and <desc>: unique in the
	// page (letters, digits, '-').
	ID string
	// Title names the chart ("Portfolio value"); Desc says more to screen
	// readers. An empty Desc is made from the points (how many, first and
	// last, low and high).
	Title, Desc string
	Points      []Point // any order: drawn by time
	Format      Format  // value labels; nil: Number
	// FromZero makes the value axis include zero: for rates and counts,
	// where a baseline above zero would exaggerate the swings.
	FromZero bool
	// MinStep is the finest value step the axis may use (0.01 for money,
	// so no two labels read the same); 0: any.
	MinStep   decimal.Decimal
	TimeLabel TimeLabel
	Empty     string // what an empty chart says; "": "No data yet"
	// Width and Height are the viewBox (the chart scales to its box, keeping
	// this aspect); 0: 640 × 240.
	Width, Height float64
	// FontSize of the axis labels, in viewBox units; 0: 12. A chart that
	// shrinks on a phone reads better with a narrower viewBox and a larger
	// font than with a wide one scaled down.
	FontSize float64
	// MaxMarks is how many points get a marker (a circle with the point's
	// value as a tooltip and in data-t, data-v); a longer series gets none.
	// 0: 120.
	MaxMarks int
}

// Rect is an area of the viewBox.
type Rect struct{ X, Y, W, H float64 }

// XY is a position in the viewBox.
type XY struct{ X, Y float64 }

// Tick is one labelled position along an axis (X for the time axis, Y for
// the value axis).
type Tick struct {
	Pos   float64
	Label string
}

// LineLayout is where everything of a Line goes.
type LineLayout struct {
	Width, Height  float64
	Plot           Rect // the area inside the axes
	XTicks, YTicks []Tick
	Points         []Point // sorted by time
	XY             []XY    // Points[i] is drawn at XY[i]
	YMin, YMax     decimal.Decimal
	TMin, TMax     time.Time
}

// Layout of the chart's parts; a chart with no points has only its size.
func (c Line) Layout() LineLayout {
	l := LineLayout{Width: c.Width, Height: c.Height}
	if l.Width <= 0 || l.Height <= 0 {
		l.Width, l.Height = 640, 240
	}
	if len(c.Points) == 0 {
		return l
	}
	l.Points = slices.Clone(c.Points)
	slices.SortStableFunc(l.Points, func(a, b Point) int { return a.T.Compare(b.T) })
	lo, hi := l.Points[0].V, l.Points[0].V
	for _, p := range l.Points {
		lo, hi = decimal.Min(lo, p.V), decimal.Max(hi, p.V)
	}
	if c.FromZero {
		lo, hi = decimal.Min(lo, decimal.Zero), decimal.Max(hi, decimal.Zero)
	}
	axis := niceAxis(lo, hi, c.MinStep)
	l.YMin, l.YMax = axis.Min, axis.Max
	l.TMin, l.TMax = l.Points[0].T, l.Points[len(l.Points)-1].T
	if !l.TMax.After(l.TMin) { // one moment: put it in the middle of a minute
		l.TMin, l.TMax = l.TMin.Add(-30*time.Second), l.TMax.Add(30*time.Second)
	}
	format := c.format()
	var labels []string
	for _, v := range axis.ticks() {
		labels = append(labels, format(v, axis.Places))
	}
	// The left margin fits the widest value label (a character is about
	// 0.58 of the font size wide), the bottom one the time labels.
	widest := 0
	for _, s := range labels {
		widest = max(widest, len([]rune(s)))
	}
	font := c.fontSize()
	l.Plot = Rect{X: float64(widest)*font*7/12 + 12, Y: 12, H: l.Height - 12 - font*7/3}
	l.Plot.W = l.Width - l.Plot.X - 2*font
	for i, v := range axis.ticks() {
		l.YTicks = append(l.YTicks, Tick{Pos: l.y(v), Label: labels[i]})
	}
	times, step := timeTicks(l.TMin, l.TMax)
	label := c.TimeLabel
	if label == nil {
		label = UTCLabel
	}
	for _, t := range times {
		l.XTicks = append(l.XTicks, Tick{Pos: l.x(t), Label: label(t, step)})
	}
	for _, p := range l.Points {
		l.XY = append(l.XY, XY{l.x(p.T), l.y(p.V)})
	}
	return l
}

// x is where time t goes across the plot.
func (l LineLayout) x(t time.Time) float64 {
	return l.Plot.X + l.Plot.W*float64(t.Sub(l.TMin))/float64(l.TMax.Sub(l.TMin))
}

// y is where value v goes up the plot (SVG's y grows downwards).
func (l LineLayout) y(v decimal.Decimal) float64 {
	frac := v.Sub(l.YMin).Div(l.YMax.Sub(l.YMin)).InexactFloat64()
	return l.Plot.Y + l.Plot.H*(1-frac)
}

func (c Line) fontSize() float64 {
	if c.FontSize <= 0 {
		return 12
	}
	return c.FontSize
}

func (c Line) format() Format {
	if c.Format == nil {
		return Number
	}
	return c.Format
}

// Colours of the charts; a stylesheet may override them through the
// classes.
const (
	lineColour  = "#2563eb"
	gridColour  = "#e5e7eb"
	labelColour = "#6b7280"
)

// Render writes the chart as one <svg> element.
func (c Line) Render(_ context.Context, w io.Writer) error {
	l := c.Layout()
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-line" viewBox="0 0 %s %s" width="100%%" role="img" aria-labelledby="%s-title %s-desc" data-points="%d">`,
		num(l.Width), num(l.Height), esc(c.ID), esc(c.ID), len(l.Points))
	fmt.Fprintf(&b, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, esc(c.ID), esc(c.Title), esc(c.ID), esc(c.desc(l)))
	if len(l.Points) == 0 {
		c.writeEmpty(&b, l)
	} else {
		writeAxes(&b, l, c.fontSize())
		c.writeLine(&b, l)
	}
	b.WriteString(`</svg>`)
	_, err := io.WriteString(w, b.String())
	return err
}

// SVG is the chart's markup.
func (c Line) SVG() string { return render(c) }

func (c Line) writeEmpty(b *strings.Builder, l LineLayout) {
	empty := c.Empty
	if empty == "" {
		empty = "No data yet"
	}
	fmt.Fprintf(b, `<rect class="chart-empty-frame" x="1" y="1" width="%s" height="%s" rx="6" fill="none" stroke="%s" stroke-dasharray="4 4"/>`,
		num(l.Width-2), num(l.Height-2), gridColour)
	fmt.Fprintf(b, `<text class="chart-empty" x="%s" y="%s" text-anchor="middle" dominant-baseline="middle" font-size="14" fill="%s">%s</text>`,
		num(l.Width/2), num(l.Height/2), labelColour, esc(empty))
}

// writeAxes draws the grid lines with the value labels, and the time axis
// with its labels.
func writeAxes(b *strings.Builder, l LineLayout, font float64) {
	right, bottom := l.Plot.X+l.Plot.W, l.Plot.Y+l.Plot.H
	fmt.Fprintf(b, `<g class="chart-grid" stroke="%s" stroke-width="1">`, gridColour)
	for _, t := range l.YTicks {
		fmt.Fprintf(b, `<line x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(l.Plot.X), num(t.Pos), num(right), num(t.Pos))
	}
	b.WriteString(`</g>`)
	fmt.Fprintf(b, `<g class="chart-axis chart-y-axis" font-size="%s" fill="%s" text-anchor="end">`, num(font), labelColour)
	for _, t := range l.YTicks {
		fmt.Fprintf(b, `<text x="%s" y="%s" dy="0.32em">%s</text>`, num(l.Plot.X-6), num(t.Pos), esc(t.Label))
	}
	b.WriteString(`</g>`)
	fmt.Fprintf(b, `<g class="chart-axis chart-x-axis" font-size="%s" fill="%s" text-anchor="middle">`, num(font), labelColour)
	fmt.Fprintf(b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`, num(l.Plot.X), num(bottom), num(right), num(bottom), labelColour)
	for _, t := range l.XTicks {
		fmt.Fprintf(b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`, num(t.Pos), num(bottom), num(t.Pos), num(bottom+4), labelColour)
		fmt.Fprintf(b, `<text x="%s" y="%s">%s</text>`, num(t.Pos), num(bottom+4+font*1.2), esc(t.Label))
	}
	b.WriteString(`</g>`)
}

// writeLine draws the area under the line, the line and its markers.
func (c Line) writeLine(b *strings.Builder, l LineLayout) {
	bottom := num(l.Plot.Y + l.Plot.H)
	var pts strings.Builder
	for i, p := range l.XY {
		if i > 0 {
			pts.WriteByte(' ')
		}
		pts.WriteString(num(p.X) + "," + num(p.Y))
	}
	first, last := l.XY[0], l.XY[len(l.XY)-1]
	fmt.Fprintf(b, `<path class="chart-area" d="M%s,%s L%s L%s,%s Z" fill="%s" fill-opacity="0.08"/>`,
		num(first.X), bottom, strings.ReplaceAll(pts.String(), " ", " L"), num(last.X), bottom, lineColour)
	fmt.Fprintf(b, `<polyline class="chart-path" points="%s" fill="none" stroke="%s" stroke-width="2" stroke-linejoin="round" stroke-linecap="round"/>`,
		pts.String(), lineColour)
	maxMarks := c.MaxMarks
	if maxMarks == 0 {
		maxMarks = 120
	}
	if len(l.Points) > maxMarks {
		return
	}
	format := c.format()
	fmt.Fprintf(b, `<g class="chart-marks" fill="%s">`, lineColour)
	for i, p := range l.Points {
		fmt.Fprintf(b, `<circle cx="%s" cy="%s" r="3" data-t="%s" data-v="%s"><title>%s: %s</title></circle>`,
			num(l.XY[i].X), num(l.XY[i].Y), p.T.UTC().Format(time.RFC3339Nano), p.V.String(),
			esc(p.T.UTC().Format("2006-01-02 15:04:05 UTC")), esc(format(p.V, 2)))
	}
	b.WriteString(`</g>`)
}

// desc is Desc, or a summary of the points for screen readers.
func (c Line) desc(l LineLayout) string {
	if c.Desc != "" {
		return c.Desc
	}
	if len(l.Points) == 0 {
		if c.Empty != "" {
			return c.Empty
		}
		return "No data yet."
	}
	return summarize(l.Points, c.format())
}

// summarize says what a series shows: how many points, first and last, low
// and high, times in UTC.
func summarize(pts []Point, format Format) string {
	lo, hi := pts[0], pts[0]
	for _, p := range pts {
		if p.V.LessThan(lo.V) {
			lo = p
		}
		if p.V.GreaterThan(hi.V) {
			hi = p
		}
	}
	first, last := pts[0], pts[len(pts)-1]
	when := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }
	if len(pts) == 1 {
		return fmt.Sprintf("1 point: %s at %s.", format(first.V, 2), when(first.T))
	}
	return fmt.Sprintf("%d points from %s (%s) to %s (%s); low %s, high %s.", len(pts),
		format(first.V, 2), when(first.T), format(last.V, 2), when(last.T), format(lo.V, 2), format(hi.V, 2))
}
