package audit

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/trading"
)

// TestCountByInterval: records counted per interval of their time, only
// the asked type, bounds half-open, empty intervals present as 0; bad
// windows refused.
func TestCountByInterval(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	from := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var events []trading.Event
	add := func(typ trading.EventType, at time.Duration, n int) {
		for range n {
			events = append(events, trading.Event{Key: fmt.Sprintf("k%d", len(events)), Type: typ, Time: from.Add(at),
				TxNum: int64(len(events) + 1), Command: trading.Add, User: "alice", Funds: money("1.00")})
		}
	}
	add(trading.UserCommandEvent, -time.Millisecond, 4)     // before the window
	add(trading.UserCommandEvent, 0, 2)                     // first interval, its first instant
	add(trading.UserCommandEvent, 9999*time.Millisecond, 1) // first interval, its last ms
	add(trading.UserCommandEvent, 25*time.Second, 3)        // third interval
	add(trading.UserCommandEvent, 30*time.Second, 5)        // the window's end: out
	add(trading.ErrorEvent, 5*time.Second, 7)               // another type
	if err := s.Write(ctx, "w", events); err != nil {
		t.Fatal(err)
	}
	got, err := s.CountByInterval(ctx, trading.UserCommandEvent, from, from.Add(30*time.Second), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	want := []Bucket{{from, 3}, {from.Add(10 * time.Second), 0}, {from.Add(20 * time.Second), 3}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if !got[i].Start.Equal(want[i].Start) || got[i].Count != want[i].Count {
			t.Errorf("interval %d: %v, want %v", i, got[i], want[i])
		}
	}
	for _, bad := range []struct {
		from, to time.Time
		every    time.Duration
	}{{from, from, time.Second}, {from, from.Add(time.Minute), time.Millisecond}, {from, from.Add(time.Hour * 24 * 365), time.Second}} {
		if _, err := s.CountByInterval(ctx, trading.UserCommandEvent, bad.from, bad.to, bad.every); err == nil {
			t.Errorf("CountByInterval(%v, %v, %v) accepted", bad.from, bad.to, bad.every)
		}
	}
}

// TestRecentErrors: the newest errorEvents of every user, newest first,
// limited; other types never.
func TestRecentErrors(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var events []trading.Event
	for i := range 5 {
		user := []string{"alice", "bob"}[i%2]
		events = append(events,
			trading.Event{Key: fmt.Sprintf("e%d", i), Type: trading.ErrorEvent, Time: at, TxNum: int64(i + 1),
				Command: trading.CommitSell, User: user, Message: fmt.Sprintf("error %d", i)},
			trading.Event{Key: fmt.Sprintf("c%d", i), Type: trading.UserCommandEvent, Time: at, TxNum: int64(i + 1),
				Command: trading.CommitSell, User: user})
	}
	if err := s.Write(ctx, "w", events); err != nil {
		t.Fatal(err)
	}
	got, err := s.RecentErrors(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, e := range got {
		if e.Type != trading.ErrorEvent {
			t.Errorf("%v is not an errorEvent", e)
		}
		msgs = append(msgs, e.User+": "+e.Message)
	}
	if fmt.Sprint(msgs) != "[alice: error 4 bob: error 3 alice: error 2]" {
		t.Errorf("RecentErrors(3) = %v", msgs)
	}
	for _, bad := range []int{0, MaxHistoryLimit + 1} {
		if _, err := s.RecentErrors(ctx, bad); err == nil {
			t.Errorf("RecentErrors(%d) accepted", bad)
		}
	}
}
