package svgchart

// Bounded collects a series of any length in bounded memory, for a chart
// that can show only so many points anyway. Up to max points it keeps every
// one; then it halves them (keeping the first, and the later point of each
// following pair) and from then on keeps one point in two of those added,
// doubling again each time it fills. So the kept points stay evenly spread
// over what was added, and each stands for the value at the end of the run
// of points it replaced (for a running total such as a portfolio's value,
// the value after those events). The last point added is always kept.
type Bounded struct {
	max     int
	pts     []Point
	stride  int   // one point kept per stride added
	skipped int   // points added since the last one kept
	pending Point // the last added point, when not kept yet
}

// NewBounded keeps at most max+1 points (max at least 2).
func NewBounded(n int) *Bounded {
	return &Bounded{max: max(n, 2), stride: 1}
}

// Add appends p, which must not be earlier than the points before it.
func (b *Bounded) Add(p Point) {
	b.skipped++
	if b.skipped < b.stride && len(b.pts) > 0 {
		b.pending = p
		return
	}
	b.skipped = 0
	b.pts = append(b.pts, p)
	if len(b.pts) <= b.max {
		return
	}
	newest, unpaired := b.pts[len(b.pts)-1], (len(b.pts)-1)%2 == 1
	kept := make([]Point, 1, b.max/2+2)
	kept[0] = b.pts[0]
	for i := 2; i < len(b.pts); i += 2 {
		kept = append(kept, b.pts[i])
	}
	b.pts = kept
	b.stride *= 2
	if unpaired {
		// The newest point had no pair: it is half a run of the new stride.
		b.pending, b.skipped = newest, b.stride/2
	}
}

// Len is how many points Points returns.
func (b *Bounded) Len() int {
	if b.skipped > 0 {
		return len(b.pts) + 1
	}
	return len(b.pts)
}

// Points are the kept points, oldest first, ending with the last one added.
func (b *Bounded) Points() []Point {
	out := append([]Point(nil), b.pts...)
	if b.skipped > 0 {
		out = append(out, b.pending)
	}
	return out
}
