package workloads

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/daytradinginc/daytrader/activities"
	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/trading"
)

// tradingAccounts is windowedAccounts whose stack has traders on it until
// leaveAfter commands were sent.
type tradingAccounts struct {
	windowedAccounts
	leaveAfter  int64
	wholeWindow int64
	asked       atomic.Int64
}

// Send checks the traders' window while they trade, the whole window after.
func (a *tradingAccounts) Send(ctx context.Context, user string, cmds []trading.Command) error {
	a.mu.Lock()
	if int64(len(a.order)) >= a.leaveAfter {
		a.window = a.wholeWindow
	}
	a.mu.Unlock()
	return a.windowedAccounts.Send(ctx, user, cmds)
}

func (a *tradingAccounts) TradersActive(context.Context) (bool, error) {
	a.asked.Add(1)
	a.mu.Lock()
	defer a.mu.Unlock()
	return int64(len(a.order)) < a.leaveAfter, nil
}

// TestRunKeepsTheTradersWindowWhileTheyTrade: while the Sender says traders
// use the stack, at most TraderWindow commands are in flight (checked at
// every Send, from the first one); once they leave, the run uses its whole
// window again.
func TestRunKeepsTheTradersWindowWhileTheyTrade(t *testing.T) {
	const users, each, batch, window, traderWindow = 20, 301, 50, 500, 100
	path, _ := writeInterleaved(t, users, each)
	f, perrs, err := OpenFile(path, true)
	if err != nil || len(perrs) > 0 {
		t.Fatalf("OpenFile: %v %v", err, perrs)
	}
	acc := &tradingAccounts{windowedAccounts: windowedAccounts{t: t, window: traderWindow, perPoll: 100}, leaveAfter: 3000, wholeWindow: window}
	rep, err := Run(context.Background(), f, acc, acc, RunOptions{BatchSize: batch, Concurrency: 4, Window: window,
		TraderWindow: traderWindow, PollInterval: 2 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if total := int64(users * each); rep.Processed != total {
		t.Fatalf("processed %d of %d", rep.Processed, total)
	}
	if acc.asked.Load() < 2 || rep.TraderWindowSeconds <= 0 || rep.TraderWindow != traderWindow {
		t.Errorf("traders asked %d times, traders' window %d for %.3f s: want asked before sending and at the polls",
			acc.asked.Load(), rep.TraderWindow, rep.TraderWindowSeconds)
	}
	// Send failed the test if more than traderWindow were ever in flight
	// before the traders left.
	if acc.maxAhead <= traderWindow {
		t.Errorf("at most %d commands in flight: after the traders left the window of %d was never used", acc.maxAhead, window)
	}
}

// history is an audit history of userCommand records whose commits the
// test orders: a record is visible once committed, whatever its id.
type history struct {
	idleAudit
	mu        sync.Mutex
	records   []audit.CommandTime // by id - 1
	committed []bool              // by id - 1
}

// add stores records for cmds under the next ids, committed or not.
func (h *history) add(user string, cmds []trading.Command, committed bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range cmds {
		h.records = append(h.records, audit.CommandTime{ID: int64(len(h.records) + 1), User: user, TxNum: c.TxNum, Time: time.Now()})
		h.committed = append(h.committed, committed)
	}
}

func (h *history) commit(id int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.committed[id-1] = true
}

func (h *history) CountUserCommandsAfter(_ context.Context, afterID int64) (int64, int64, error) {
	recs := h.visible(func(r audit.CommandTime) bool { return r.ID > afterID }, -1)
	last := afterID
	for _, r := range recs {
		last = max(last, r.ID)
	}
	return int64(len(recs)), last, nil
}

func (h *history) UserCommandsAfter(_ context.Context, afterID int64, limit int) ([]audit.CommandTime, error) {
	return h.visible(func(r audit.CommandTime) bool { return r.ID > afterID }, limit), nil
}

func (h *history) UserCommandsBetween(_ context.Context, user string, afterID, upToID int64) ([]audit.CommandTime, error) {
	return h.visible(func(r audit.CommandTime) bool { return r.User == user && r.ID > afterID && r.ID <= upToID }, -1), nil
}

// visible are the committed records that match, in id order, at most limit
// of them (-1: all).
func (h *history) visible(match func(audit.CommandTime) bool, limit int) []audit.CommandTime {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []audit.CommandTime
	for i, r := range h.records {
		if h.committed[i] && match(r) && len(out) != limit {
			out = append(out, r)
		}
	}
	return out
}

// committingAccounts is a stack on which traders trade and whose accounts
// process each batch as it is sent: its records are committed (and the
// commit notified) before Send returns.
type committingAccounts struct {
	history
	notify chan func(user string) // the listener's callback, once it listens
}

func (a *committingAccounts) ListenReady(ctx context.Context, ready func(), fn func(string)) error {
	a.notify <- fn
	ready()
	<-ctx.Done()
	return nil
}

func (a *committingAccounts) TradersActive(context.Context) (bool, error) { return true, nil }

func (a *committingAccounts) Send(_ context.Context, user string, cmds []trading.Command) error {
	notify := <-a.notify
	a.notify <- notify
	a.add(user, cmds, true)
	notify(user)
	return nil
}

func (a *committingAccounts) RunGlobalDumpLog(context.Context, int64, string) (activities.DumpResult, error) {
	return activities.DumpResult{}, nil
}

// TestRunCountsAtEachCommitWhileTradersTrade: while traders trade, the run
// counts as soon as a commit is notified, and sends its next batch then,
// not at its next poll (every batch but the first waits for one: the
// window is one batch). In a synctest bubble the run takes no time at all;
// before, it waited for a poll at each batch (the first one an hour away:
// it timed out).
func TestRunCountsAtEachCommitWhileTradersTrade(t *testing.T) {
	const users, each, batch = 5, 4, 2
	path, _ := writeInterleaved(t, users, each)
	synctest.Test(t, func(t *testing.T) {
		f, perrs, err := OpenFile(path, true)
		if err != nil || len(perrs) > 0 {
			t.Fatalf("OpenFile: %v %v", err, perrs)
		}
		acc := &committingAccounts{notify: make(chan func(string), 1)}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		began := time.Now()
		rep, err := Run(ctx, f, acc, acc, RunOptions{BatchSize: batch, Concurrency: 4, Window: 100,
			TraderWindow: batch, PollInterval: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if total := int64(users * each); rep.Processed != total || rep.Batches != total/batch {
			t.Fatalf("processed %d of %d in %d batches, want %d", rep.Processed, total, rep.Batches, total/batch)
		}
		if took := time.Since(began); took > 0 {
			t.Errorf("the run took %v (in the bubble's time): it waited for polls, not the commits", took)
		}
	})
}

// TestPollOpensTheWindowToTheRecordsRead: a record committed late under a
// lower id than one already counted is passed over by the running count,
// but the sent log finds it once a later command of its user was read,
// even when that one was read while its batch was still being sent; the
// window opens to what the log found. Before, the window waited for the
// next exact count (a quiet poll), and the log did not look again once the
// batch was sent.
func TestPollOpensTheWindowToTheRecordsRead(t *testing.T) {
	wl := parseString(t, "[1] ADD,alice,10\n[2] QUOTE,alice,ABC\n[3] ADD,bob,10\n")
	p, err := wl.plan()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	h := &history{}
	sender := newBatchSender(p, nil, RunOptions{Window: 2}.withDefaults(), newSentLog(p, 0))
	count := &runCount{a: h, total: p.total}
	batch := []trading.Command{{Name: trading.Add, User: "alice", TxNum: 1}, {Name: trading.QuoteCmd, User: "alice", TxNum: 2}}
	if err := sender.window.admit(ctx, 2); err != nil {
		t.Fatal(err)
	}
	sender.log.sending("alice", 0, batch)
	// The account ran both; the second command's record is committed
	// first, and read while the batch's Send has not returned yet.
	h.add("alice", batch, false)
	h.commit(2)
	if _, err := count.poll(ctx, sender, true); err != nil {
		t.Fatal(err)
	}
	sender.log.sent("alice", 0, batch, time.Now())
	h.commit(1)
	if _, err := count.poll(ctx, sender, true); err != nil {
		t.Fatal(err)
	}
	if count.processed != 1 {
		t.Fatalf("the running count is %d: want 1, passing over the late record (else this proves nothing)", count.processed)
	}
	sender.window.mu.Lock()
	defer sender.window.mu.Unlock()
	if sender.window.processed != 2 {
		t.Errorf("the window has %d processed, want 2: the log read both records", sender.window.processed)
	}
}

// TestWaitControlFollowsTheTradersWaits: one batch more after two checks
// of good news (the longest wait at most half the target), half the window
// after bad (longer than the target), unchanged between the two or without
// news; never below the traders' window nor above the whole window.
func TestWaitControlFollowsTheTradersWaits(t *testing.T) {
	opts := RunOptions{BatchSize: 1000, Window: 50_000, TraderWindow: 1000, TraderWait: 50 * time.Millisecond}
	waited := func(d time.Duration) audit.TraderWaits { return audit.TraderWaits{Answered: 3, Longest: d} }
	fast, slow := waited(25*time.Millisecond), waited(51*time.Millisecond)
	for _, tc := range []struct {
		name  string
		limit int64
		waits []audit.TraderWaits
		want  []int64
	}{
		{"fast twice: one batch more", 4000, []audit.TraderWaits{fast, fast, fast, fast}, []int64{4000, 5000, 5000, 6000}},
		{"between half and the target: unchanged", 4000, []audit.TraderWaits{fast, waited(26 * time.Millisecond), fast}, []int64{4000, 4000, 5000}},
		{"at the target: unchanged", 4000, []audit.TraderWaits{waited(50 * time.Millisecond)}, []int64{4000}},
		{"nobody answered: unchanged", 4000, []audit.TraderWaits{fast, {}, fast}, []int64{4000, 4000, 5000}},
		{"slow: halved, and good news counted anew", 8000, []audit.TraderWaits{fast, slow, fast, fast}, []int64{8000, 4000, 4000, 5000}},
		{"slow at the traders' window: kept there", 1500, []audit.TraderWaits{waited(time.Second)}, []int64{1000}},
		{"fast at the whole window: kept there", 50_000, []audit.TraderWaits{fast, fast}, []int64{50_000, 50_000}},
	} {
		c := waitControl{opts: opts}
		limit := tc.limit
		var got []int64
		for _, w := range tc.waits {
			limit = c.next(limit, w)
			got = append(got, limit)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: from %d the windows %v, want %v", tc.name, tc.limit, got, tc.want)
		}
	}
}

// waitingTraders are traders whose presence and waits a test sets.
type waitingTraders struct {
	active bool
	waits  audit.TraderWaits
	err    error
	after  []time.Time // LongestTraderWait's arguments
}

func (w *waitingTraders) TradersActive(context.Context) (bool, error) { return w.active, nil }

func (w *waitingTraders) LongestTraderWait(_ context.Context, after time.Time) (audit.TraderWaits, error) {
	w.after = append(w.after, after)
	return w.waits, w.err
}

// TestTraderGateFollowsWaitsWhileTradersTrade: traders who come meet the
// traders' window (whatever their waits before), which then follows their
// waits, each reading starting where the last ended; when they leave the
// whole window is back, and traders who come again start from the
// traders' window, not from where the last left it. A failed reading
// keeps the window.
func TestTraderGateFollowsWaitsWhileTradersTrade(t *testing.T) {
	ctx := context.Background()
	opts := RunOptions{BatchSize: 1000, Window: 50_000, TraderWindow: 1000, TraderWait: 50 * time.Millisecond}
	w := newWindow(int64(opts.Window))
	traders := &waitingTraders{}
	g := newTraderGate(traders, w, opts)
	at := func(s int) time.Time { return time.Unix(int64(s), 0) }
	step := func(what string, active bool, waits audit.TraderWaits, want int64) {
		t.Helper()
		traders.active, traders.waits = active, waits
		g.check(ctx)
		if got := w.currentLimit(); got != want {
			t.Fatalf("%s: window %d, want %d", what, got, want)
		}
	}
	fast := func(s int) audit.TraderWaits {
		return audit.TraderWaits{Answered: 1, Longest: time.Millisecond, AsOf: at(s)}
	}
	slow := func(s int) audit.TraderWaits {
		return audit.TraderWaits{Answered: 1, Longest: time.Second, AsOf: at(s)}
	}
	step("nobody trades", false, fast(1), 50_000)
	step("traders come, fast before", true, fast(2), 1000)
	step("fast", true, fast(3), 1000)
	step("fast again", true, fast(4), 2000)
	step("nobody answered", true, audit.TraderWaits{AsOf: at(5)}, 2000)
	step("slow", true, slow(6), 1000)
	step("fast", true, fast(7), 1000)
	traders.err = errors.New("database down")
	step("failed reading", true, slow(8), 1000)
	traders.err = nil
	step("fast", true, fast(9), 2000)
	step("fast", true, fast(10), 2000)
	step("traders leave", false, fast(11), 50_000)
	step("traders come again", true, fast(12), 1000)
	step("fast: good news counted anew", true, fast(13), 1000)
	want := []time.Time{{}, at(2), at(3), at(4), at(5), at(6), at(7), at(7), at(9), at(10), at(12)}
	if !slices.Equal(traders.after, want) {
		t.Errorf("readings started at %v, want %v (each where the last ended)", traders.after, want)
	}
	if g.most != 2000 {
		t.Errorf("most %d, want 2000", g.most)
	}

	opts.TraderWait = -1
	w = newWindow(int64(opts.Window))
	g = newTraderGate(traders, w, opts)
	for i := range 3 {
		step("without a wait to aim at", true, fast(20+i), 1000)
	}
}
