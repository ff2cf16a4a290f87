package svgchart

import (
	"math"
	"time"

	"github.com/shopspring/decimal"
)

// valueAxis is a y axis: from Min to Max in steps of Step, every tick a
// multiple of Step (1, 2 or 5 times a power of ten), so labels read round.
type valueAxis struct {
	Min, Max, Step decimal.Decimal
	Places         int32 // decimals a label needs
}

// maxTicks bounds the ticks of an axis; niceAxis aims at about four steps.
const maxTicks = 8

// niceAxis spans lo..hi with round ticks, at least minStep apart (0: any
// step). A flat series (lo == hi) gets a range around its value, so its line
// sits inside the plot, not on an edge.
func niceAxis(lo, hi, minStep decimal.Decimal) valueAxis {
	if hi.LessThan(lo) {
		lo, hi = hi, lo
	}
	if lo.Equal(hi) {
		pad := decimal.Max(lo.Abs().Div(decimal.NewFromInt(10)), minStep)
		if pad.IsZero() {
			pad = decimal.NewFromInt(1)
		}
		lo, hi = lo.Sub(pad), hi.Add(pad)
	}
	raw := decimal.Max(hi.Sub(lo).Div(decimal.NewFromInt(4)), minStep)
	for {
		var a valueAxis
		a.Step, a.Places = niceStep(raw)
		if a.Step.LessThan(minStep) {
			a.Step, a.Places = minStep, max(0, -minStep.Exponent())
		}
		a.Min = lo.Div(a.Step).Floor().Mul(a.Step)
		a.Max = hi.Div(a.Step).Ceil().Mul(a.Step)
		if a.Max.Sub(a.Min).Div(a.Step).LessThan(decimal.NewFromInt(maxTicks)) {
			return a
		}
		// Rounding both ends out added steps: take the next coarser one.
		raw = a.Step.Mul(decimal.RequireFromString("1.5"))
	}
}

// niceStep rounds raw (> 0) to 1, 2 or 5 × 10^k, whichever is nearest on a
// log scale, and says how many decimals the step needs.
func niceStep(raw decimal.Decimal) (decimal.Decimal, int32) {
	exp := int32(math.Floor(math.Log10(raw.InexactFloat64())))
	f := raw.Div(decimal.New(1, exp)).InexactFloat64()
	var m int64
	switch {
	case f < 1.5:
		m = 1
	case f < 3:
		m = 2
	case f < 7:
		m = 5
	default:
		m, exp = 1, exp+1
	}
	return decimal.New(m, exp), max(0, -exp)
}

// ticks are the axis' tick values, Min to Max.
func (a valueAxis) ticks() []decimal.Decimal {
	var out []decimal.Decimal
	for v := a.Min; v.LessThanOrEqual(a.Max) && len(out) <= maxTicks; v = v.Add(a.Step) {
		out = append(out, v)
	}
	return out
}

// timeSteps are the x axis' tick spacings, finest first.
var timeSteps = []time.Duration{
	100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
	24 * time.Hour, 2 * 24 * time.Hour, 7 * 24 * time.Hour, 14 * 24 * time.Hour, 28 * 24 * time.Hour,
	91 * 24 * time.Hour, 182 * 24 * time.Hour, 364 * 24 * time.Hour,
}

// maxTimeTicks is how many x labels fit a phone-width chart.
const maxTimeTicks = 5

// timeTicks are round times from lo to hi (multiples of a step from
// timeSteps, in UTC), at most maxTimeTicks of them, and the step.
func timeTicks(lo, hi time.Time) ([]time.Time, time.Duration) {
	span := hi.Sub(lo)
	step := timeSteps[len(timeSteps)-1]
	for _, s := range timeSteps {
		if span/s < maxTimeTicks {
			step = s
			break
		}
	}
	var out []time.Time
	t := lo.Truncate(step)
	if t.Before(lo) {
		t = t.Add(step)
	}
	for ; !t.After(hi) && len(out) < maxTimeTicks; t = t.Add(step) {
		out = append(out, t)
	}
	return out, step
}

// TimeLabel writes an x tick; step is the spacing of the ticks.
type TimeLabel func(t time.Time, step time.Duration) string

// UTCLabel is the default TimeLabel: 15:04:05.0 under a second apart,
// 15:04:05 under a minute, 15:04 under a day, else Jan 2, all in UTC.
func UTCLabel(t time.Time, step time.Duration) string {
	t = t.UTC()
	switch {
	case step < time.Second:
		return t.Format("15:04:05.0")
	case step < time.Minute:
		return t.Format("15:04:05")
	case step < 24*time.Hour:
		return t.Format("15:04")
	}
	return t.Format("Jan 2")
}

// ElapsedLabel writes an x tick as the time since start ("0 s", "1 min 30
// s"): for runs, where the wall clock says little.
func ElapsedLabel(start time.Time) TimeLabel {
	return func(t time.Time, step time.Duration) string {
		d := t.Sub(start)
		switch {
		case step < time.Second:
			return decimal.NewFromFloat(d.Seconds()).StringFixed(1) + " s"
		case d < time.Minute || d%time.Minute != 0 && step < time.Minute:
			return decimal.NewFromFloat(d.Seconds()).StringFixed(0) + " s"
		case d < time.Hour:
			return decimal.NewFromFloat(d.Minutes()).StringFixed(0) + " min"
		}
		return decimal.NewFromFloat(d.Hours()).StringFixed(1) + " h"
	}
}
