package audit

import (
	"context"
	"testing"
	"time"
)

// TestLongestTraderWait: a reading gives the count and the longest of the
// waits recorded after the given time, and the database's time to start
// the next reading at; waits older than a minute are deleted when the next
// one is written.
func TestLongestTraderWait(t *testing.T) {
	s, pool := newTestStore(t)
	ctx := context.Background()
	read := func(after time.Time) TraderWaits {
		t.Helper()
		w, err := s.LongestTraderWait(ctx, after)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	if w := read(time.Time{}); w.Answered != 0 || w.Longest != 0 || w.AsOf.IsZero() {
		t.Fatalf("nothing recorded: %+v, want no waits as of the database's time", w)
	}
	// A wait recorded more than a minute ago, as if by an earlier trader.
	if _, err := pool.Exec(ctx, `INSERT INTO trader_waits (answered_at, wait_ms) VALUES (now() - '2 minutes'::interval, 9999)`); err != nil {
		t.Fatal(err)
	}
	first := read(time.Time{})
	if first.Answered != 1 {
		t.Fatalf("the old wait is not there to be deleted: %+v", first)
	}
	for _, d := range []time.Duration{12 * time.Millisecond, 80500 * time.Microsecond, 3 * time.Millisecond} {
		if err := s.RecordTraderWait(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if w := read(first.AsOf); w.Answered != 3 || w.Longest != 80500*time.Microsecond || !w.AsOf.After(first.AsOf) {
		t.Errorf("after three waits: %+v, want 3 answered, the longest 80.5 ms, a later AsOf", w)
	}
	if w := read(time.Time{}); w.Answered != 3 {
		t.Errorf("all the waits kept: %d, want 3 (the two-minute-old one deleted)", w.Answered)
	}
	if w := read(read(time.Time{}).AsOf); w.Answered != 0 {
		t.Errorf("nothing recorded since the last reading: %+v", w)
	}
}
