package activities_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/activities"
	"github.com/daytradinginc/daytrader/quotes"
	"github.com/daytradinginc/daytrader/trading"
	"github.com/shopspring/decimal"
)

// slowFetcher stands in for the legacy server: every fetch takes a while,
// and it records how many ran at once. Symbol "ERR" fails.
type slowFetcher struct {
	mu               sync.Mutex
	inFlight, maxRun int
}

func (f *slowFetcher) Fetch(_ context.Context, symbol, user string) (trading.Quote, error) {
	f.mu.Lock()
	f.inFlight++
	f.maxRun = max(f.maxRun, f.inFlight)
	f.mu.Unlock()
	defer func() { f.mu.Lock(); f.inFlight--; f.mu.Unlock() }()
	time.Sleep(20 * time.Millisecond)
	if symbol == "ERR" {
		return trading.Quote{}, errors.New("quote server unreachable")
	}
	return trading.Quote{Symbol: symbol, User: user, Price: decimal.NewFromInt(7), FetchedAt: time.Now()}, nil
}

// TestGetQuotesIsBounded asks for many symbols at once, as a large batch of
// an account does: every one is answered, but the legacy server never sees
// more than quotes.MaxParallelGets requests at a time (GetQuotes used to
// start one goroutine per symbol, all at once).
func TestGetQuotesIsBounded(t *testing.T) {
	f := &slowFetcher{}
	a := &activities.Activities{Quotes: quotes.NewCache(f, nil)}
	var symbols []string
	for i := range 4 * quotes.MaxParallelGets {
		symbols = append(symbols, string([]byte{'A' + byte(i/26%26), 'A' + byte(i%26)}))
	}
	symbols = append(symbols, "ERR")
	got, err := a.GetQuotes(context.Background(), activities.QuotesRequest{User: "alice", Symbols: symbols})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(symbols) {
		t.Fatalf("%d answers for %d symbols", len(got), len(symbols))
	}
	for _, sym := range symbols[:len(symbols)-1] {
		if r := got[sym]; r.Err != "" || !r.LegacyHit || r.Quote.Symbol != sym {
			t.Errorf("%s: %+v, want a fresh quote (a legacy hit)", sym, r)
		}
	}
	if r := got["ERR"]; r.Err != "quote server unreachable" || r.LegacyHit {
		t.Errorf("ERR: %+v, want the fetch's error and no legacy hit", r)
	}
	if f.maxRun > quotes.MaxParallelGets || f.maxRun < 2 {
		t.Errorf("%d fetches ran at once, want between 2 and %d", f.maxRun, quotes.MaxParallelGets)
	}
}
