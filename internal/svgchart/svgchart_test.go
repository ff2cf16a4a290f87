package svgchart

import (
	"encoding/xml"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func pt(offset time.Duration, v string) Point {
	return Point{T: t0.Add(offset), V: decimal.RequireFromString(v)}
}

func near(a, b float64) bool { return math.Abs(a-b) < 0.01 }

// TestLineLayoutPlacesPointsOnTheAxes: three values over two hours. The
// value axis runs $100..$200 in $20 steps; the widest label ("$200", 4
// characters) makes the plot start at x=40, and the plot is 576 wide and
// 200 high from y=12, so each point's place is known exactly.
func TestLineLayoutPlacesPointsOnTheAxes(t *testing.T) {
	l := Line{ID: "c", Format: Dollars, Points: []Point{
		pt(2*time.Hour, "200"), pt(0, "100"), pt(time.Hour, "150"), // out of order: drawn by time
	}}.Layout()
	if l.Plot != (Rect{X: 40, Y: 12, W: 576, H: 200}) {
		t.Fatalf("plot area %+v", l.Plot)
	}
	wantXY := []XY{{40, 212}, {328, 112}, {616, 12}}
	for i, want := range wantXY {
		if !near(l.XY[i].X, want.X) || !near(l.XY[i].Y, want.Y) {
			t.Errorf("point %d (%v) at %+v, want %+v", i, l.Points[i].V, l.XY[i], want)
		}
	}
	var ys []string
	for _, tk := range l.YTicks {
		ys = append(ys, tk.Label+"@"+num(tk.Pos))
	}
	if got := strings.Join(ys, " "); got != "$100@212 $120@172 $140@132 $160@92 $180@52 $200@12" {
		t.Errorf("value ticks %s", got)
	}
	var xs []string
	for _, tk := range l.XTicks {
		xs = append(xs, tk.Label+"@"+num(tk.Pos))
	}
	if got := strings.Join(xs, " "); got != "10:00@40 10:30@184 11:00@328 11:30@472 12:00@616" {
		t.Errorf("time ticks %s", got)
	}
}

// TestLineFontSizeSetsTheMargins: a larger font widens the value labels'
// margin and the time labels' band, and the labels carry the size.
func TestLineFontSizeSetsTheMargins(t *testing.T) {
	c := Line{Format: Dollars, FontSize: 15, Width: 400, Height: 220, Points: []Point{pt(0, "100"), pt(time.Hour, "200")}}
	l := c.Layout()
	// "$200" is 4 characters at 15 × 7/12 units each, plus 12.
	if l.Plot != (Rect{X: 47, Y: 12, W: 323, H: 173}) {
		t.Errorf("plot area %+v", l.Plot)
	}
	root := parseSVG(t, c.SVG())
	for _, g := range root.all("g") {
		if strings.Contains(g.attr("class"), "chart-axis") && g.attr("font-size") != "15" {
			t.Errorf("%s font-size %q, want 15", g.attr("class"), g.attr("font-size"))
		}
	}
}

// TestLineLayoutEdgeCases: one point sits in the middle; a flat series is
// drawn inside the plot, not on its edge; the value axis always covers the
// data with round ticks.
func TestLineLayoutEdgeCases(t *testing.T) {
	one := Line{Points: []Point{pt(0, "1000")}}.Layout()
	if mid := one.Plot.X + one.Plot.W/2; !near(one.XY[0].X, mid) {
		t.Errorf("a single point at x=%v, want the middle %v", one.XY[0].X, mid)
	}
	flat := Line{Points: []Point{pt(0, "50"), pt(time.Minute, "50")}}.Layout()
	for _, p := range flat.XY {
		if p.Y <= flat.Plot.Y || p.Y >= flat.Plot.Y+flat.Plot.H {
			t.Errorf("a flat series drawn at y=%v, on the edge of %+v", p.Y, flat.Plot)
		}
	}
	rates := Line{FromZero: true, Points: []Point{pt(0, "800"), pt(time.Second, "1200")}}.Layout()
	if !rates.YMin.IsZero() || !rates.YMax.Equal(decimal.NewFromInt(1500)) {
		t.Errorf("FromZero: axis %v..%v, want 0..1500", rates.YMin, rates.YMax)
	}
	zero := Line{Points: []Point{pt(0, "0"), pt(time.Second, "0")}}.Layout()
	if !zero.YMin.Equal(decimal.NewFromInt(-1)) || !zero.YMax.Equal(decimal.NewFromInt(1)) {
		t.Errorf("an all-zero series gets the axis %v..%v, want -1..1", zero.YMin, zero.YMax)
	}
	for _, c := range []struct{ lo, hi, minStep, want string }{
		{"0", "1000", "0", "0..1000 step 200"},
		{"901.28", "1000", "0.01", "900..1000 step 20"},
		{"0.01", "0.04", "0.01", "0.01..0.04 step 0.01"},
		{"-30", "70", "0", "-40..80 step 20"},
		{"12.34", "12.35", "0", "12.34..12.35 step 0.002"},
		{"12.34", "12.35", "0.01", "12.34..12.35 step 0.01"},
		{"0", "1e15", "0.01", "0..1000000000000000 step 200000000000000"},
	} {
		lo, hi := decimal.RequireFromString(c.lo), decimal.RequireFromString(c.hi)
		a := niceAxis(lo, hi, decimal.RequireFromString(c.minStep))
		got := fmt.Sprintf("%s..%s step %s", a.Min, a.Max, a.Step)
		if got != c.want {
			t.Errorf("niceAxis(%s, %s, %s) = %s, want %s", c.lo, c.hi, c.minStep, got, c.want)
		}
		if a.Min.GreaterThan(lo) || a.Max.LessThan(hi) {
			t.Errorf("niceAxis(%s, %s) = %s does not cover the data", c.lo, c.hi, got)
		}
		if n := len(a.ticks()); n < 2 || n > maxTicks {
			t.Errorf("niceAxis(%s, %s) = %s has %d ticks", c.lo, c.hi, got, n)
		}
	}
}

// element is a parsed SVG element: enough of encoding/xml's tree to find
// elements and read their attributes and text.
type element struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Text     string     `xml:",chardata"`
	Children []element  `xml:",any"`
}

func (e element) attr(name string) string {
	for _, a := range e.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// all returns every element named name under e (e included).
func (e element) all(name string) []element {
	var out []element
	if e.XMLName.Local == name {
		out = append(out, e)
	}
	for _, c := range e.Children {
		out = append(out, c.all(name)...)
	}
	return out
}

func parseSVG(t *testing.T, svg string) element {
	t.Helper()
	var root element
	if err := xml.Unmarshal([]byte(svg), &root); err != nil {
		t.Fatalf("the chart is not well-formed XML: %v\n%s", err, svg)
	}
	if root.XMLName.Local != "svg" || root.XMLName.Space != "http://www.w3.org/2000/svg" {
		t.Fatalf("root element %v", root.XMLName)
	}
	return root
}

// coords reads a polyline's points attribute.
func coords(t *testing.T, points string) []XY {
	t.Helper()
	var out []XY
	for _, pair := range strings.Fields(points) {
		xs, ys, ok := strings.Cut(pair, ",")
		x, err1 := strconv.ParseFloat(xs, 64)
		y, err2 := strconv.ParseFloat(ys, 64)
		if !ok || err1 != nil || err2 != nil {
			t.Fatalf("bad point %q in %q", pair, points)
		}
		out = append(out, XY{x, y})
	}
	return out
}

// TestLineRendersAccessibleScalableSVG parses the markup: a viewBox and
// width 100% (it scales on a phone), role img labelled by its own title
// and desc, the line through the layout's points, one marker per point
// carrying its time and value, axis labels as text, and text escaped.
func TestLineRendersAccessibleScalableSVG(t *testing.T) {
	c := Line{ID: "pv", Title: `Value <of> "A&B"`, Format: Dollars, MinStep: decimal.RequireFromString("0.01"), Points: []Point{
		pt(0, "1000"), pt(10*time.Minute, "901.28"), pt(20*time.Minute, "1024.96"),
	}}
	root := parseSVG(t, c.SVG())
	if root.attr("viewBox") != "0 0 640 240" || root.attr("width") != "100%" || root.attr("role") != "img" {
		t.Errorf("svg attributes %v", root.Attrs)
	}
	ids := map[string]string{}
	for _, name := range []string{"title", "desc"} {
		for _, e := range root.all(name) {
			if id := e.attr("id"); id != "" {
				ids[id] = e.Text
			}
		}
	}
	for _, id := range strings.Fields(root.attr("aria-labelledby")) {
		if ids[id] == "" {
			t.Errorf("aria-labelledby names %q, which is not a title or desc with text (%v)", id, ids)
		}
	}
	if ids["pv-title"] != `Value <of> "A&B"` {
		t.Errorf("title %q", ids["pv-title"])
	}
	if want := "3 points from $1,000.00 (2026-03-01 10:00 UTC) to $1,024.96 (2026-03-01 10:20 UTC); low $901.28, high $1,024.96."; ids["pv-desc"] != want {
		t.Errorf("desc %q, want %q", ids["pv-desc"], want)
	}
	l := c.Layout()
	lines := root.all("polyline")
	if len(lines) != 1 {
		t.Fatalf("%d polylines", len(lines))
	}
	got := coords(t, lines[0].attr("points"))
	marks := root.all("circle")
	if len(got) != 3 || len(marks) != 3 {
		t.Fatalf("%d line points and %d markers, want 3", len(got), len(marks))
	}
	for i, p := range got {
		if !near(p.X, l.XY[i].X) || !near(p.Y, l.XY[i].Y) {
			t.Errorf("line point %d at %+v, layout says %+v", i, p, l.XY[i])
		}
		cx, _ := strconv.ParseFloat(marks[i].attr("cx"), 64)
		cy, _ := strconv.ParseFloat(marks[i].attr("cy"), 64)
		if !near(cx, p.X) || !near(cy, p.Y) {
			t.Errorf("marker %d at %v,%v, the line at %+v", i, cx, cy, p)
		}
		if v := marks[i].attr("data-v"); v != c.Points[i].V.String() {
			t.Errorf("marker %d data-v %q, want %s", i, v, c.Points[i].V)
		}
	}
	if tip := marks[1].all("title"); len(tip) != 1 || tip[0].Text != "2026-03-01 10:10:00 UTC: $901.28" {
		t.Errorf("marker tooltip %+v", tip)
	}
	var labels []string
	for _, e := range root.all("text") {
		labels = append(labels, e.Text)
	}
	if got := strings.Join(labels, " "); got != "$900 $950 $1,000 $1,050 10:00 10:05 10:10 10:15 10:20" {
		t.Errorf("axis labels %q", got)
	}
}

// TestLineEmptyAndLongSeries: no points give a framed message and no
// line; a series longer than MaxMarks is drawn without markers.
func TestLineEmptyAndLongSeries(t *testing.T) {
	root := parseSVG(t, Line{ID: "e", Title: "Portfolio value", Empty: "No trades yet"}.SVG())
	if len(root.all("polyline")) != 0 || root.attr("data-points") != "0" {
		t.Error("an empty chart draws a line")
	}
	if texts := root.all("text"); len(texts) != 1 || texts[0].Text != "No trades yet" {
		t.Errorf("empty chart texts %+v", texts)
	}
	if d := root.all("desc"); len(d) != 1 || d[0].Text != "No trades yet" {
		t.Errorf("empty chart desc %+v", d)
	}
	var pts []Point
	for i := range 200 {
		pts = append(pts, pt(time.Duration(i)*time.Second, strconv.Itoa(i%7)))
	}
	root = parseSVG(t, Line{ID: "l", Points: pts}.SVG())
	if n := len(coords(t, root.all("polyline")[0].attr("points"))); n != 200 {
		t.Errorf("the line has %d points, want 200", n)
	}
	if n := len(root.all("circle")); n != 0 {
		t.Errorf("%d markers on a 200-point series", n)
	}
}

// TestSparkline: the lowest value at the bottom, the highest at the top,
// first and last at the sides (3 units in), the last point marked, and the
// label saying what the line shows; no points or one point still draw.
func TestSparkline(t *testing.T) {
	s := Sparkline{Label: "ABC price", Format: Dollars, Points: []Point{
		pt(0, "10.00"), pt(time.Minute, "12.00"), pt(3*time.Minute, "11.00"),
	}}
	l := s.Layout()
	want := []XY{{3, 29}, {41, 3}, {117, 16}}
	for i := range want {
		if !near(l.XY[i].X, want[i].X) || !near(l.XY[i].Y, want[i].Y) {
			t.Errorf("point %d at %+v, want %+v", i, l.XY[i], want[i])
		}
	}
	root := parseSVG(t, s.SVG())
	label := "ABC price: 3 points from $10.00 (2026-03-01 10:00 UTC) to $11.00 (2026-03-01 10:03 UTC); low $10.00, high $12.00."
	if root.attr("aria-label") != label || root.attr("role") != "img" {
		t.Errorf("aria-label %q", root.attr("aria-label"))
	}
	if got := coords(t, root.all("polyline")[0].attr("points")); len(got) != 3 || !near(got[1].Y, 3) {
		t.Errorf("polyline %v", got)
	}
	if last := root.all("circle"); len(last) != 1 || last[0].attr("data-v") != "11" {
		t.Errorf("last-point marker %+v", last)
	}
	empty := parseSVG(t, Sparkline{Label: "XYZ price"}.SVG())
	if empty.attr("aria-label") != "XYZ price: no data yet" || len(empty.all("polyline")) != 0 {
		t.Errorf("empty sparkline %q", empty.attr("aria-label"))
	}
	one := Sparkline{Points: []Point{pt(0, "5")}}.Layout()
	if one.XY[0] != (XY{60, 16}) {
		t.Errorf("a single point at %+v, want the middle", one.XY[0])
	}
}

func TestTimeTicksAndLabels(t *testing.T) {
	for _, c := range []struct {
		span time.Duration
		want string
	}{
		{1500 * time.Millisecond, "10:00:00.0 10:00:00.5 10:00:01.0 10:00:01.5"},
		{45 * time.Second, "10:00:00 10:00:10 10:00:20 10:00:30 10:00:40"},
		{3 * time.Hour, "10:00 11:00 12:00 13:00"},
		{4 * 24 * time.Hour, "Mar 2 Mar 3 Mar 4 Mar 5"},
	} {
		ticks, step := timeTicks(t0, t0.Add(c.span))
		var labels []string
		for _, tk := range ticks {
			labels = append(labels, UTCLabel(tk, step))
		}
		if got := strings.Join(labels, " "); got != c.want {
			t.Errorf("span %v: ticks %q, want %q", c.span, got, c.want)
		}
	}
	// Ticks fall on round times even when the data does not start on one.
	ticks, _ := timeTicks(t0.Add(7*time.Minute), t0.Add(47*time.Minute))
	if ticks[0] != t0.Add(10*time.Minute) {
		t.Errorf("first tick %v, want 10:10", ticks[0])
	}
	epoch := time.Unix(0, 0)
	elapsed := ElapsedLabel(epoch)
	for _, c := range []struct {
		at, step time.Duration
		want     string
	}{
		{0, time.Second, "0 s"}, {1500 * time.Millisecond, 500 * time.Millisecond, "1.5 s"},
		{90 * time.Second, 30 * time.Second, "90 s"}, {2 * time.Minute, time.Minute, "2 min"},
		{90 * time.Minute, 30 * time.Minute, "1.5 h"},
	} {
		if got := elapsed(epoch.Add(c.at), c.step); got != c.want {
			t.Errorf("elapsed %v (step %v) = %q, want %q", c.at, c.step, got, c.want)
		}
	}
}

func TestFormats(t *testing.T) {
	for _, c := range []struct {
		v      string
		places int32
		dollar string
		number string
	}{
		{"1234567.891", 2, "$1,234,567.89", "1,234,567.89"},
		{"1234", 0, "$1,234", "1,234"},
		{"-12.5", 1, "-$12.50", "-12.5"},
		{"-0.001", 2, "$0.00", "0.00"},
		{"999", 0, "$999", "999"},
	} {
		v := decimal.RequireFromString(c.v)
		if got := Dollars(v, c.places); got != c.dollar {
			t.Errorf("Dollars(%s, %d) = %q, want %q", c.v, c.places, got, c.dollar)
		}
		if got := Number(v, c.places); got != c.number {
			t.Errorf("Number(%s, %d) = %q, want %q", c.v, c.places, got, c.number)
		}
	}
}

// TestBoundedKeepsAnEvenSpreadInBoundedMemory: 10,000 points into room for
// 100 leave at most 101, the first and the last among them, in order and
// evenly spaced (each kept point the end of an equal run).
func TestBoundedKeepsAnEvenSpreadInBoundedMemory(t *testing.T) {
	for _, n := range []int{1, 2, 99, 100, 101, 257, 10_000} {
		b := NewBounded(100)
		for i := range n {
			b.Add(pt(time.Duration(i)*time.Second, strconv.Itoa(i)))
			if b.Len() > 101 {
				t.Fatalf("n=%d: %d points kept after %d added", n, b.Len(), i+1)
			}
		}
		got := b.Points()
		if len(got) != b.Len() {
			t.Fatalf("n=%d: Len %d, Points %d", n, b.Len(), len(got))
		}
		if !got[0].V.IsZero() || !got[len(got)-1].V.Equal(decimal.NewFromInt(int64(n-1))) {
			t.Errorf("n=%d: first %v, last %v", n, got[0].V, got[len(got)-1].V)
		}
		if n <= 100 && len(got) != n {
			t.Errorf("n=%d: kept %d, want all", n, len(got))
		}
		if n > 100 && len(got) < 50 {
			t.Errorf("n=%d: kept only %d", n, len(got))
		}
		// Between the first and the last, kept points are one stride apart.
		if len(got) > 3 {
			stride := got[2].V.Sub(got[1].V)
			for i := 2; i < len(got)-1; i++ {
				if d := got[i].V.Sub(got[i-1].V); !d.Equal(stride) {
					t.Errorf("n=%d: point %d is %v after the previous, want the stride %v", n, i, d, stride)
					break
				}
			}
		}
	}
}

// TestBarsLayoutAndMarkup: bar widths are proportional to their values on
// an axis from 0 to a round maximum; each bar carries its group, series and
// value; the description reads every value.
func TestBarsLayoutAndMarkup(t *testing.T) {
	d := decimal.RequireFromString
	c := Bars{ID: "lat", Title: "Latency", Series: []string{"p50", "p95", "p99"}, Unit: " ms", Groups: []BarGroup{
		{Label: "BUY", Values: []decimal.Decimal{d("1"), d("5"), d("10")}},
		{Label: "SELL", Values: []decimal.Decimal{d("2"), d("4"), d("20")}},
	}}
	l := c.Layout()
	if l.Plot != (Rect{X: 44, Y: 24, W: 572, H: 80}) || l.Height != 132 || !l.Max.Equal(d("20")) {
		t.Fatalf("plot %+v, height %v, max %v", l.Plot, l.Height, l.Max)
	}
	want := map[[2]int]Rect{
		{0, 2}: {X: 44, Y: 49, W: 286, H: 9},
		{1, 0}: {X: 44, Y: 69, W: 57.2, H: 9},
		{1, 2}: {X: 44, Y: 89, W: 572, H: 9},
	}
	for _, bar := range l.Bars {
		if w, ok := want[[2]int{bar.Group, bar.Series}]; ok && (!near(bar.Rect.X, w.X) || !near(bar.Rect.Y, w.Y) || !near(bar.Rect.W, w.W) || bar.Rect.H != w.H) {
			t.Errorf("bar %d/%d at %+v, want %+v", bar.Group, bar.Series, bar.Rect, w)
		}
	}
	var ticks []string
	for _, tk := range l.Ticks {
		ticks = append(ticks, tk.Label+"@"+num(tk.Pos))
	}
	if got := strings.Join(ticks, " "); got != "0@44 5@187 10@330 15@473 20@616" {
		t.Errorf("ticks %s", got)
	}
	root := parseSVG(t, c.SVG())
	var bars []string
	for _, r := range root.all("rect") {
		if r.attr("data-v") != "" {
			bars = append(bars, r.attr("data-group")+"/"+r.attr("data-series")+"="+r.attr("data-v"))
		}
	}
	if got := strings.Join(bars, " "); got != "BUY/p50=1 BUY/p95=5 BUY/p99=10 SELL/p50=2 SELL/p95=4 SELL/p99=20" {
		t.Errorf("bars %s", got)
	}
	if d := root.all("desc")[0].Text; d != "BUY: p50 1.0 ms, p95 5.0 ms, p99 10.0 ms; SELL: p50 2.0 ms, p95 4.0 ms, p99 20.0 ms." {
		t.Errorf("desc %q", d)
	}
	empty := parseSVG(t, Bars{ID: "e", Title: "Latency"}.SVG())
	if texts := empty.all("text"); len(texts) != 1 || texts[0].Text != "No data" {
		t.Errorf("empty bar chart %+v", texts)
	}
}
