// Package svgchart draws small SVG charts on the server, with no script: a
// line chart with axes and a sparkline of (time, decimal value) points, and
// horizontal bars. A chart scales with its viewBox (width 100%, any screen),
// names itself to screen readers (role="img", <title>, <desc> or aria-label),
// says so when it has no data, and draws its colours with presentation
// attributes that a stylesheet may override through the chart-* classes
// (presentation attributes are not inline styles, so a strict
// Content-Security-Policy allows them).
//
// Geometry is separate from drawing: Line.Layout and Sparkline.Layout say
// where every point and tick goes, so tests can check the numbers, and Render
// writes the SVG. Line, Sparkline and Bars implement templ.Component.
package svgchart

import (
	"strings"

	"github.com/shopspring/decimal"
)

// Format writes a value as an axis or point label; places is how many
// decimals the axis step needs (0 for a step of 1 or more).
type Format func(v decimal.Decimal, places int32) string

// Dollars writes money as $1,234 (places 0) or $1,234.50 (any other places:
// money has cents); a loss as -$12.00.
func Dollars(v decimal.Decimal, places int32) string {
	if places > 0 {
		places = 2
	}
	s := Number(v.Abs(), places)
	if v.IsNegative() && s != Number(decimal.Zero, places) {
		return "-$" + s
	}
	return "$" + s
}

// Number writes a value with thousands separators: 12,345.6.
func Number(v decimal.Decimal, places int32) string {
	s := v.StringFixed(max(places, 0))
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if hasFrac {
		b.WriteString("." + frac)
	}
	return b.String()
}
