package workloads

import (
	"context"
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
