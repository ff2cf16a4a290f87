package worker

import (
	"testing"
	"testing/synctest"
	"time"

	sdkworker "go.temporal.io/sdk/worker"
)

// slotInfo is what the SDK hands a slot supplier about a permit; only
// Permit is asked for.
type slotInfo struct {
	sdkworker.SlotReleaseInfo
	permit *sdkworker.SlotPermit
}

func (i slotInfo) Permit() *sdkworker.SlotPermit { return i.permit }

// reserve takes one of s's slots, as a poller does before it polls.
func reserve(t *testing.T, s sdkworker.SlotSupplier) slotInfo {
	p := s.TryReserveSlot(nil)
	if p == nil {
		t.Fatal("no slot left")
	}
	return slotInfo{permit: p}
}

// startBulk marks a bulk slot used, as the SDK does right before running
// the task, and reports how long that took on the bubble's clock.
func startBulk(t *testing.T, bulk sdkworker.SlotSupplier) <-chan time.Duration {
	return markUsed(bulk, reserve(t, bulk))
}

func TestTraderGate(t *testing.T) {
	const hold = 20 * time.Millisecond
	newSlots := func() (bulk, interactive sdkworker.SlotSupplier) {
		g := newTraderGate(hold)
		bulkTuner, traderTuner := tuner(g, false, slotCounts{4, 4, 4, 0, 4}), tuner(g, true, slotCounts{4, 4, 4, 0, 4})
		return bulkTuner.GetWorkflowTaskSlotSupplier(), traderTuner.GetActivityTaskSlotSupplier()
	}
	t.Run("a bulk task starts at once when no trader's task has run", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			bulk, _ := newSlots()
			if took := <-startBulk(t, bulk); took != 0 {
				t.Errorf("the bulk task waited %v", took)
			}
		})
	})
	t.Run("a bulk task waits for the trader's task and the hold after it", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			bulk, interactive := newSlots()
			trader := reserve(t, interactive)
			interactive.MarkSlotUsed(trader)
			took := startBulk(t, bulk)
			time.Sleep(50 * time.Millisecond)
			interactive.ReleaseSlot(trader)
			if got, want := <-took, 50*time.Millisecond+hold; got != want {
				t.Errorf("the bulk task waited %v, want %v (the trader's task, then the hold)", got, want)
			}
		})
	})
	t.Run("traders who never stop hold a bulk task for bulkMaxWait at most", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			bulk, interactive := newSlots()
			interactive.MarkSlotUsed(reserve(t, interactive))
			if got := <-startBulk(t, bulk); got != bulkMaxWait {
				t.Errorf("the bulk task waited %v, want %v", got, bulkMaxWait)
			}
		})
	})
	t.Run("a slot reserved for a poll that brought no task holds nothing", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			bulk, interactive := newSlots()
			running := reserve(t, interactive)
			interactive.MarkSlotUsed(running)
			interactive.ReleaseSlot(reserve(t, interactive)) // never used
			took := startBulk(t, bulk)
			time.Sleep(10 * time.Millisecond)
			interactive.ReleaseSlot(running)
			if got, want := <-took, 10*time.Millisecond+hold; got != want {
				t.Errorf("the bulk task waited %v, want %v: the unused slot opened the gate", got, want)
			}
		})
	})
}
