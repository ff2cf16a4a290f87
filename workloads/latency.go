package workloads

import (
	"context"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/trading"
)

// sentLog holds the commands sent but whose audit record has not been
// read yet, and folds each into its command's latency histogram once it
// is. It reads the run's userCommand records forward from the run's mark
// (each record once, along the primary key). A record committed late,
// under a lower id than one already read, is passed over by that read; but
// an account runs its commands in order, so once a later command of the
// same user is folded the earlier one is known to be processed, and is
// looked for among that user's records (findLate). Each poll folds before
// it opens the window to more commands, so what the log holds is bounded by
// the window and the records not found yet, not by the length of the
// workload. An entry is 40 bytes of the map and nothing beside it.
type sentLog struct {
	mu      sync.Mutex
	users   map[string]*userStats // the plan's: each user's number
	names   []string              // the plan's users, by number
	waiting map[userTx]sentCommand
	perUser []userLog // by user number
	// moved are the users whose folded mark moved since findLate last ran.
	moved   map[uint32]bool
	tallies []*commandTally // by command name, in order of first sending
	cursor  int64           // the id of the last record read
	// mostWaiting is the high-water mark of len(waiting); lateAtEnd is
	// how many waited when the run ended (left to reread).
	mostWaiting, lateAtEnd int
}

// userTx names a command: an account ignores a number it has seen, so a
// user's transaction number is unique.
type userTx struct {
	user  uint32 // userStats.index
	txNum int64
}

// sentCommand is one command waiting for its audit record. Its batch is
// logged before it is sent (sentAt 0 until the Send returns), so a record
// read before then is kept (at) rather than taken for another client's.
type sentCommand struct {
	sentAt int64  // UnixNano when its batch was recorded; 0 while sending
	at     int64  // UnixNano of its audit record, when read before sentAt
	place  uint32 // among its user's commands, from 0
	tally  uint8  // index in sentLog.tallies (a command name: parsing takes 16)
}

// userLog is what findLate needs of one user: where its records were
// folded up to, and its batches with commands still waiting.
type userLog struct {
	// folded is one past the highest place folded: the account has run
	// every command before it. Records come in place order, so every
	// command from folded on still waits.
	folded  uint32
	batches []loggedBatch // in the order sent
}

// loggedBatch is a batch with commands still waiting for their record.
type loggedBatch struct {
	first, n, left uint32 // its places [first, first+n), of which left wait
	after          int64  // the cursor when it was logged: its records have higher ids
	sent           bool   // its Send returned
	lookedAt       uint32 // the folded mark when findLate last looked for it
}

// late says whether some of b's commands before folded still wait.
func (b loggedBatch) late(folded uint32) bool {
	unrun := b.first + b.n - min(max(folded, b.first), b.first+b.n) // from folded on: all waiting
	return b.sent && b.left > unrun && b.lookedAt < folded
}

// commandTally is one command name's count and latencies so far.
type commandTally struct {
	name      trading.CommandName
	count     int64
	latencies histogram
}

func newSentLog(p *plan, mark int64) *sentLog {
	return &sentLog{users: p.byUser, names: p.users, waiting: map[userTx]sentCommand{},
		perUser: make([]userLog, len(p.users)), moved: map[uint32]bool{}, cursor: mark}
}

// sending logs a batch about to be sent; first is the place of its first
// command among the user's commands.
func (l *sentLog) sending(user string, first int64, batch []trading.Command) {
	l.mu.Lock()
	defer l.mu.Unlock()
	u := l.users[user].index
	for i, c := range batch {
		t := l.tally(c.Name)
		l.tallies[t].count++
		l.waiting[userTx{u, c.TxNum}] = sentCommand{place: uint32(first) + uint32(i), tally: t}
	}
	n := uint32(len(batch))
	ul := &l.perUser[u]
	ul.batches = append(ul.batches, loggedBatch{first: uint32(first), n: n, left: n, after: l.cursor})
	l.mostWaiting = max(l.mostWaiting, len(l.waiting))
}

// sent records when the batch was recorded; commands whose audit record
// was read meanwhile are folded now.
func (l *sentLog) sent(user string, first int64, batch []trading.Command, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	u := l.users[user].index
	for i := range l.perUser[u].batches {
		if b := &l.perUser[u].batches[i]; b.first == uint32(first) {
			b.sent = true
			break
		}
	}
	for _, c := range batch {
		k := userTx{u, c.TxNum}
		sc, ok := l.waiting[k]
		if !ok {
			continue
		}
		sc.sentAt = at.UnixNano()
		if sc.at != 0 {
			l.fold(k, sc, sc.at)
			// findLate passed the batch over while it was being sent:
			// it looks again at the next read.
			l.moved[u] = true
		} else {
			l.waiting[k] = sc
		}
	}
}

// most is the most commands that were waiting at once, and how many were
// left to reread.
func (l *sentLog) most() (waiting, lateAtEnd int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.mostWaiting, l.lateAtEnd
}

// fold moves one command into its histogram. The audit time is
// workflow.Now of the task that ran the command: when the server started
// that task. Send returns only after the server has recorded the signal
// and its reply has come back, and a worker that was waiting may start the
// task before the reply arrives, so the difference can be a little below
// zero. That means "processed at once": 0. (Called with mu held.)
func (l *sentLog) fold(k userTx, sc sentCommand, at int64) {
	l.tallies[sc.tally].latencies.add(max(time.Duration(at-sc.sentAt), 0))
	delete(l.waiting, k)
	ul := &l.perUser[k.user]
	for i := range ul.batches {
		if b := &ul.batches[i]; sc.place >= b.first && sc.place < b.first+b.n {
			b.left--
			break
		}
	}
	for len(ul.batches) > 0 && ul.batches[0].left == 0 {
		ul.batches = ul.batches[1:]
	}
	if len(ul.batches) == 0 {
		ul.batches = nil // (the array's room is not kept for a user done)
	}
}

// tally is the index of name's tally. (Called with mu held.)
func (l *sentLog) tally(name trading.CommandName) uint8 {
	for i, t := range l.tallies {
		if t.name == name {
			return uint8(i)
		}
	}
	l.tallies = append(l.tallies, &commandTally{name: name})
	return uint8(len(l.tallies) - 1)
}

// byName is each command name's tally.
func (l *sentLog) byName() map[trading.CommandName]*commandTally {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[trading.CommandName]*commandTally, len(l.tallies))
	for _, t := range l.tallies {
		out[t.name] = t
	}
	return out
}

// readPage bounds the records one audit query reads, and so what a read
// holds at once (some 70 bytes a record). A poll reads a few pages at most.
const readPage = 5_000

// read reads the userCommand records stored since the last read and folds
// the commands they name, then looks for the records it passed over
// (findLate); records of other clients' commands are passed over. It
// returns how many commands it has found processed so far.
func (l *sentLog) read(ctx context.Context, a AuditReader) (found int64, err error) {
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
			l.record(r)
		}
		waiting := len(l.waiting)
		l.mu.Unlock()
		if len(page) < readPage || waiting == 0 {
			break
		}
	}
	if err := l.findLate(ctx, a); err != nil {
		return 0, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.folded(), nil
}

// folded is how many commands were folded: their records were read. (Called
// with mu held.)
func (l *sentLog) folded() int64 {
	var n int64
	for _, t := range l.tallies {
		n += t.latencies.n
	}
	return n
}

// record takes one audit record: it folds the command it names, or keeps
// its time if the command is still being sent; another client's record is
// passed over. (Called with mu held.)
func (l *sentLog) record(r audit.CommandTime) {
	st := l.users[r.User]
	if st == nil {
		return // not a user of this run
	}
	k := userTx{st.index, r.TxNum}
	sc, ok := l.waiting[k]
	if !ok {
		return
	}
	if ul := &l.perUser[k.user]; sc.place >= ul.folded {
		ul.folded = sc.place + 1
		l.moved[k.user] = true
	}
	if sc.sentAt == 0 {
		sc.at = r.Time.UnixNano()
		l.waiting[k] = sc
		return
	}
	l.fold(k, sc, r.Time.UnixNano())
}

// findLate looks for the records of commands still waiting although a
// later command of their user was folded: the account ran them first, so
// their records were stored, under ids the forward read had passed. For
// each such batch it reads its user's records above the cursor the batch
// was logged at, up to the current one (again only once more commands of
// the user were folded); a record not visible yet waits for reread.
func (l *sentLog) findLate(ctx context.Context, a AuditReader) error {
	l.mu.Lock()
	from := map[uint32]int64{} // user number → the lowest cursor to read after
	for u := range l.moved {
		ul := &l.perUser[u]
		for i := range ul.batches {
			if b := &ul.batches[i]; b.late(ul.folded) {
				b.lookedAt = ul.folded
				if f, ok := from[u]; !ok || b.after < f {
					from[u] = b.after
				}
			}
		}
	}
	clear(l.moved)
	upTo := l.cursor
	l.mu.Unlock()
	for u, after := range from {
		recs, err := a.UserCommandsBetween(ctx, l.names[u], after, upTo)
		if err != nil {
			return err
		}
		l.mu.Lock()
		for _, r := range recs {
			l.record(r)
		}
		l.mu.Unlock()
	}
	return nil
}

// reread reads the run's records again from its mark: a record committed
// late under a lower id than one already read, and not found by findLate,
// was passed over by read.
func (l *sentLog) reread(ctx context.Context, a AuditReader, mark int64) error {
	l.mu.Lock()
	l.lateAtEnd = len(l.waiting)
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
