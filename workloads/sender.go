package workloads

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/daytradinginc/daytrader/trading"
	"golang.org/x/sync/semaphore"
)

// batchSender streams a Source to the accounts: each user's commands in
// file order, in batches of up to BatchSize (one Send each, a user's next
// batch only once the previous one is recorded), at most Concurrency Sends
// at a time, and at most Window commands sent but not yet processed. Lines
// are read as the sends make room, so memory is bounded by the batches
// being filled (under BatchSize commands per user of a group) and queued
// (readAhead), packed some 20 bytes a command (packedBatch), and by the
// Sends running (maxCommandsSending), never by the length of the file.
type batchSender struct {
	s      Sender
	opts   RunOptions
	plan   *plan
	window *window
	// log receives every command whose batch was recorded, for the
	// latencies of the report (nil: none kept).
	log *sentLog

	slots   chan struct{}       // one per Send running
	sending *semaphore.Weighted // commands in the Sends running
	queued  *semaphore.Weighted // commands read but not yet sent
	wg      sync.WaitGroup
	// unpacked holds *[]trading.Command arrays for the Sends to unpack
	// into: a batch of 1,000 is 104 KB, and a run sends thousands.
	unpacked sync.Pool

	sent    atomic.Int64
	batches atomic.Int64
	last    atomic.Int64 // UnixNano of the last Send that returned

	// held counts the commands read but not yet sent (being filled,
	// queued or in a Send); mostHeld is its high-water mark, which the
	// options and the users bound whatever the file's length (the tests'
	// readAheadBound).
	held, mostHeld atomic.Int64
}

// userQueue is one user's batches waiting to be sent, in order. A
// goroutine drains it while it is not empty (running), so goroutines exist
// only for users with batches waiting.
type userQueue struct {
	user    string
	mu      sync.Mutex
	batches []*packedBatch
	running bool
}

func newBatchSender(p *plan, s Sender, opts RunOptions, log *sentLog) *batchSender {
	return &batchSender{
		s: s, opts: opts, plan: p, log: log,
		window:  newWindow(int64(opts.Window)),
		slots:   make(chan struct{}, opts.Concurrency),
		sending: semaphore.NewWeighted(inSends(opts)),
		queued:  semaphore.NewWeighted(readAhead(opts)),
	}
}

// readAhead is how many commands may be read before they are sent: enough
// to keep every slot busy twice over, but no more than the window (and a
// batch), which is all that can be sent until the stack processes more.
func readAhead(opts RunOptions) int64 {
	n := int64(2 * opts.Concurrency * opts.BatchSize)
	if opts.Window > 0 {
		n = min(n, int64(max(opts.Window, opts.BatchSize)))
	}
	return n
}

// maxCommandsSending bounds the commands in the Sends running at once (a
// batch may always go alone). A Send holds its commands unpacked, their
// JSON and the request, some 300 KiB for 1,000 commands, until the server
// has it: 64 such Sends would hold 20 MiB. With batches of up to 256 it
// is Concurrency that binds; with 1,000 it is 16 Sends at once, more than
// the stack takes (a Send returns in milliseconds, and 16 carry 16,000
// commands, a second of the stack's work).
const maxCommandsSending = 16_384

// inSends is how many commands the Sends running may hold: without a
// window (Stream, the ceiling: as fast as the stack takes them) only
// Concurrency bounds them.
func inSends(opts RunOptions) int64 {
	if opts.Window <= 0 {
		return int64(opts.Concurrency * opts.BatchSize)
	}
	return int64(max(maxCommandsSending, opts.BatchSize))
}

func (b *batchSender) lastSent() time.Time { return time.Unix(0, b.last.Load()) }

// sendAll reads src and sends its commands, a group of users at a time
// (plan.passes, with the window as budget). It returns the first error,
// after which it stops sending.
func (b *batchSender) sendAll(ctx context.Context, src Source) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var readErr error
	for _, users := range b.plan.passes(b.passBudget()) {
		if readErr = src.eachOf(users, b.lineSender(ctx, cancel)); readErr != nil {
			break
		}
	}
	b.wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	return readErr
}

// passBudget is the commands of a group of users: the window's (none
// without a window: one pass in file order).
func (b *batchSender) passBudget() int64 { return max(int64(b.opts.Window), 0) }

// lineSender returns the function that takes a pass's lines: it fills each
// user's batch and queues it once full or once it holds the user's last
// command.
func (b *batchSender) lineSender(ctx context.Context, cancel context.CancelCauseFunc) func(Line) error {
	filling := map[string]*packedBatch{}
	left := make(map[string]int64, len(b.plan.users))
	queues := map[string]*userQueue{}
	return func(l Line) error {
		u := l.Cmd.User
		if u == "" {
			return nil // global lines run after every command
		}
		if _, seen := left[u]; !seen {
			left[u] = b.plan.byUser[u].count
		}
		batch := filling[u]
		if batch == nil {
			batch = newPackedBatch(b.plan.byUser[u].count-left[u], min(int64(b.opts.BatchSize), left[u]))
		}
		batch.add(l.Cmd)
		b.hold(1)
		left[u]--
		if batch.n < b.opts.BatchSize && left[u] > 0 {
			filling[u] = batch
			return nil
		}
		delete(filling, u)
		if err := b.queued.Acquire(ctx, int64(batch.n)); err != nil {
			return context.Cause(ctx)
		}
		q := queues[u]
		if q == nil {
			q = &userQueue{user: u}
			queues[u] = q
		}
		if left[u] == 0 {
			// Its last batch: the queue lives on in its goroutine only.
			delete(queues, u)
			delete(left, u)
		}
		b.push(ctx, cancel, q, batch)
		return nil
	}
}

// fold reads the audit records stored since the last fold into the sent
// log (none without a log) and returns how many of the run's commands the
// log has found processed.
func (b *batchSender) fold(ctx context.Context, a AuditReader) (found int64, err error) {
	if b.log == nil {
		return 0, nil
	}
	return b.log.read(ctx, a)
}

// hold counts n more commands held (negative: fewer).
func (b *batchSender) hold(n int64) {
	now := b.held.Add(n)
	for most := b.mostHeld.Load(); now > most && !b.mostHeld.CompareAndSwap(most, now); most = b.mostHeld.Load() {
	}
}

// push queues a batch and starts the user's goroutine if none runs.
func (b *batchSender) push(ctx context.Context, cancel context.CancelCauseFunc, q *userQueue, batch *packedBatch) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.batches = append(q.batches, batch)
	if q.running {
		return
	}
	q.running = true
	b.wg.Go(func() {
		if err := b.drain(ctx, q); err != nil {
			cancel(err)
		}
	})
}

// drain sends q's batches until it is empty.
func (b *batchSender) drain(ctx context.Context, q *userQueue) error {
	for {
		q.mu.Lock()
		if len(q.batches) == 0 {
			q.running = false
			q.mu.Unlock()
			return nil
		}
		batch := q.batches[0]
		q.batches[0] = nil
		q.batches = q.batches[1:]
		q.mu.Unlock()
		err := b.send(ctx, q.user, batch)
		b.hold(-int64(batch.n)) // before the release lets the reader take more
		b.queued.Release(int64(batch.n))
		if err != nil {
			return err
		}
	}
}

// send sends one batch once the window and a slot allow it, unpacked for
// the Send only.
func (b *batchSender) send(ctx context.Context, user string, packed *packedBatch) error {
	if err := b.window.admit(ctx, int64(packed.n)); err != nil {
		return context.Cause(ctx)
	}
	select {
	case b.slots <- struct{}{}:
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	if err := b.sending.Acquire(ctx, int64(packed.n)); err != nil {
		<-b.slots
		return context.Cause(ctx)
	}
	room, _ := b.unpacked.Get().(*[]trading.Command)
	if room == nil {
		room = new([]trading.Command)
	}
	batch := packed.commands(user, *room)
	defer func() {
		clear(batch) // (its strings are the batch's, not to be kept alive)
		*room = batch[:0]
		b.unpacked.Put(room)
	}()
	if b.log != nil {
		b.log.sending(user, packed.first, batch)
	}
	err := b.s.Send(ctx, user, batch)
	b.sending.Release(int64(packed.n))
	<-b.slots
	if err != nil {
		first, last := batch[0].TxNum, batch[len(batch)-1].TxNum
		return fmt.Errorf("sending %d commands of user %s (transactions %d to %d): %w", len(batch), user, first, last, err)
	}
	now := time.Now()
	if b.log != nil {
		b.log.sent(user, packed.first, batch, now)
	}
	b.sent.Add(int64(len(batch)))
	b.batches.Add(1)
	b.last.Store(now.UnixNano())
	return nil
}

// SendStats are what Stream sent.
type SendStats struct {
	Sent, Batches int64
	Seconds       float64 // from the first Send to the last one returned
}

// Stream sends src's commands as Run does, batches and concurrency from
// opts, but with no window (nothing counts what is processed) and no
// report: for senders other than the accounts, such as the ceiling's
// counting workflows.
func Stream(ctx context.Context, src Source, s Sender, opts RunOptions) (SendStats, error) {
	opts = opts.withDefaults()
	opts.Window = -1
	p, err := src.plan()
	if err != nil {
		return SendStats{}, err
	}
	b := newBatchSender(p, s, opts, nil)
	start := time.Now()
	if err := b.sendAll(ctx, src); err != nil {
		return SendStats{}, err
	}
	return SendStats{Sent: b.sent.Load(), Batches: b.batches.Load(), Seconds: b.lastSent().Sub(start).Seconds()}, nil
}

// window bounds the commands sent but not yet processed, so a long
// workload does not pile its whole length up in Temporal: the backlog stays
// a few seconds of work, which keeps the stack's memory flat and leaves
// room for traders at their screens. A limit of 0 or less means none.
type window struct {
	limit int64
	mu    sync.Mutex
	// admitted counts commands allowed to be sent; processed is the
	// run's count from the audit history; changed is closed (and
	// replaced) whenever processed grows.
	admitted, processed int64
	changed             chan struct{}
}

func newWindow(limit int64) *window { return &window{limit: limit, changed: make(chan struct{})} }

// setLimit changes the window's size; a larger one admits waiting
// batches at once.
func (w *window) setLimit(n int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if n == w.limit {
		return
	}
	raised := n > w.limit
	w.limit = n
	if raised {
		close(w.changed)
		w.changed = make(chan struct{})
	}
}

func (w *window) currentLimit() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.limit
}

// admit waits until n more commands fit in the window. A batch is always
// admitted when nothing is in flight, however large it is.
func (w *window) admit(ctx context.Context, n int64) error {
	for {
		w.mu.Lock()
		inFlight := w.admitted - w.processed
		if w.limit <= 0 || inFlight <= 0 || inFlight+n <= w.limit {
			w.admitted += n
			w.mu.Unlock()
			return nil
		}
		changed := w.changed
		w.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// setProcessed records the run's processed count.
func (w *window) setProcessed(n int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if n <= w.processed {
		return
	}
	w.processed = n
	close(w.changed)
	w.changed = make(chan struct{})
}
