package workloads

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

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
