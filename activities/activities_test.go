package activities_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/activities"
	"github.com/daytradinginc/daytrader/quotes"
	"github.com/daytradinginc/daytrader/trading"
	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/temporal"
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
	got, err := a.GetQuotes(context.Background(), activities.QuotesRequest{User: "alice", Symbols: symbols, Claimant: "account-alice/c1/1"})
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

// delayFetcher answers each symbol after its own delay, counting calls.
type delayFetcher struct {
	delays map[string]time.Duration
	mu     sync.Mutex
	calls  int
}

func (f *delayFetcher) Fetch(_ context.Context, symbol, user string) (trading.Quote, error) {
	f.mu.Lock()
	f.calls++
	f.mu.Unlock()
	time.Sleep(f.delays[symbol])
	return trading.Quote{Symbol: symbol, User: user, Price: decimal.NewFromInt(7), Cryptokey: "k-" + symbol, FetchedAt: time.Now()}, nil
}

// TestGetQuotesLateKeepsItsLegacyHits: Temporal drops a local activity's
// result that comes after its deadline ("LocalActivity completed after
// activity deadline", seen under load) and runs the activity again with the
// same input. A hit the dropped attempt had claimed was then lost to the
// audit: the retry found the quote cached and already reported, so a billed
// fetch had no quoteServer record. Here FAST is fetched in time, SLOW
// outlasts the deadline; counting, as Temporal does, only the result of the
// retry, every fetch must be reported as a legacy hit exactly once: FAST to
// the same claimant again, SLOW to the retry that finds its owner gone.
func TestGetQuotesLateKeepsItsLegacyHits(t *testing.T) {
	f := &delayFetcher{delays: map[string]time.Duration{"FAST": 20 * time.Millisecond, "SLOW": 1500 * time.Millisecond}}
	a := &activities.Activities{Quotes: quotes.NewCache(f, nil)}
	req := activities.QuotesRequest{User: "alice", Symbols: []string{"FAST", "SLOW"}, Claimant: "account-alice/c1/41"}
	ctx, cancel := context.WithTimeout(context.Background(), 1200*time.Millisecond)
	defer cancel()
	_, _ = a.GetQuotes(ctx, req) // dropped whatever it is, as Temporal drops a late one
	if ctx.Err() == nil {
		t.Fatal("the first attempt came back before its deadline: the test did not make it late")
	}
	hits := map[string]int{}
	retry, err := a.GetQuotes(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	for sym, r := range retry {
		if r.Err != "" {
			t.Errorf("retry: %s: %s", sym, r.Err)
		}
		if r.LegacyHit {
			hits[sym]++
		}
	}
	if f.calls != 2 || hits["FAST"] != 1 || hits["SLOW"] != 1 {
		t.Errorf("%d legacy fetches, hits reported in results Temporal keeps: %v; want FAST and SLOW once each", f.calls, hits)
	}
}

// TestGetQuotesPastItsDeadlineFails: an attempt whose context ends while
// it fetches returns the context's error, not quotes that are all that
// error. Temporal takes a result that is ready when the attempt's deadline
// fires as a success, so under load such a late "result" sometimes won
// the race and the BUY waiting for it failed ("could not get a quote:
// context deadline exceeded") instead of the attempt being tried again
// (TestQuoteFetchOutlivingItsAttemptIsTriedAgain failed a fresh CI run).
func TestGetQuotesPastItsDeadlineFails(t *testing.T) {
	f := &delayFetcher{delays: map[string]time.Duration{"SLOW": 300 * time.Millisecond}}
	a := &activities.Activities{Quotes: quotes.NewCache(f, nil)}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	out, err := a.GetQuotesV2(ctx, activities.QuotesRequest{User: "alice", Symbols: []string{"SLOW"}, Claimant: "account-alice/c1/7"})
	if !errors.Is(err, context.DeadlineExceeded) || out != nil {
		t.Errorf("GetQuotesV2 past its deadline = %+v, %v; want no result and the deadline's error", out, err)
	}
}

// TestGetQuotesWithoutAClaimantIsRefused: the claimant is what lets a retry
// report the hits of an answer Temporal dropped, so a request without one
// is refused before it bills anything.
func TestGetQuotesWithoutAClaimantIsRefused(t *testing.T) {
	f := &delayFetcher{}
	a := &activities.Activities{Quotes: quotes.NewCache(f, nil)}
	_, err := a.GetQuotes(context.Background(), activities.QuotesRequest{User: "alice", Symbols: []string{"ABC"}})
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || !appErr.NonRetryable() || !strings.Contains(err.Error(), "no claimant") {
		t.Fatalf("err %v, want a non-retryable error naming the missing claimant", err)
	}
	if f.calls != 0 {
		t.Errorf("%d legacy fetches for a refused request, want 0", f.calls)
	}
}

// TestARunAgainAfterALostTaskGetsItsLegacyHits: a workflow task that ran
// GetQuotes can be lost after it (on an overloaded worker its heartbeat
// came too late: "Workflow task not found"), and the task run again asks
// for the same quotes, now cached. A 1,000,000-command run lost 435 to
// 5,969 of its ~30,000 billed quotes this way: fetched, but never audited.
// The run again (the same claimant) must be told of the hits again; another
// batch asking for the same quotes must not.
func TestARunAgainAfterALostTaskGetsItsLegacyHits(t *testing.T) {
	f := &slowFetcher{}
	a := &activities.Activities{Quotes: quotes.NewCache(f, nil)}
	batch := activities.QuotesRequest{User: "alice", Symbols: []string{"ABC", "DEF"}, Claimant: "account-alice/c1/41"}
	for attempt := 1; attempt <= 2; attempt++ { // the second: the task run again
		got, err := a.GetQuotes(context.Background(), batch)
		if err != nil {
			t.Fatal(err)
		}
		if !got["ABC"].LegacyHit || !got["DEF"].LegacyHit {
			t.Errorf("run %d of the batch: legacy hits ABC %v, DEF %v; want both", attempt, got["ABC"].LegacyHit, got["DEF"].LegacyHit)
		}
	}
	for _, other := range []string{"account-bob/c1/7", "account-bob/c1/8"} {
		got, err := a.GetQuotes(context.Background(), activities.QuotesRequest{User: "bob", Symbols: []string{"ABC"}, Claimant: other})
		if err != nil {
			t.Fatal(err)
		}
		if got["ABC"].LegacyHit {
			t.Errorf("claimant %q was told of alice's batch's legacy hit", other)
		}
	}
}
