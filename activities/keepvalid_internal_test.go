package activities

import (
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/trading"
)

// TestKeepValidDropsOnlyTheRefusedInPlace checks that WriteAudit's filter
// keeps every record the schema holds, in order, drops the one it cannot
// hold, and does so without copying the batch.
func TestKeepValidDropsOnlyTheRefusedInPlace(t *testing.T) {
	at := time.Date(2026, 12, 4, 17, 0, 0, 0, time.UTC)
	batch := func() AuditRecords {
		var evs AuditRecords
		for i := range 6 {
			evs = append(evs, trading.Event{Key: "account-alice/c/" + string(rune('1'+i)), Type: trading.UserCommandEvent,
				Time: at, Server: "s1", TxNum: int64(i + 1), Command: trading.Add, User: "alice"})
		}
		return evs
	}
	a := &Activities{}

	evs := batch()
	evs[2].User = "bad\x00user" // not an XML character
	got := a.keepValid(evs)
	if len(got) != 5 {
		t.Fatalf("kept %d records, want 5: %+v", len(got), got)
	}
	for i, want := range []int64{1, 2, 4, 5, 6} {
		if got[i].TxNum != want {
			t.Errorf("record %d has transaction %d, want %d", i, got[i].TxNum, want)
		}
	}

	evs = batch()
	if allocs := testing.AllocsPerRun(20, func() { a.keepValid(evs) }); allocs != 0 {
		t.Errorf("keepValid allocated %.1f times for a valid batch; want 0 (filtered in place)", allocs)
	}
}
