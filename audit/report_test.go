package audit

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/daytradinginc/daytrader/trading"
)

func TestRunWatermarkCountsAndErrors(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()

	empty, err := s.LastEventID(ctx)
	if err != nil || empty != 0 {
		t.Fatalf("LastEventID of an empty history = %d, %v; want 0", empty, err)
	}
	errorEvent := func(key string, tx int64, cmd trading.CommandName, msg string) trading.Event {
		return trading.Event{Key: key, Type: trading.ErrorEvent, Time: day1, TxNum: tx, Command: cmd, User: "u", Message: msg}
	}
	userCommand := func(key string, tx int64) trading.Event {
		return trading.Event{Key: key, Type: trading.UserCommandEvent, Time: day1, TxNum: tx, Command: trading.CommitBuy, User: "u"}
	}
	// An earlier run: its events are before the mark and must not count.
	before := []trading.Event{userCommand("old-1", 1), errorEvent("old-err-1", 1, trading.CommitBuy, "no pending buy")}
	if err := s.Write(ctx, "w", before); err != nil {
		t.Fatal(err)
	}
	mark, err := s.LastEventID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if mark == 0 {
		t.Fatal("LastEventID = 0 after two events were stored")
	}

	var run []trading.Event
	for tx := int64(1); tx <= 6; tx++ {
		run = append(run, userCommand(fmt.Sprint("uc-", tx), tx))
	}
	run = append(run,
		errorEvent("e1", 1, trading.CommitBuy, "no pending buy"),
		errorEvent("e2", 2, trading.CommitBuy, "no pending buy"),
		errorEvent("e3", 3, trading.CommitBuy, "no pending buy"),
		errorEvent("e4", 4, trading.Sell, "you hold no free shares of ABC to sell"),
		errorEvent("e5", 5, trading.Buy, "not enough cash"),
		errorEvent("e6", 6, trading.Buy, "not enough cash"),
		// Not one of the run's users (another client's command).
		trading.Event{Key: "e7", Type: trading.ErrorEvent, Time: day1, TxNum: 99, Command: trading.Buy, User: "trader", Message: "not enough cash"},
		trading.Event{Key: "q1", Type: trading.QuoteServerEvent, Time: day1, TxNum: 5, User: "u", Symbol: "ABC",
			Price: money("1.00"), QuoteServerTime: 1, Cryptokey: "k"},
	)
	if err := s.Write(ctx, "w", run); err != nil {
		t.Fatal(err)
	}

	counts, err := s.CountSince(ctx, mark)
	if err != nil {
		t.Fatal(err)
	}
	wantCounts := map[trading.EventType]int64{trading.UserCommandEvent: 6, trading.ErrorEvent: 7, trading.QuoteServerEvent: 1}
	if !reflect.DeepEqual(counts, wantCounts) {
		t.Errorf("CountSince(mark) = %v, want %v", counts, wantCounts)
	}
	last, err := s.LastEventID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if none, err := s.CountSince(ctx, last); err != nil || len(none) != 0 {
		t.Errorf("CountSince(newest id) = %v, %v; want nothing", none, err)
	}

	n, lastID, err := s.CountUserCommandsAfter(ctx, mark)
	if err != nil || n != 6 || lastID != last {
		t.Errorf("CountUserCommandsAfter(mark) = %d, %d, %v; want 6 and the newest id %d", n, lastID, err, last)
	}
	n, lastID, err = s.CountUserCommandsAfter(ctx, last)
	if err != nil || n != 0 || lastID != last {
		t.Errorf("CountUserCommandsAfter(newest id) = %d, %d, %v; want 0 and the same id", n, lastID, err)
	}

	got, err := s.ErrorCounts(ctx, mark, []string{"u", "nobody"})
	if err != nil {
		t.Fatal(err)
	}
	want := []ErrorCount{
		{Command: trading.CommitBuy, Message: "no pending buy", Count: 3},
		{Command: trading.Buy, Message: "not enough cash", Count: 2},
		{Command: trading.Sell, Message: "you hold no free shares of ABC to sell", Count: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ErrorCounts = %+v\nwant %+v", got, want)
	}
	if none, err := s.ErrorCounts(ctx, mark, nil); err != nil || none != nil {
		t.Errorf("ErrorCounts without users = %v, %v; want nothing", none, err)
	}
}
