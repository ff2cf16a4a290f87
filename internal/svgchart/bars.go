package svgchart

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/shopspring/decimal"
)

// Bars is a horizontal bar chart of groups (rows) of bars, one bar per
// series in each group: for example per command type, its p50, p95 and p99
// latency. The value axis starts at zero.
type Bars struct {
	ID, Title, Desc string   // as Line's; an empty Desc lists every value
	Series          []string // the bars of a group, in order (the legend)
	Groups          []BarGroup
	Format          Format // value labels; nil: Number
	Unit            string // appended to values in the description and tooltips (" ms")
	Width           float64
}

// BarGroup is one row: a label and a value per series (missing ones are 0).
type BarGroup struct {
	Label  string
	Values []decimal.Decimal
}

// Bar is one drawn bar.
type Bar struct {
	Group, Series int
	Rect          Rect
	Value         decimal.Decimal
}

// BarsLayout is where a bar chart's parts go.
type BarsLayout struct {
	Width, Height float64
	Plot          Rect
	Ticks         []Tick // along the value axis, below the plot
	Bars          []Bar
	Labels        []Tick // each group's label, at its middle (Pos is y)
	Max           decimal.Decimal
}

// Bar geometry: each bar is barHeight tall, groups are groupGap apart, the
// legend sits in the top legendHeight.
const (
	barHeight    = 10
	groupGap     = 10
	legendHeight = 24
)

// Layout places the bars: widths proportional to value over an axis from 0
// to a round maximum.
func (c Bars) Layout() BarsLayout {
	l := BarsLayout{Width: c.Width}
	if l.Width <= 0 {
		l.Width = 640
	}
	widest, hi := 1, decimal.Zero
	for _, g := range c.Groups {
		widest = max(widest, len([]rune(g.Label)))
		for _, v := range g.Values {
			hi = decimal.Max(hi, v)
		}
	}
	axis := niceAxis(decimal.Zero, hi, decimal.Zero)
	if !hi.IsPositive() {
		axis = niceAxis(decimal.Zero, decimal.NewFromInt(1), decimal.Zero)
	}
	l.Max = axis.Max
	groupHeight := float64(len(c.Series)*barHeight + groupGap)
	l.Plot = Rect{X: float64(widest)*7 + 16, Y: legendHeight, H: groupHeight * float64(len(c.Groups))}
	l.Plot.W = l.Width - l.Plot.X - 24
	l.Height = l.Plot.Y + l.Plot.H + 28
	format := c.format()
	for _, v := range axis.ticks() {
		l.Ticks = append(l.Ticks, Tick{Pos: l.Plot.X + l.Plot.W*v.Div(l.Max).InexactFloat64(), Label: format(v, axis.Places)})
	}
	for gi, g := range c.Groups {
		top := l.Plot.Y + groupHeight*float64(gi) + groupGap/2
		l.Labels = append(l.Labels, Tick{Pos: top + float64(len(c.Series)*barHeight)/2, Label: g.Label})
		for si := range c.Series {
			v := decimal.Zero
			if si < len(g.Values) {
				v = g.Values[si]
			}
			w := l.Plot.W * v.Div(l.Max).InexactFloat64()
			l.Bars = append(l.Bars, Bar{Group: gi, Series: si, Value: v,
				Rect: Rect{X: l.Plot.X, Y: top + float64(si*barHeight), W: max(w, 0), H: barHeight - 1}})
		}
	}
	return l
}

func (c Bars) format() Format {
	if c.Format == nil {
		return Number
	}
	return c.Format
}

// seriesColours tell the series apart, light to dark.
var seriesColours = []string{"#93c5fd", "#3b82f6", "#1e3a8a", "#0f766e", "#a16207"}

// Render writes the chart as one <svg> element.
func (c Bars) Render(_ context.Context, w io.Writer) error {
	l := c.Layout()
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-bars" viewBox="0 0 %s %s" width="100%%" role="img" aria-labelledby="%s-title %s-desc" data-bars="%d">`,
		num(l.Width), num(l.Height), esc(c.ID), esc(c.ID), len(l.Bars))
	fmt.Fprintf(&b, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, esc(c.ID), esc(c.Title), esc(c.ID), esc(c.desc()))
	if len(c.Groups) == 0 {
		fmt.Fprintf(&b, `<text class="chart-empty" x="%s" y="%s" text-anchor="middle" font-size="14" fill="%s">No data</text></svg>`,
			num(l.Width/2), num(l.Height/2), labelColour)
		_, err := io.WriteString(w, b.String())
		return err
	}
	c.writeLegend(&b)
	fmt.Fprintf(&b, `<g class="chart-grid" stroke="%s" stroke-width="1">`, gridColour)
	for _, t := range l.Ticks {
		fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(t.Pos), num(l.Plot.Y), num(t.Pos), num(l.Plot.Y+l.Plot.H))
	}
	b.WriteString(`</g>`)
	fmt.Fprintf(&b, `<g class="chart-axis" font-size="12" fill="%s">`, labelColour)
	for _, t := range l.Ticks {
		fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="middle">%s</text>`, num(t.Pos), num(l.Plot.Y+l.Plot.H+18), esc(t.Label))
	}
	for _, t := range l.Labels {
		fmt.Fprintf(&b, `<text x="%s" y="%s" dy="0.32em" text-anchor="end">%s</text>`, num(l.Plot.X-8), num(t.Pos), esc(t.Label))
	}
	b.WriteString(`</g><g class="chart-bar-rects">`)
	format := c.format()
	for _, bar := range l.Bars {
		fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s" data-group="%s" data-series="%s" data-v="%s"><title>%s %s: %s%s</title></rect>`,
			num(bar.Rect.X), num(bar.Rect.Y), num(bar.Rect.W), num(bar.Rect.H), seriesColours[bar.Series%len(seriesColours)],
			esc(c.Groups[bar.Group].Label), esc(c.Series[bar.Series]), bar.Value.String(),
			esc(c.Groups[bar.Group].Label), esc(c.Series[bar.Series]), esc(format(bar.Value, 1)), esc(c.Unit))
	}
	b.WriteString(`</g></svg>`)
	_, err := io.WriteString(w, b.String())
	return err
}

// SVG is the chart's markup.
func (c Bars) SVG() string { return render(c) }

func (c Bars) writeLegend(b *strings.Builder) {
	fmt.Fprintf(b, `<g class="chart-legend" font-size="12" fill="%s">`, labelColour)
	x := 16.0
	for i, s := range c.Series {
		fmt.Fprintf(b, `<rect x="%s" y="6" width="12" height="12" fill="%s"/><text x="%s" y="16">%s</text>`,
			num(x), seriesColours[i%len(seriesColours)], num(x+16), esc(s))
		x += 16 + float64(len([]rune(s)))*7 + 16
	}
	b.WriteString(`</g>`)
}

// desc is Desc, or every value in words.
func (c Bars) desc() string {
	if c.Desc != "" {
		return c.Desc
	}
	if len(c.Groups) == 0 {
		return "No data."
	}
	format := c.format()
	var rows []string
	for _, g := range c.Groups {
		var parts []string
		for si, s := range c.Series {
			if si < len(g.Values) {
				parts = append(parts, s+" "+format(g.Values[si], 1)+c.Unit)
			}
		}
		rows = append(rows, g.Label+": "+strings.Join(parts, ", "))
	}
	return strings.Join(rows, "; ") + "."
}
