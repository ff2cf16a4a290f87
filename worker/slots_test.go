package worker

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	sdkworker "go.temporal.io/sdk/worker"
)

// The bulk queue's workflow task slots of newTradingSlots: 16, and while
// a trader trades 2 running and one more reserved for each of 4 pollers.
const (
	tradingPollers       = 4
	reservedWhileTrading = 2 + tradingPollers
)

// newTradingSlots are those slots and the interactive queue's, sharing one
// gate without a hold, as worker.New builds them for TraderSlots 2.
func newTradingSlots() (bulk, interactive sdkworker.SlotSupplier) {
	g := newTraderGate(0)
	bulk = tuner(g, false, slotCounts{16, 4, 4, 2, tradingPollers}).GetWorkflowTaskSlotSupplier()
	interactive = tuner(g, true, slotCounts{4, 4, 4, 0, 4}).GetWorkflowTaskSlotSupplier()
	return bulk, interactive
}

// reservations counts how many slots s gives before it has none left.
func reservations(s sdkworker.SlotSupplier) int {
	n := 0
	for s.TryReserveSlot(nil) != nil {
		n++
	}
	return n
}

// timed runs f on a goroutine of its own and reports how long it took on
// the bubble's clock, or -1 if it failed.
func timed(f func() error) <-chan time.Duration {
	took := make(chan time.Duration, 1)
	go func() {
		began := time.Now()
		if err := f(); err != nil {
			took <- -1
			return
		}
		took <- time.Since(began)
	}()
	return took
}

// reserveLater reserves a slot of s as a poller does, blocking (timed).
func reserveLater(ctx context.Context, s sdkworker.SlotSupplier) <-chan time.Duration {
	return timed(func() error {
		_, err := s.ReserveSlot(ctx, nil)
		return err
	})
}

// markUsed marks slot used, as the SDK does right before running its task
// (timed).
func markUsed(s sdkworker.SlotSupplier, slot slotInfo) <-chan time.Duration {
	return timed(func() error {
		s.MarkSlotUsed(slot)
		return nil
	})
}

// reserveToTheLimit takes as many of newTradingSlots' bulk slots as it
// gives while a trader trades.
func reserveToTheLimit(t *testing.T, bulk sdkworker.SlotSupplier) {
	for range reservedWhileTrading {
		reserve(t, bulk)
	}
}

// twoRunningOnePolling are newTradingSlots with two bulk tasks running
// and a third slot reserved by a poller, all before a trader's task, which
// runs.
func twoRunningOnePolling(t *testing.T) (bulk sdkworker.SlotSupplier, running []slotInfo, polling slotInfo) {
	bulk, interactive := newTradingSlots()
	running = []slotInfo{reserve(t, bulk), reserve(t, bulk)}
	for _, r := range running {
		bulk.MarkSlotUsed(r)
	}
	polling = reserve(t, bulk)
	interactive.MarkSlotUsed(reserve(t, interactive))
	return bulk, running, polling
}

func TestFewerBulkSlotsWhileTrading(t *testing.T) {
	t.Run("nobody trades: every slot", func(t *testing.T) {
		bulk, _ := newTradingSlots()
		if got := reservations(bulk); got != 16 {
			t.Errorf("%d slots, want 16", got)
		}
	})
	t.Run("while a trader's task runs: the fewer slots and a poll for each poller", func(t *testing.T) {
		bulk, interactive := newTradingSlots()
		interactive.MarkSlotUsed(reserve(t, interactive))
		if got := reservations(bulk); got != reservedWhileTrading {
			t.Errorf("%d slots, want %d", got, reservedWhileTrading)
		}
	})
	t.Run("the bulk's next poll waits until fewer than that are reserved", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			bulk, interactive := newTradingSlots()
			var taken []slotInfo
			for range reservedWhileTrading + 1 {
				taken = append(taken, reserve(t, bulk))
			}
			interactive.MarkSlotUsed(reserve(t, interactive))
			took := reserveLater(t.Context(), bulk)
			time.Sleep(10 * time.Millisecond)
			bulk.ReleaseSlot(taken[0]) // as many left as allowed: still waits
			time.Sleep(10 * time.Millisecond)
			bulk.ReleaseSlot(taken[1])
			if got, want := <-took, 20*time.Millisecond; got != want {
				t.Errorf("the reservation waited %v, want %v (until fewer were reserved than allowed)", got, want)
			}
		})
	})
	t.Run("a task whose slot was reserved before the trader came waits until fewer than that run", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			bulk, running, polling := twoRunningOnePolling(t)
			took := markUsed(bulk, polling)
			time.Sleep(10 * time.Millisecond)
			bulk.ReleaseSlot(running[0])
			if got, want := <-took, 10*time.Millisecond; got != want {
				t.Errorf("the task waited %v, want %v (until one of the two running ended)", got, want)
			}
		})
	})
	t.Run("such a task waits bulkMaxWait at most", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			bulk, _, polling := twoRunningOnePolling(t)
			if got := <-markUsed(bulk, polling); got != bulkMaxWait {
				t.Errorf("the task waited %v, want %v", got, bulkMaxWait)
			}
		})
	})
	t.Run("all the slots come back traderLinger after the trader's last task", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			bulk, interactive := newTradingSlots()
			reserveToTheLimit(t, bulk)
			trader := reserve(t, interactive)
			interactive.MarkSlotUsed(trader)
			took := reserveLater(t.Context(), bulk)
			time.Sleep(5 * time.Second)
			interactive.ReleaseSlot(trader)
			if got, want := <-took, 5*time.Second+traderLinger; got != want {
				t.Errorf("the reservation waited %v, want %v (the trader's task, then the linger)", got, want)
			}
		})
	})
	t.Run("a waiting reservation ends with its context", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			bulk, interactive := newTradingSlots()
			reserveToTheLimit(t, bulk)
			interactive.MarkSlotUsed(reserve(t, interactive))
			ctx, cancel := context.WithCancel(t.Context())
			took := reserveLater(ctx, bulk)
			synctest.Wait()
			cancel()
			if got := <-took; got != -1 {
				t.Errorf("the reservation returned a slot after %v, want the context's error", got)
			}
			_, err := bulk.ReserveSlot(ctx, nil)
			if !errors.Is(err, context.Canceled) {
				t.Errorf("ReserveSlot with a canceled context: %v, want context.Canceled", err)
			}
		})
	})
	t.Run("without a hold a bulk task starts at once beside a trader's", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			bulk, interactive := newTradingSlots()
			interactive.MarkSlotUsed(reserve(t, interactive))
			if took := <-startBulk(t, bulk); took != 0 {
				t.Errorf("the bulk task waited %v", took)
			}
		})
	})
}
