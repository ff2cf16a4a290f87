package workloads

import (
	"context"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/daytradinginc/daytrader/trading"
)

// sentLog holds the commands sent but whose audit record has not been
// read yet, and folds each into its command's latency histogram once it
// is. It reads the run's userCommand records forward from the run's mark
// (each record once, along the primary key), so what it holds is bounded
// by the run's window plus one read, not by the length of the workload.
type sentLog struct {
	mu      sync.Mutex
	waiting map[userTx]*sentCommand
	byName  map[trading.CommandName]*commandTally
	cursor  int64 // the id of the last record read
}

// userTx names a command: an account ignores a number it has seen, so a
// user's transaction number is unique.
type userTx struct {
	user  string
	txNum int64
}

// sentCommand is one command waiting for its audit record. Its batch is
// logged before it is sent (sentAt 0 until the Send returns), so a record
// read before then is kept (at) rather than taken for another client's.
type sentCommand struct {
	name   trading.CommandName
	sentAt int64 // UnixNano when its batch was recorded; 0 while sending
	at     int64 // UnixNano of its audit record, when read before sentAt
}

// commandTally is one command name's count and latencies so far.
type commandTally struct {
	count     int64
	latencies histogram
}

func newSentLog(mark int64) *sentLog {
	return &sentLog{waiting: map[userTx]*sentCommand{}, byName: map[trading.CommandName]*commandTally{}, cursor: mark}
}

// sending logs a batch about to be sent.
func (l *sentLog) sending(user string, batch []trading.Command) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range batch {
		l.waiting[userTx{user, c.TxNum}] = &sentCommand{name: c.Name}
		l.tally(c.Name).count++
	}
}

// sent records when the batch was recorded; commands whose audit record
// was read meanwhile are folded now.
func (l *sentLog) sent(user string, batch []trading.Command, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range batch {
		k := userTx{user, c.TxNum}
		sc := l.waiting[k]
		if sc == nil {
			continue
		}
		sc.sentAt = at.UnixNano()
		if sc.at != 0 {
			l.fold(k, sc, sc.at)
		}
	}
}

// fold moves one command into its histogram. The audit time is
// workflow.Now of the task that ran the command: when the server started
// that task. Send returns only after the server has recorded the signal
// and its reply has come back, and a worker that was waiting may start the
// task before the reply arrives, so the difference can be a little below
// zero. That means "processed at once": 0. (Called with mu held.)
func (l *sentLog) fold(k userTx, sc *sentCommand, at int64) {
	l.tally(sc.name).latencies.add(max(time.Duration(at-sc.sentAt), 0))
	delete(l.waiting, k)
}

func (l *sentLog) tally(name trading.CommandName) *commandTally {
	t := l.byName[name]
	if t == nil {
		t = &commandTally{}
		l.byName[name] = t
	}
	return t
}

// readPage bounds the records one audit query reads.
const readPage = 20_000

// read reads the userCommand records stored since the last read and folds
// the commands they name; records of other clients' commands are passed
// over. It returns how many commands still wait.
func (l *sentLog) read(ctx context.Context, a AuditReader) (int, error) {
	for {
		l.mu.Lock()
		cursor := l.cursor
		l.mu.Unlock()
		page, err := a.UserCommandsAfter(ctx, cursor, readPage)
		if err != nil {
			return 0, err
		}
		l.mu.Lock()
		for _, r := range page {
			l.cursor = max(l.cursor, r.ID)
			k := userTx{r.User, r.TxNum}
			sc := l.waiting[k]
			switch {
			case sc == nil:
			case sc.sentAt == 0:
				sc.at = r.Time.UnixNano()
			default:
				l.fold(k, sc, r.Time.UnixNano())
			}
		}
		waiting := len(l.waiting)
		l.mu.Unlock()
		if len(page) < readPage || waiting == 0 {
			return waiting, nil
		}
	}
}

// reread reads the run's records again from its mark: a record committed
// late under a lower id than one already read was passed over by read.
func (l *sentLog) reread(ctx context.Context, a AuditReader, mark int64) error {
	l.mu.Lock()
	if len(l.waiting) == 0 {
		l.mu.Unlock()
		return nil
	}
	l.cursor = mark
	l.mu.Unlock()
	_, err := l.read(ctx, a)
	return err
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
