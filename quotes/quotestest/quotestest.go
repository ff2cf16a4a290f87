// Package quotestest has the fakes the quote cache's tests share (quotes and
// quotes/pgquotes): a settable clock and a stand-in for the billed legacy
// quote server that counts its fetches.
package quotestest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/daytradinginc/daytrader/trading"
	"github.com/shopspring/decimal"
)

// Clock is a settable clock for caches and fetchers.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock that reads now until it is advanced.
func NewClock(now time.Time) *Clock { return &Clock{now: now} }

// Now is the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// ErrDown is the error of a fetch Fetcher.Fail makes fail.
var ErrDown = errors.New("legacy server down")

// Fetcher is a quotes.Fetcher that answers call n with price n and
// cryptokey key-n, stamped by Clock. The fields other than Clock are
// optional; set them before the first call.
type Fetcher struct {
	Clock   *Clock
	Delay   time.Duration // each call takes this long
	Started chan struct{} // receives once per call, if set
	Gate    chan struct{} // if set, each call waits for it to close (or for its ctx)
	Fail    atomic.Int64  // the next Fail calls fail with ErrDown
	Calls   atomic.Int64  // calls so far

	mu        sync.Mutex
	perSymbol map[string]int
}

// Fetch is one legacy hit.
func (f *Fetcher) Fetch(ctx context.Context, symbol, user string) (trading.Quote, error) {
	n := f.Calls.Add(1)
	f.mu.Lock()
	if f.perSymbol == nil {
		f.perSymbol = map[string]int{}
	}
	f.perSymbol[symbol]++
	f.mu.Unlock()
	if f.Started != nil {
		f.Started <- struct{}{}
	}
	if f.Gate != nil {
		select {
		case <-f.Gate:
		case <-ctx.Done():
			return trading.Quote{}, ctx.Err()
		}
	}
	time.Sleep(f.Delay)
	for failing := f.Fail.Load(); failing > 0; failing = f.Fail.Load() {
		if f.Fail.CompareAndSwap(failing, failing-1) {
			return trading.Quote{}, ErrDown
		}
	}
	return trading.Quote{
		Symbol: symbol, User: user, Price: decimal.NewFromInt(n),
		QuoteServerTime: n, Cryptokey: fmt.Sprintf("key-%d", n), FetchedAt: f.Clock.Now(),
	}, nil
}

// CallsOf is how many calls asked for symbol; ResetCounts forgets them.
func (f *Fetcher) CallsOf(symbol string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.perSymbol[symbol]
}

// ResetCounts forgets the calls per symbol (Calls keeps counting).
func (f *Fetcher) ResetCounts() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.perSymbol = nil
}
