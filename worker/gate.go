package worker

import (
	"sync"
	"time"

	sdkworker "go.temporal.io/sdk/worker"
)

// traderGate gives a trader's command the CPU first: while any task of the
// interactive queue runs, and for hold after the last one ends, a bulk task
// the worker has taken waits before it starts, for at most bulkMaxWait.
//
// Why here: a trader's command is two workflow tasks and an audit activity
// with a few milliseconds between them, and under a bulk load each one
// waited for CPU behind the bulk's batches (README, "Traders while a
// workload runs"). Task queue priority cannot help, as the trader's tasks
// have their own queue and slots already; what they lacked is the cores.
// Holding the bulk's next tasks for the length of a command gives them
// back; the bulk's tasks wait in the worker, not in Temporal, and the
// bulk runs at full speed whenever nobody trades.
//
// It is a choice of who waits, so it is off unless asked for
// (WORKER_TRADER_HOLD): on 100User a hold of 20 ms cut twenty traders'
// p99 by a third and cost the bulk a quarter of its rate while one trader
// traded, that trader's p99 unchanged (README, "The worker holds the
// bulk"). Letting one or two bulk tasks run meanwhile kept most of the
// cost and lost most of the gain.
//
// It gates where a slot is marked used (the SDK calls MarkSlotUsed on the
// task's own goroutine just before running it), not where it is reserved:
// pollers reserve their slot before a long poll, so a gate there would let
// every poller's next task through.
type traderGate struct {
	hold time.Duration

	mu      sync.Mutex
	running int           // interactive tasks running
	lastEnd time.Time     // when the last one ended
	idle    chan struct{} // closed when running falls to 0
}

// bulkMaxWait bounds a bulk task's wait, well inside an account's
// workflow task timeout (workflows.AccountTaskTimeout), so that traders
// trading back to back slow the bulk but never stall it.
const bulkMaxWait = time.Second

func newTraderGate(hold time.Duration) *traderGate {
	g := &traderGate{hold: hold, idle: make(chan struct{})}
	close(g.idle)
	return g
}

// enter and leave bracket an interactive task.
func (g *traderGate) enter() {
	g.mu.Lock()
	if g.running == 0 {
		g.idle = make(chan struct{})
	}
	g.running++
	g.mu.Unlock()
}

func (g *traderGate) leave() {
	g.mu.Lock()
	g.running--
	if g.running == 0 {
		g.lastEnd = time.Now()
		close(g.idle)
	}
	g.mu.Unlock()
}

// lingerLeft is how much longer a trader counts as trading, linger after
// the last interactive task ended: linger while one runs, 0 if none ran
// in the last linger.
func (g *traderGate) lingerLeft(linger time.Duration) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.running > 0:
		return linger
	case g.lastEnd.IsZero():
		return 0
	}
	return max(linger-time.Since(g.lastEnd), 0)
}

// waitOpen returns once no interactive task has run for hold, or after
// maxWait.
func (g *traderGate) waitOpen(maxWait time.Duration) {
	deadline := time.NewTimer(maxWait)
	defer deadline.Stop()
	for {
		g.mu.Lock()
		running, idle, left := g.running, g.idle, g.hold-time.Since(g.lastEnd)
		g.mu.Unlock()
		var until <-chan time.Time
		switch {
		case running > 0:
		case left > 0:
			// idle is closed: wait out the hold alone.
			idle, until = nil, time.After(left)
		default:
			return
		}
		select {
		case <-idle:
		case <-until:
		case <-deadline.C:
			return
		}
	}
}

// gatedSlots are a queue's slots (SlotSupplier's) whose tasks either hold
// the gate (interactive) or, with a hold, wait for it (bulk).
type gatedSlots struct {
	sdkworker.SlotSupplier
	gate        *traderGate
	interactive bool
}

// gateHeld marks the permit of an interactive task that entered the gate.
type gateHeld struct{}

func (s *gatedSlots) MarkSlotUsed(info sdkworker.SlotMarkUsedInfo) {
	switch {
	case s.interactive:
		s.gate.enter()
		info.Permit().UserData = gateHeld{}
	case s.gate.hold > 0:
		s.gate.waitOpen(bulkMaxWait)
	}
	s.SlotSupplier.MarkSlotUsed(info)
}

// ReleaseSlot also ends a slot reserved but never used (a poll that
// brought no task), which never entered the gate.
func (s *gatedSlots) ReleaseSlot(info sdkworker.SlotReleaseInfo) {
	if _, held := info.Permit().UserData.(gateHeld); held {
		info.Permit().UserData = nil
		s.gate.leave()
	}
	s.SlotSupplier.ReleaseSlot(info)
}

// bulkActivitySlots is the SDK's default number of activity slots, which
// the bulk queue kept before it had a tuner.
const bulkActivitySlots = 1000

// slotCounts are a queue's slots: workflow tasks, activities, local
// activities, and the workflow tasks while a trader trades (bulk queue; 0:
// no fewer), with the queue's workflow task pollers.
type slotCounts struct {
	workflows, activities, local, workflowsWhileTrading, pollers int
}

// tuner gives a queue's workflow and activity tasks slots gated by g (nil:
// plain ones); its local activities (quote fetches inside a workflow task
// already running) always plain ones.
func tuner(g *traderGate, interactive bool, n slotCounts) sdkworker.WorkerTuner {
	gated := func(s sdkworker.SlotSupplier) sdkworker.SlotSupplier {
		if g == nil {
			return s
		}
		return &gatedSlots{SlotSupplier: s, gate: g, interactive: interactive}
	}
	workflows := fixedSlots(n.workflows)
	if n.workflowsWhileTrading > 0 && g != nil {
		workflows = newFewerWhileTrading(n.workflows, n.workflowsWhileTrading, n.pollers, g)
	}
	t, err := sdkworker.NewCompositeTuner(sdkworker.CompositeTunerOptions{
		WorkflowSlotSupplier:        gated(workflows),
		ActivitySlotSupplier:        gated(fixedSlots(n.activities)),
		LocalActivitySlotSupplier:   fixedSlots(n.local),
		NexusSlotSupplier:           fixedSlots(1),
		SessionActivitySlotSupplier: fixedSlots(1),
	})
	if err != nil {
		panic(err) // NewCompositeTuner never fails
	}
	return t
}

func fixedSlots(n int) sdkworker.SlotSupplier {
	s, err := sdkworker.NewFixedSizeSlotSupplier(n)
	if err != nil {
		panic(err) // n > 0: withDefaults
	}
	return s
}
