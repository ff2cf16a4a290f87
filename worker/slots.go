package worker

import (
	"context"
	"sync"
	"time"

	"github.com/daytradinginc/daytrader/audit"
	sdkworker "go.temporal.io/sdk/worker"
)

// traderLinger is how long after a task of the interactive queue the
// worker still counts a trader as trading: as long as the audit's
// TradersActive (the starter's yielding), so that a trader's next command,
// typed after a look at the dashboard, finds the bulk as the last one did.
const traderLinger = audit.TraderActivity

// fewerWhileTrading are the bulk queue's workflow task slots: max, but
// while a trader trades (a task of the interactive queue ran in the last
// traderLinger) only whileTrading. The bulk's other tasks wait, ready, in
// Temporal's matching (and one per poller in the worker), where they cost
// none of the CPU a trader's tasks need; when a slot frees, the next is
// there at once, unlike a smaller window at the starter, which left the
// stack idle a quarter of the time while its count came round (README,
// "Fewer bulk tasks while traders trade").
//
// What is limited is the tasks that run: a task is held where its slot is
// marked used until fewer than whileTrading run, for at most bulkMaxWait
// (inside the account's workflow task timeout), as a poller may hold a
// slot reserved before the trader came (reservations are taken before the
// long poll). Reservations are limited to one per poller more, so that
// every poller keeps polling and at most one task per poller waits: with
// just whileTrading or a few more, the only polls left could be the
// sticky queue's, and a new account's first task waited in the normal
// queue until they timed out, seconds later.
type fewerWhileTrading struct {
	max, whileTrading, polls int
	traders                  *traderGate

	mu             sync.Mutex
	reserved, used int
	released       chan struct{} // closed, and replaced, at every release
}

// slotUsed marks the permit of a task that ran (MarkSlotUsed).
type slotUsed struct{}

func newFewerWhileTrading(max, whileTrading, polls int, traders *traderGate) *fewerWhileTrading {
	return &fewerWhileTrading{max: max, whileTrading: whileTrading, polls: polls, traders: traders,
		released: make(chan struct{})}
}

// take counts one more in *n if fewer than the limit now are (max, or
// whileTrading while a trader trades); if not, it returns what to wait
// for: a release, or the end of the traders' linger. force takes it
// regardless.
func (s *fewerWhileTrading) take(n *int, whileTrading int, force bool) (ok bool, released <-chan struct{}, lingerLeft time.Duration) {
	limit, left := s.max, s.traders.lingerLeft(traderLinger)
	if left > 0 {
		limit = min(whileTrading, s.max)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if *n < limit || force {
		*n++
		return true, nil, 0
	}
	return false, s.released, left
}

func (s *fewerWhileTrading) ReserveSlot(ctx context.Context, _ sdkworker.SlotReservationInfo) (*sdkworker.SlotPermit, error) {
	for {
		ok, released, left := s.take(&s.reserved, s.whileTrading+s.polls, false)
		if ok {
			return &sdkworker.SlotPermit{}, nil
		}
		if err := waitForSlot(ctx, released, left); err != nil {
			return nil, err
		}
	}
}

// waitForSlot returns at a release, when the linger ends (left > 0) or
// with ctx's error.
func waitForSlot(ctx context.Context, released <-chan struct{}, left time.Duration) error {
	var lingerEnds <-chan time.Time
	if left > 0 {
		t := time.NewTimer(left)
		defer t.Stop()
		lingerEnds = t.C
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-released:
	case <-lingerEnds:
	}
	return nil
}

func (s *fewerWhileTrading) TryReserveSlot(sdkworker.SlotReservationInfo) *sdkworker.SlotPermit {
	if ok, _, _ := s.take(&s.reserved, s.whileTrading+s.polls, false); ok {
		return &sdkworker.SlotPermit{}
	}
	return nil
}

// MarkSlotUsed holds the task until fewer than the limit run, or
// bulkMaxWait has passed.
func (s *fewerWhileTrading) MarkSlotUsed(info sdkworker.SlotMarkUsedInfo) {
	ctx, cancel := context.WithTimeout(context.Background(), bulkMaxWait)
	defer cancel()
	for {
		ok, released, left := s.take(&s.used, s.whileTrading, ctx.Err() != nil)
		if ok {
			info.Permit().UserData = slotUsed{}
			return
		}
		_ = waitForSlot(ctx, released, left) // past the deadline, take forces it
	}
}

func (s *fewerWhileTrading) ReleaseSlot(info sdkworker.SlotReleaseInfo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reserved--
	if _, used := info.Permit().UserData.(slotUsed); used {
		s.used--
	}
	close(s.released)
	s.released = make(chan struct{})
}

func (s *fewerWhileTrading) MaxSlots() int { return s.max }
