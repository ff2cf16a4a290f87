package workloads

import (
	"context"
	"time"
)

// TraderWatch is what an AuditReader may also do: say whether traders use
// the stack (daytrader's: a trader's command, an interactive transaction
// number, was audited, or a web session signed in or opened the dashboard,
// in the last 30 s). While they do, a run keeps at most
// RunOptions.TraderWindow commands in flight instead of Window.
//
// Why: a trader's command waits behind whatever the stack has queued in
// Temporal's shared history shard, its SQLite writes and the CPU, not in a
// task queue (the traders' queue has slots of its own); the backlog the
// starter keeps there is what a trader waits behind. On 100User (README,
// "Traders while a workload runs") a window of 4,000 instead of 50,000 took
// one trader's p99 from 0.5-0.9 s to 83-98 ms, the bulk meanwhile at
// 0.73-0.75 of its rate with the whole window; 2,000 kept it at 46-93 ms in
// three runs, the bulk at 0.50-0.56. Since the run counts at each commit
// while it yields (commitWake), one batch in flight (1,000, the default)
// keeps the bulk at about the rate two had, and the trader's p99 where it
// was; two now buy the bulk more and cost the trader's tail more
// (README, "The window moves at each commit"). (Temporal's own task rate
// of the traders' queue does not tell: their accounts' tasks go to the
// workers' sticky queues, their first ones start eagerly.)
type TraderWatch interface {
	TradersActive(ctx context.Context) (bool, error)
}

// DefaultTraderWindow is RunOptions.TraderWindow's default.
const DefaultTraderWindow = 1000

// traderPollInterval is how often the history is counted (and the window
// moved on) while the traders' window is in force: a small window moved
// every 500 ms would leave the stack idle between polls (4,000 commands
// every 500 ms is 8,000 a second at most). Counting this often all the
// time cost the bulk alone some 10 % (100User, 15,650-16,686 commands/s
// against 17,446-18,988).
const traderPollInterval = 100 * time.Millisecond

// pollInterval is the wait before the next count.
func pollInterval(w *window, opts RunOptions) time.Duration {
	if opts.yielding(w) {
		return min(opts.PollInterval, traderPollInterval)
	}
	return opts.PollInterval
}

// commitWake is what wakes waitProcessed to count before its next poll:
// while the traders' window is in force, an audit commit notified (nil
// otherwise: with the whole window the backlog is seconds of work, and a
// count at each of its commits would cost the bulk more than it saves).
func commitWake(clock *commitClock, w *window, opts RunOptions) <-chan struct{} {
	if opts.yielding(w) {
		return clock.commits
	}
	return nil
}

// yieldsToTraders says whether the traders' window differs from the
// window, so that watching for traders can change anything.
func (o RunOptions) yieldsToTraders() bool {
	return o.Window > 0 && o.TraderWindow > 0 && o.TraderWindow < o.Window
}

// yielding says whether the traders' window is in force on w.
func (o RunOptions) yielding(w *window) bool {
	return o.yieldsToTraders() && w.currentLimit() == int64(o.TraderWindow)
}

// watchTraders keeps w's limit to opts.TraderWindow while tw says traders
// are active and to opts.Window otherwise (checkTraders), asking every
// PollInterval until ctx ends. It returns about how long the traders'
// window was in force.
func watchTraders(ctx context.Context, tw TraderWatch, w *window, opts RunOptions) time.Duration {
	var yielded time.Duration
	ticker := time.NewTicker(opts.PollInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return yielded
		case <-ticker.C:
		}
		checkTraders(ctx, tw, w, opts)
		if opts.yielding(w) {
			yielded += opts.PollInterval
		}
	}
}

// checkTraders asks tw once and sets w's limit to match; a failed ask
// keeps the limit as it is.
func checkTraders(ctx context.Context, tw TraderWatch, w *window, opts RunOptions) {
	active, err := tw.TradersActive(ctx)
	switch {
	case err != nil:
	case active:
		w.setLimit(int64(opts.TraderWindow))
	default:
		w.setLimit(int64(opts.Window))
	}
}
