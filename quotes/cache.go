package quotes

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/daytradinginc/daytrader/trading"
	"golang.org/x/sync/singleflight"
)

// Fetcher gets a fresh quote from the legacy server (a *Client does).
type Fetcher interface {
	Fetch(ctx context.Context, symbol, user string) (trading.Quote, error)
}

// Shared is a quote cache that several processes share (pgquotes.Store
// keeps one in PostgreSQL), behind each process's Cache. Get returns
// symbol's quote that is valid at now() from it; when it holds none, one
// caller among all the processes fetches it with fetch while the others
// wait for that quote, and that caller alone gets billed=true (it paid for
// the legacy hit, so it must see it audited). A quote fetched but not
// shared (the store failing) is still returned, billed. A quote this
// caller fetches is stored as billed to claimant (see GetMany; "": none); a
// quote another fetch paid for comes with billedTo, the claimant it was
// billed to, which is then told of it again in any process.
type Shared interface {
	Get(ctx context.Context, symbol, claimant string, now func() time.Time,
		fetch func(context.Context) (trading.Quote, error)) (q trading.Quote, billed bool, billedTo string, err error)
}

// CacheStats are a cache's counters since it was made.
type CacheStats struct {
	Hits        int64 // Get calls answered from a valid cached quote
	Misses      int64 // Get calls that waited for a fetch (their own or a shared one)
	Fetches     int64 // legacy fetches started (each one is billed)
	FetchErrors int64 // of those, how many failed
	SharedHits  int64 // misses answered by the Shared cache with another process's fetch (not billed here)
}

// Cache keeps each symbol's latest quote for as long as it is valid
// (trading.QuoteValidity after it arrived) and makes concurrent misses for a
// symbol share one legacy fetch. It is safe for concurrent use.
//
// Every legacy hit is billed and must be audited exactly once, so Get reports
// legacyHit=true to exactly one caller per fetch: the caller that started the
// fetch. If that caller stops waiting (its ctx ends) the fetch still completes
// for the others, and the duty passes to the next caller that is handed the
// quote: a waiter of the same fetch or, failing that, the next Get that finds
// it in the cache.
//
// With a Shared cache behind it (NewSharedCache) a miss asks the Shared
// cache before the legacy server, so N processes are billed once per symbol
// and validity window, as one would be; a quote that another process paid
// for is reported as a legacy hit to nobody here.
type Cache struct {
	fetcher Fetcher
	shared  Shared // nil: this process alone
	now     func() time.Time
	flights singleflight.Group

	mu      sync.Mutex
	entries map[string]*cacheEntry

	hits, misses, fetches, fetchErrors, sharedHits atomic.Int64
}

// cacheEntry is one fetched quote and who must report it as a legacy hit;
// claimed, claimant and owner.gone are guarded by Cache.mu. A quote another
// process was billed for is claimed from the start.
type cacheEntry struct {
	quote    trading.Quote
	owner    *getCall
	claimed  bool
	claimant string // who it was reported to, if it named itself
}

// getCall identifies one Get call; gone is set (under Cache.mu) when it
// stopped waiting before its fetch completed.
type getCall struct{ gone bool }

// NewCache returns an empty cache over fetcher; now is the clock quotes are
// checked against (nil means time.Now) and must agree with the clock that
// stamps FetchedAt.
func NewCache(fetcher Fetcher, now func() time.Time) *Cache {
	return NewSharedCache(fetcher, nil, now)
}

// NewSharedCache is NewCache in front of shared, which other processes
// share too (nil: none).
func NewSharedCache(fetcher Fetcher, shared Shared, now func() time.Time) *Cache {
	if now == nil {
		now = time.Now
	}
	return &Cache{fetcher: fetcher, shared: shared, now: now, entries: make(map[string]*cacheEntry)}
}

// Stats returns the counters.
func (c *Cache) Stats() CacheStats {
	return CacheStats{
		Hits:        c.hits.Load(),
		Misses:      c.misses.Load(),
		Fetches:     c.fetches.Load(),
		FetchErrors: c.fetchErrors.Load(),
		SharedHits:  c.sharedHits.Load(),
	}
}

// Get returns symbol's quote: the cached one while it is valid, otherwise a
// fresh one (user is who the legacy server is asked on behalf of). legacyHit
// is true for the one caller that must audit the fetch (see Cache). Errors
// are not cached: the next Get asks again.
func (c *Cache) Get(ctx context.Context, symbol, user string) (q trading.Quote, legacyHit bool, err error) {
	return c.get(ctx, symbol, user, "")
}

// get is Get for claimant (see GetMany; "": none).
func (c *Cache) get(ctx context.Context, symbol, user, claimant string) (q trading.Quote, legacyHit bool, err error) {
	if err := ctx.Err(); err != nil {
		return trading.Quote{}, false, err
	}
	me := &getCall{}
	c.mu.Lock()
	if e := c.entries[symbol]; e != nil && e.quote.ValidAt(c.now()) {
		legacyHit = c.claimLocked(e, me, claimant)
		c.mu.Unlock()
		c.hits.Add(1)
		return e.quote, legacyHit, nil
	}
	c.mu.Unlock()

	c.misses.Add(1)
	// Only the caller that starts the flight runs this closure, so the
	// entry it stores names that caller as its owner. The fetch runs without
	// the caller's cancellation so that waiters are not cut off with it;
	// the Fetcher's own give-up (4 s for a Client) bounds it.
	fetchCtx := context.WithoutCancel(ctx)
	ch := c.flights.DoChan(symbol, func() (any, error) {
		// A flight that finished between our cache check and DoChan has
		// stored a fresh quote: use it rather than pay for another.
		c.mu.Lock()
		if e := c.entries[symbol]; e != nil && e.quote.ValidAt(c.now()) {
			c.mu.Unlock()
			return e, nil
		}
		c.mu.Unlock()
		q, billed, billedTo, err := c.fetch(fetchCtx, symbol, user, claimant)
		if err != nil {
			return nil, err
		}
		// Another's quote is claimed from the start, by the claimant it
		// was billed to, if that is known.
		e := &cacheEntry{quote: q, owner: me, claimed: !billed, claimant: billedTo}
		c.mu.Lock()
		c.entries[symbol] = e
		c.mu.Unlock()
		return e, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return trading.Quote{}, false, r.Err
		}
		e := r.Val.(*cacheEntry)
		c.mu.Lock()
		legacyHit = c.claimLocked(e, me, claimant)
		c.mu.Unlock()
		return e.quote, legacyHit, nil
	case <-ctx.Done():
		c.mu.Lock()
		me.gone = true
		c.mu.Unlock()
		return trading.Quote{}, false, ctx.Err()
	}
}

// fetch gets symbol's quote from the Shared cache, or else from the legacy
// server; billed says this process paid for it, billedTo who another fetch
// billed it to.
func (c *Cache) fetch(ctx context.Context, symbol, user, claimant string) (q trading.Quote, billed bool, billedTo string, err error) {
	legacy := func(ctx context.Context) (trading.Quote, error) {
		c.fetches.Add(1)
		q, err := c.fetcher.Fetch(ctx, symbol, user)
		if err != nil {
			c.fetchErrors.Add(1)
		}
		return q, err
	}
	if c.shared == nil {
		q, err := legacy(ctx)
		return q, err == nil, "", err
	}
	q, billed, billedTo, err = c.shared.Get(ctx, symbol, claimant, c.now, legacy)
	if err == nil && !billed {
		c.sharedHits.Add(1)
	}
	return q, billed, billedTo, err
}

// claimLocked reports whether caller me, for claimant, must report e as a
// legacy hit, and if so marks it reported. A claimant it was reported to
// is told again: the claimant asks again only when its first answer was
// lost (see GetMany). c.mu is held.
func (c *Cache) claimLocked(e *cacheEntry, me *getCall, claimant string) bool {
	if e.claimed {
		return claimant != "" && e.claimant == claimant
	}
	if e.owner != me && !e.owner.gone {
		return false
	}
	e.claimed, e.claimant = true, claimant
	return true
}

// Result is one symbol's outcome in GetMany.
type Result struct {
	Symbol    string
	Quote     trading.Quote
	LegacyHit bool
	Err       error
}

// MaxParallelGets bounds the fetches one GetMany runs at once.
const MaxParallelGets = 32

// GetMany gets the quotes of symbols in parallel for user, one Result per
// symbol in the same order. A symbol listed twice shares one fetch.
//
// claimant names the one piece of work the quotes are for, the same each
// time it is run again ("": none). A workflow task that ran GetQuotes can be
// lost after it (timed out on an overloaded worker: "Workflow task not
// found"); its history then never got the result, and the task run again
// asks for the same quotes, now cached. Its legacy hits are reported to it
// again, so they are audited once, by the run that reaches the history.
func (c *Cache) GetMany(ctx context.Context, user, claimant string, symbols []string) []Result {
	results := make([]Result, len(symbols))
	slots := make(chan struct{}, MaxParallelGets)
	var wg sync.WaitGroup
	for i, symbol := range symbols {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			q, hit, err := c.get(ctx, symbol, user, claimant)
			results[i] = Result{Symbol: symbol, Quote: q, LegacyHit: hit, Err: err}
		})
	}
	wg.Wait()
	return results
}
