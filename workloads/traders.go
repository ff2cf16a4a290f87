package workloads

import (
	"context"
	"time"

	"github.com/daytradinginc/daytrader/audit"
)

// TraderWatch is what an AuditReader may also do: say whether traders use
// the stack (daytrader's: a trader's command, an interactive transaction
// number, was audited, or a web session signed in or opened the dashboard,
// in the last 30 s). While they do, a run keeps a traders' window of
// commands in flight instead of Window: RunOptions.TraderWindow, or from
// there as many as the traders' waits allow (WaitWatch, traderGate).
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

// yielding says whether a traders' window is in force on w: smaller than
// the whole window (one that followed the traders' waits up to the whole
// window is the whole window).
func (o RunOptions) yielding(w *window) bool {
	return o.yieldsToTraders() && w.currentLimit() < int64(o.Window)
}

// watchTraders keeps w's limit to a traders' window while tw says traders
// are active and to opts.Window otherwise (traderGate), asking every
// pollInterval until ctx ends. It returns about how long a traders' window
// was in force (g.most is the largest).
func watchTraders(ctx context.Context, g *traderGate) time.Duration {
	var yielded time.Duration
	for {
		interval := pollInterval(g.w, g.opts)
		select {
		case <-ctx.Done():
			return yielded
		case <-time.After(interval):
		}
		g.check(ctx)
		if g.opts.yielding(g.w) {
			yielded += interval
		}
	}
}

// traderGate sets a run's window by whether traders use the stack and,
// with a WaitWatch and RunOptions.TraderWait, by how long their commands
// wait.
type traderGate struct {
	tw    TraderWatch
	waits WaitWatch // nil: the traders' window stays TraderWindow
	w     *window
	opts  RunOptions
	ctl   waitControl
	// trading says traders were active at the last check; after is where
	// the next reading of their waits starts; most is the largest
	// traders' window set.
	trading bool
	after   time.Time
	most    int64
}

func newTraderGate(tw TraderWatch, w *window, opts RunOptions) *traderGate {
	g := &traderGate{tw: tw, w: w, opts: opts, ctl: waitControl{opts: opts}}
	if ww, ok := tw.(WaitWatch); ok && opts.TraderWait > 0 {
		g.waits = ww
	}
	return g
}

// check asks tw once and sets w's limit to match: the whole window when
// nobody trades, TraderWindow when traders have just come, then (with
// waits) waitControl's next. A failed ask keeps the limit as it is.
func (g *traderGate) check(ctx context.Context) {
	active, err := g.tw.TradersActive(ctx)
	switch {
	case err != nil:
		return
	case !active:
		g.trading = false
		g.w.setLimit(int64(g.opts.Window))
		return
	}
	limit := int64(g.opts.TraderWindow)
	if g.waits != nil {
		limit = g.followWaits(ctx)
	}
	g.trading = true
	g.most = max(g.most, limit)
	g.w.setLimit(limit)
}

// followWaits is the traders' window by their waits since the last check.
// Traders who have just come start at TraderWindow (the waits before them
// say nothing of the window they will meet); a failed reading keeps the
// window where it is.
func (g *traderGate) followWaits(ctx context.Context) int64 {
	waits, err := g.waits.LongestTraderWait(ctx, g.after)
	if err == nil {
		g.after = waits.AsOf
	}
	switch {
	case !g.trading:
		g.ctl = waitControl{opts: g.opts}
		return int64(g.opts.TraderWindow)
	case err != nil:
		return g.w.currentLimit()
	}
	return g.ctl.next(g.w.currentLimit(), waits)
}

// WaitWatch is what a TraderWatch may also do: read how long the traders'
// commands waited (daytrader's: through the web UI until the result,
// audit.Store.LongestTraderWait). With RunOptions.TraderWait the traders'
// window then follows those waits (waitControl) instead of staying at
// TraderWindow: it is the backlog a trader's command waits behind, and
// what it costs a trader depends on the machine and what else runs on it,
// which a fixed size cannot know (README, "The window follows the
// traders' waits").
type WaitWatch interface {
	LongestTraderWait(ctx context.Context, after time.Time) (audit.TraderWaits, error)
}

// DefaultTraderWait is RunOptions.TraderWait's default.
const DefaultTraderWait = 40 * time.Millisecond

// waitControl sizes the traders' window as TCP sizes its congestion
// window, a step up for good news and half for bad: one batch more after
// two checks whose longest wait was at most half of TraderWait, half the
// window (not below TraderWindow) after one that waited longer than
// TraderWait, unchanged between the two or when no trader was answered.
// Halving drains the backlog a slow answer met. The step up is slow
// because its effect shows late: a larger window fills the stack over
// the next batches, and a trader's waits grow after that; a step at every
// good check overshot more (README, "The window follows the traders'
// waits").
type waitControl struct {
	opts RunOptions
	good int // good checks since the last change
}

func (c *waitControl) next(limit int64, waits audit.TraderWaits) int64 {
	switch {
	case waits.Answered == 0:
		return limit
	case waits.Longest > c.opts.TraderWait:
		c.good = 0
		return max(int64(c.opts.TraderWindow), limit/2)
	case waits.Longest <= c.opts.TraderWait/2:
		if c.good++; c.good < 2 {
			return limit
		}
		c.good = 0
		return min(int64(c.opts.Window), limit+int64(c.opts.BatchSize))
	}
	return limit
}
