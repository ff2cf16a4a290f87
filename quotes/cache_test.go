package quotes

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/quotes/quotestest"
	"github.com/daytradinginc/daytrader/trading"
	"github.com/shopspring/decimal"
)

func TestCacheValidFor60Seconds(t *testing.T) {
	clock := quotestest.NewClock(time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC))
	f := &quotestest.Fetcher{Clock: clock}
	c := NewCache(f, clock.Now)
	ctx := context.Background()

	q, hit, err := c.Get(ctx, "ABC", "alice")
	if err != nil || !hit || !q.Price.Equal(decimal.NewFromInt(1)) {
		t.Fatalf("first Get = %v, %v, %v; want fetch 1 as a legacy hit", q.Price, hit, err)
	}
	// Reused, also for another user, up to and including 60 s later.
	for _, d := range []time.Duration{time.Second, 58 * time.Second, time.Second} {
		clock.Advance(d)
		q, hit, err = c.Get(ctx, "ABC", "bob")
		if err != nil || hit || !q.Price.Equal(decimal.NewFromInt(1)) || q.User != "alice" {
			t.Fatalf("Get at +%v = %+v, %v, %v; want the cached quote, no legacy hit", clock.Now().Sub(q.FetchedAt), q, hit, err)
		}
	}
	// Just past 60 s it is fetched again.
	clock.Advance(time.Millisecond)
	q, hit, err = c.Get(ctx, "ABC", "bob")
	if err != nil || !hit || !q.Price.Equal(decimal.NewFromInt(2)) || q.User != "bob" {
		t.Fatalf("Get after 60 s = %+v, %v, %v; want fetch 2 as a legacy hit", q, hit, err)
	}
	if f.Calls.Load() != 2 {
		t.Errorf("%d fetches, want 2", f.Calls.Load())
	}
	if st := c.Stats(); st != (CacheStats{Hits: 3, Misses: 2, Fetches: 2}) {
		t.Errorf("stats = %+v", st)
	}
}

func TestCacheSingleFlight(t *testing.T) {
	const callers = 100
	clock := quotestest.NewClock(time.Now())
	f := &quotestest.Fetcher{Clock: clock, Started: make(chan struct{}, callers), Gate: make(chan struct{})}
	c := NewCache(f, clock.Now)

	var wg sync.WaitGroup
	var legacyHits, got atomic.Int64
	for range callers {
		wg.Go(func() {
			q, hit, err := c.Get(context.Background(), "XYZ", "u")
			if err != nil {
				t.Error(err)
				return
			}
			if q.Price.Equal(decimal.NewFromInt(1)) {
				got.Add(1)
			}
			if hit {
				legacyHits.Add(1)
			}
		})
	}
	<-f.Started // the one fetch is running; let the other callers pile up on it
	for c.Stats().Misses < callers/2 {
		time.Sleep(time.Millisecond)
	}
	close(f.Gate)
	wg.Wait()
	if f.Calls.Load() != 1 || got.Load() != callers || legacyHits.Load() != 1 {
		t.Errorf("%d fetches, %d callers got fetch 1, %d legacy hits; want 1, %d, 1",
			f.Calls.Load(), got.Load(), legacyHits.Load(), callers)
	}
}

func TestCacheWaiterCancelsAlone(t *testing.T) {
	clock := quotestest.NewClock(time.Now())
	f := &quotestest.Fetcher{Clock: clock, Started: make(chan struct{}, 2), Gate: make(chan struct{})}
	c := NewCache(f, clock.Now)

	type result struct {
		q   trading.Quote
		hit bool
		err error
	}
	owner := make(chan result)
	go func() {
		q, hit, err := c.Get(context.Background(), "ABC", "alice")
		owner <- result{q, hit, err}
	}()
	<-f.Started

	// A waiter on the same fetch gives up; the fetch goes on.
	ctx, cancel := context.WithCancel(context.Background())
	waiter := make(chan result)
	go func() {
		q, hit, err := c.Get(ctx, "ABC", "bob")
		waiter <- result{q, hit, err}
	}()
	for c.Stats().Misses < 2 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if r := <-waiter; !errors.Is(r.err, context.Canceled) || r.hit {
		t.Fatalf("cancelled waiter = %+v, want context.Canceled", r)
	}
	close(f.Gate)
	if r := <-owner; r.err != nil || !r.hit || !r.q.Price.Equal(decimal.NewFromInt(1)) {
		t.Fatalf("owner = %+v, want fetch 1 as its legacy hit", r)
	}
	if f.Calls.Load() != 1 {
		t.Errorf("%d fetches, want 1", f.Calls.Load())
	}
}

// TestCacheOwnerCancelPassesLegacyHit: when the caller that started a fetch
// stops waiting, the legacy hit is still reported once, by the next caller
// handed the quote.
func TestCacheOwnerCancelPassesLegacyHit(t *testing.T) {
	for _, waiterPresent := range []bool{true, false} {
		clock := quotestest.NewClock(time.Now())
		f := &quotestest.Fetcher{Clock: clock, Started: make(chan struct{}, 2), Gate: make(chan struct{})}
		c := NewCache(f, clock.Now)

		ctx, cancel := context.WithCancel(context.Background())
		ownerErr := make(chan error)
		go func() {
			_, _, err := c.Get(ctx, "ABC", "alice")
			ownerErr <- err
		}()
		<-f.Started
		type result struct {
			hit bool
			err error
		}
		waiter := make(chan result, 1)
		if waiterPresent {
			go func() {
				_, hit, err := c.Get(context.Background(), "ABC", "bob")
				waiter <- result{hit, err}
			}()
			for c.Stats().Misses < 2 {
				time.Sleep(time.Millisecond)
			}
		}
		cancel()
		if err := <-ownerErr; !errors.Is(err, context.Canceled) {
			t.Fatalf("owner err = %v, want context.Canceled", err)
		}
		close(f.Gate) // the fetch completes without its owner
		hits := 0
		if waiterPresent {
			r := <-waiter
			if r.err != nil {
				t.Fatal(r.err)
			}
			if r.hit {
				hits++
			}
		} else {
			for c.Stats().Fetches != 1 || !c.hasEntry("ABC") {
				time.Sleep(time.Millisecond)
			}
		}
		for range 3 {
			_, hit, err := c.Get(context.Background(), "ABC", "carol")
			if err != nil {
				t.Fatal(err)
			}
			if hit {
				hits++
			}
		}
		if hits != 1 || f.Calls.Load() != 1 {
			t.Errorf("waiter present %v: %d legacy hits reported over %d fetches, want 1 and 1", waiterPresent, hits, f.Calls.Load())
		}
	}
}

// hasEntry reports whether a quote for symbol is stored.
func (c *Cache) hasEntry(symbol string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.entries[symbol] != nil
}

func TestCacheDoesNotCacheErrors(t *testing.T) {
	clock := quotestest.NewClock(time.Now())
	f := &quotestest.Fetcher{Clock: clock}
	f.Fail.Store(1)
	c := NewCache(f, clock.Now)
	if _, hit, err := c.Get(context.Background(), "ABC", "alice"); !errors.Is(err, quotestest.ErrDown) || hit {
		t.Fatalf("Get = %v, %v; want the fetch error", hit, err)
	}
	q, hit, err := c.Get(context.Background(), "ABC", "alice")
	if err != nil || !hit || !q.Price.Equal(decimal.NewFromInt(2)) {
		t.Fatalf("Get after an error = %+v, %v, %v; want a fresh fetch", q, hit, err)
	}
	if st := c.Stats(); st.Fetches != 2 || st.FetchErrors != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestCacheGetMany(t *testing.T) {
	clock := quotestest.NewClock(time.Now())
	f := &quotestest.Fetcher{Clock: clock}
	c := NewCache(f, clock.Now)
	results := c.GetMany(context.Background(), "alice", "", []string{"ABC", "DEF", "ABC", "GHI"})
	if len(results) != 4 {
		t.Fatalf("%d results, want 4", len(results))
	}
	abcHits := 0
	for i, want := range []string{"ABC", "DEF", "ABC", "GHI"} {
		r := results[i]
		if r.Err != nil || r.Symbol != want || r.Quote.Symbol != want {
			t.Errorf("result %d = %+v, want a quote for %s", i, r, want)
		}
		if want == "ABC" && r.LegacyHit {
			abcHits++
		}
	}
	if abcHits != 1 || !results[1].LegacyHit || !results[3].LegacyHit {
		t.Errorf("legacy hits: ABC %d (want 1), DEF %v, GHI %v (want true)", abcHits, results[1].LegacyHit, results[3].LegacyHit)
	}
	if f.Calls.Load() != 3 {
		t.Errorf("%d fetches, want 3 (ABC once)", f.Calls.Load())
	}
}

// TestCacheOverEmulator runs the real chain: cache, hedging client, emulator.
func TestCacheOverEmulator(t *testing.T) {
	s := startServer(t, ServerOptions{Latency: LatencyLegacy, Seed: 11,
		FixedPrices: map[string]decimal.Decimal{"ABC": decimal.RequireFromString("42.42")}})
	client, err := NewClient(s.Addr(), ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := NewCache(client, nil)
	results := c.GetMany(context.Background(), "alice", "", []string{"ABC", "ABC", "ZZ", "ABC"})
	hits := 0
	for _, r := range results {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		if r.LegacyHit {
			hits++
		}
	}
	if !results[0].Quote.Price.Equal(decimal.RequireFromString("42.42")) || hits != 2 {
		t.Errorf("results = %+v, want ABC at 42.42 and 2 legacy hits", results)
	}
	if q, hit, err := c.Get(context.Background(), "ABC", "bob"); err != nil || hit || q.Cryptokey != results[0].Quote.Cryptokey {
		t.Errorf("Get of a cached quote = %+v, %v, %v", q, hit, err)
	}
	// The emulator counts a reply once written, maybe after we read it.
	waitFor(t, "the emulator to count 2 replies (ABC and ZZ)", func() bool { return s.Stats().Served >= 2 })
}
