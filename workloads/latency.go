package workloads

import (
	"context"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/daytradinginc/daytrader/trading"
)

// sentLog holds the commands whose batches were recorded but whose audit
// time is not known yet, and folds each into its command's latency
// histogram once the audit has it. What it holds is bounded by the run's
// window (commands sent but not processed) plus one poll's worth, not by
// the length of the workload.
type sentLog struct {
	mu      sync.Mutex
	waiting []sentCommand
	byName  map[trading.CommandName]*commandTally
}

// sentCommand is one command waiting for its audit time.
type sentCommand struct {
	txNum  int64
	sentAt int64 // UnixNano when its batch was recorded
	name   trading.CommandName
}

// commandTally is one command name's count and latencies so far.
type commandTally struct {
	count     int64
	latencies histogram
}

func newSentLog() *sentLog { return &sentLog{byName: map[trading.CommandName]*commandTally{}} }

func (l *sentLog) add(batch []trading.Command, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range batch {
		l.waiting = append(l.waiting, sentCommand{txNum: c.TxNum, sentAt: at.UnixNano(), name: c.Name})
		l.tally(c.Name).count++
	}
}

func (l *sentLog) tally(name trading.CommandName) *commandTally {
	t := l.byName[name]
	if t == nil {
		t = &commandTally{}
		l.byName[name] = t
	}
	return t
}

// foldChunk bounds the transaction numbers one audit query asks about.
const foldChunk = 20_000

// fold asks the audit history for the times of the waiting commands (the
// oldest first, at most foldChunk of them per query) and moves those it
// has into the histograms. It returns how many still wait.
func (l *sentLog) fold(ctx context.Context, a AuditReader) (int, error) {
	l.mu.Lock()
	chunk := slices.Clone(l.waiting[:min(foldChunk, len(l.waiting))])
	l.mu.Unlock()
	if len(chunk) == 0 {
		return 0, nil
	}
	txNums := make([]int64, len(chunk))
	for i, c := range chunk {
		txNums[i] = c.txNum
	}
	times, err := a.UserCommandTimes(ctx, txNums)
	if err != nil {
		return 0, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	kept := chunk[:0]
	for _, c := range chunk {
		at, ok := times[c.txNum]
		if !ok {
			kept = append(kept, c)
			continue
		}
		// The audit time is workflow.Now of the task that ran the
		// command: when the server started that task. Send returns only
		// after the server has recorded the signal and its reply has come
		// back, and a worker that was waiting may start the task before
		// the reply arrives, so the difference can be a little below
		// zero. That means "processed at once": 0.
		l.tally(c.name).latencies.add(max(at.Sub(time.Unix(0, c.sentAt)), 0))
	}
	// The chunk was the head of waiting; commands added since are behind it.
	rest := l.waiting[len(chunk):]
	l.waiting = append(kept, rest...)
	return len(l.waiting), nil
}

// histogram counts durations in buckets fine enough for four significant
// digits: below one second to the tenth of a millisecond, above it to
// within 0.1 %. Its size depends on the spread of the values, not on how
// many there are.
type histogram struct {
	counts map[uint32]int64 // bucket → values in it
	n      int64
	max    time.Duration
}

// unit is the finest resolution: a tenth of a millisecond.
const unit = 100 * time.Microsecond

// bucketOf maps d to its bucket: exact in units below 10,000 (one second),
// then four significant digits (a mantissa of 1000 to 9999 and a decimal
// exponent).
func bucketOf(d time.Duration) uint32 {
	v := uint64(d / unit)
	exp := uint32(0)
	for v >= 10_000 {
		v /= 10
		exp++
	}
	return exp<<16 | uint32(v)
}

// lowerBound is the smallest duration in bucket b.
func lowerBound(b uint32) time.Duration {
	return time.Duration(float64(b&0xffff)*math.Pow10(int(b>>16))) * unit
}

func (h *histogram) add(d time.Duration) {
	if h.counts == nil {
		h.counts = map[uint32]int64{}
	}
	h.counts[bucketOf(d)]++
	h.n++
	h.max = max(h.max, d)
}

func (h *histogram) merge(o *histogram) {
	for b, c := range o.counts {
		if h.counts == nil {
			h.counts = map[uint32]int64{}
		}
		h.counts[b] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// latency returns the nearest-rank percentiles: for each, the lower bound
// of the bucket holding the smallest value with at least p % of the values
// at or below it; the maximum is exact.
func (h *histogram) latency() Latency {
	if h.n == 0 {
		return Latency{}
	}
	buckets := make([]uint32, 0, len(h.counts))
	for b := range h.counts {
		buckets = append(buckets, b)
	}
	slices.Sort(buckets) // exponent in the high bits: bucket order is value order
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	at := func(p float64) float64 {
		rank := min(max(int64(math.Ceil(p/100*float64(h.n))), 1), h.n)
		seen := int64(0)
		for _, b := range buckets {
			seen += h.counts[b]
			if seen >= rank {
				return ms(lowerBound(b))
			}
		}
		return ms(h.max)
	}
	return Latency{Samples: int(h.n), P50Ms: at(50), P95Ms: at(95), P99Ms: at(99), MaxMs: ms(h.max)}
}
