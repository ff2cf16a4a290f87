package audit

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/daytradinginc/daytrader/trading"
)

// largeBatch is at least copyAtLeast events of every kind (sampleEvents)
// for users prefix00, prefix01, ... and no user, each key new.
func largeBatch(prefix string) []trading.Event {
	var events []trading.Event
	for i := 0; len(events) < copyAtLeast; i++ {
		events = append(events, sampleEvents(fmt.Sprintf("%s%02d", prefix, i), int64(i*100+1), day1)...)
	}
	return events
}

// usersOf is the distinct users of events, sorted ("" for no user).
func usersOf(events []trading.Event) []string {
	var users []string
	for _, ev := range events {
		users = append(users, ev.User)
	}
	slices.Sort(users)
	return slices.Compact(users)
}

func TestCopyNewStoresOnlyNewBatches(t *testing.T) {
	s, pool := newTestStore(t)
	ctx := context.Background()
	events := largeBatch("u")
	cols, err := newEventColumns("w", events)
	if err != nil {
		t.Fatal(err)
	}
	if stored, err := s.copyNew(ctx, cols); err != nil || !stored {
		t.Fatalf("copyNew of new events = %v, %v; want stored", stored, err)
	}
	checkStored(t, allEvents(t, s, HistoryQuery{Limit: MaxHistoryLimit}), withServer("w", events))

	// Every key stored already, or one key twice: nothing is written.
	twice := slices.Concat(largeBatch("v"), largeBatch("v")[:1])
	for name, batch := range map[string][]trading.Event{"stored": events, "a key twice": twice} {
		cols, err := newEventColumns("w", batch)
		if err != nil {
			t.Fatal(err)
		}
		if stored, err := s.copyNew(ctx, cols); err != nil || stored {
			t.Errorf("%s: copyNew = %v, %v; want nothing stored and no error", name, stored, err)
		}
		if n := countRows(t, pool); n != int64(len(events)) {
			t.Fatalf("%s: %d rows after copyNew, want %d", name, n, len(events))
		}
	}
}

// A large batch part of which is stored (a retried write, a key twice)
// is stored once, in batch order after what was there.
func TestWriteStoresALargeBatchOnce(t *testing.T) {
	s, pool := newTestStore(t)
	ctx := context.Background()
	events := largeBatch("u")
	if err := s.Write(ctx, "w", slices.Concat(events[:10], events[500:501])); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := s.Write(ctx, "w", slices.Concat(events, events[:1])); err != nil {
			t.Fatal(err)
		}
	}
	want := slices.Concat(events[:10], events[500:501], events[10:500], events[501:])
	checkStored(t, allEvents(t, s, HistoryQuery{Limit: MaxHistoryLimit}), withServer("w", want))
	if n := countRows(t, pool); n != int64(len(events)) {
		t.Errorf("%d rows, want %d", n, len(events))
	}
}
