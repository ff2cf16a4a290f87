package pgquotes_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/internal/testdb"
	"github.com/daytradinginc/daytrader/quotes"
	"github.com/daytradinginc/daytrader/quotes/pgquotes"
	"github.com/daytradinginc/daytrader/quotes/quotestest"
	"github.com/daytradinginc/daytrader/trading"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// worker is one process's cache: its own pool and quotes.Cache over the
// shared table.
func worker(t *testing.T, dbURL string, l *quotestest.Fetcher) *quotes.Cache {
	t.Helper()
	return countedWorker(t, dbURL, l, nil)
}

// countedWorker is worker with statements counting the statements its pool
// runs (nil: not counted).
func countedWorker(t *testing.T, dbURL string, l *quotestest.Fetcher, statements *atomic.Int64) *quotes.Cache {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	if statements != nil {
		cfg.ConnConfig.Tracer = statementCounter{statements}
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	return quotes.NewSharedCache(l, pgquotes.NewStore(pool, quiet), l.Clock.Now)
}

// statementCounter counts the statements a pool starts.
type statementCounter struct{ n *atomic.Int64 }

func (c statementCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}

func (statementCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// newLegacy stands for the billed legacy quote server, each fetch taking
// delay.
func newLegacy(delay time.Duration) *quotestest.Fetcher {
	return &quotestest.Fetcher{Clock: quotestest.NewClock(time.Now()), Delay: delay}
}

// lookup is one Get's answer.
type lookup struct {
	quote trading.Quote
	hit   bool
}

// lookupAll runs perWorker concurrent Gets of every symbol on each cache
// and returns every answer by symbol.
func lookupAll(t *testing.T, caches []*quotes.Cache, symbols []string, perWorker int) map[string][]lookup {
	t.Helper()
	var mu sync.Mutex
	got := map[string][]lookup{}
	var wg sync.WaitGroup
	for w, c := range caches {
		for i := range perWorker {
			for _, sym := range symbols {
				wg.Go(func() {
					q, hit, err := c.Get(context.Background(), sym, fmt.Sprintf("user%d-%d", w, i))
					if err != nil {
						t.Errorf("Get %s: %v", sym, err)
						return
					}
					mu.Lock()
					got[sym] = append(got[sym], lookup{q, hit})
					mu.Unlock()
				})
			}
		}
	}
	wg.Wait()
	return got
}

// checkOnceEach: every symbol was fetched once and reported as a legacy
// hit to exactly one caller, and every caller got that fetch's quote.
func checkOnceEach(t *testing.T, l *quotestest.Fetcher, got map[string][]lookup, symbols []string) {
	t.Helper()
	for _, sym := range symbols {
		fetches := l.CallsOf(sym)
		hits, differ := 0, 0
		for _, g := range got[sym] {
			if g.hit {
				hits++
			}
			if g.quote.Cryptokey != got[sym][0].quote.Cryptokey || !g.quote.Price.Equal(got[sym][0].quote.Price) {
				differ++
			}
		}
		if differ > 0 {
			t.Errorf("%s: %d of %d callers got another quote than the first", sym, differ, len(got[sym]))
		}
		if fetches != 1 || hits != 1 {
			t.Errorf("%s: %d legacy fetches and %d callers told legacyHit, want 1 and 1", sym, fetches, hits)
		}
	}
}

// TestOneFetchPerSymbolForAllWorkers: two workers' caches over one
// database, 8 concurrent lookups of each of 20 symbols on each, every fetch
// slow: one legacy fetch per symbol in all, reported to one caller; after
// the quotes expire, one fetch per symbol again.
func TestOneFetchPerSymbolForAllWorkers(t *testing.T) {
	dbURL := testdb.URL(t)
	l := newLegacy(30 * time.Millisecond)
	caches := []*quotes.Cache{worker(t, dbURL, l), worker(t, dbURL, l)}
	var symbols []string
	for i := range 20 {
		symbols = append(symbols, fmt.Sprintf("S%02d", i))
	}
	checkOnceEach(t, l, lookupAll(t, caches, symbols, 8), symbols)
	shared := caches[0].Stats().SharedHits + caches[1].Stats().SharedHits
	if fetched := caches[0].Stats().Fetches + caches[1].Stats().Fetches; fetched != 20 || shared != 20 {
		t.Errorf("the caches fetched %d and took %d from the other worker, want 20 and 20", fetched, shared)
	}

	l.Clock.Advance(trading.QuoteValidity + time.Second)
	l.ResetCounts()
	checkOnceEach(t, l, lookupAll(t, caches, symbols, 8), symbols)
}

// TestLookupsTogetherShareStatements: 300 symbols looked up at once, each
// fetched once, take a few grouped statements, not a lookup, a claim and a
// store each (900).
func TestLookupsTogetherShareStatements(t *testing.T) {
	dbURL := testdb.URL(t)
	l := newLegacy(20 * time.Millisecond)
	var statements atomic.Int64
	c := countedWorker(t, dbURL, l, &statements)
	var symbols []string
	for i := range 300 {
		symbols = append(symbols, fmt.Sprintf("G%03d", i))
	}
	checkOnceEach(t, l, lookupAll(t, []*quotes.Cache{c}, symbols, 1), symbols)
	if n := statements.Load(); n > 100 {
		t.Errorf("%d statements for %d symbols fetched at once, want at most 100", n, len(symbols))
	}
	t.Logf("%d statements for %d symbols", statements.Load(), len(symbols))
}

// TestAnotherWorkerTellsTheSameClaimant: a worker fetched for a batch and
// died before the batch's workflow task completed; the batch, run again on
// another worker, finds the quote in the table and is told of the legacy
// hit, so it is audited. Another claimant is not told.
func TestAnotherWorkerTellsTheSameClaimant(t *testing.T) {
	dbURL := testdb.URL(t)
	l := newLegacy(0)
	dead, other := worker(t, dbURL, l), worker(t, dbURL, l)
	if r := dead.GetMany(context.Background(), "alice", "account-alice/c/7", []string{"ABC"}); r[0].Err != nil || !r[0].LegacyHit {
		t.Fatalf("the first worker's fetch = %+v; want a billed quote", r[0])
	}
	// Others ask first, so the other worker has the quote in its own cache
	// by the time the batch runs again.
	for _, c := range []struct {
		claimant string
		told     bool
	}{{"account-bob/c/3", false}, {"", false}, {"account-alice/c/7", true}, {"account-alice/c/7", true}} {
		r := other.GetMany(context.Background(), "alice", c.claimant, []string{"ABC"})
		if r[0].Err != nil || r[0].LegacyHit != c.told {
			t.Errorf("claimant %q on the other worker: legacy hit %v, err %v; want %v", c.claimant, r[0].LegacyHit, r[0].Err, c.told)
		}
	}
	if n := l.CallsOf("ABC"); n != 1 {
		t.Errorf("%d legacy fetches of ABC, want 1", n)
	}
}

// TestAFailedFetchLetsAnotherWorkerFetch: the worker holding the lease
// fails to fetch; the lease is given back and the other worker's lookup
// fetches and is billed, once.
func TestAFailedFetchLetsAnotherWorkerFetch(t *testing.T) {
	dbURL := testdb.URL(t)
	l := newLegacy(0)
	a, b := worker(t, dbURL, l), worker(t, dbURL, l)
	l.Fail.Store(1)
	if _, hit, err := a.Get(context.Background(), "ABC", "alice"); err == nil || hit {
		t.Fatalf("Get on a failing legacy server = hit %v, err %v; want the error", hit, err)
	}
	q, hit, err := b.Get(context.Background(), "ABC", "bob")
	if err != nil || !hit || q.User != "bob" {
		t.Fatalf("the other worker's Get = %+v, %v, %v; want its own fetch, billed", q, hit, err)
	}
	if q2, hit, err := a.Get(context.Background(), "ABC", "alice"); err != nil || hit || q2.Cryptokey != q.Cryptokey {
		t.Errorf("the first worker's second Get = %+v, %v, %v; want the other's quote, not billed", q2, hit, err)
	}
}

// TestAnAbandonedLeaseIsTakenOver: a worker died holding a lease; another
// worker waits for it to run out, then fetches.
func TestAnAbandonedLeaseIsTakenOver(t *testing.T) {
	dbURL := testdb.URL(t)
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(context.Background(), `INSERT INTO quote_cache (symbol, lease_owner, lease_until)
VALUES ('ABC', 'dead worker', now() + interval '500 milliseconds')`); err != nil {
		t.Fatal(err)
	}
	l := newLegacy(0)
	start := time.Now()
	q, hit, err := worker(t, dbURL, l).Get(context.Background(), "ABC", "alice")
	if err != nil || !hit || q.User != "alice" {
		t.Fatalf("Get = %+v, %v, %v; want a fetch of its own", q, hit, err)
	}
	if waited := time.Since(start); waited < 400*time.Millisecond {
		t.Errorf("fetched after %s, before the dead worker's lease ran out", waited)
	}
}

// TestWithoutTheDatabaseQuotesStillCome: the shared table unreachable, a
// lookup fetches by itself, billed.
func TestWithoutTheDatabaseQuotesStillCome(t *testing.T) {
	pool, err := pgxpool.New(context.Background(), testdb.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	pool.Close()
	l := newLegacy(0)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	c := quotes.NewSharedCache(l, pgquotes.NewStore(pool, quiet), l.Clock.Now)
	if _, hit, err := c.Get(context.Background(), "ABC", "alice"); err != nil || !hit {
		t.Fatalf("Get = %v, %v; want the legacy server's quote, billed", hit, err)
	}
}
