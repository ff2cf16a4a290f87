// Package pgquotes keeps the quote cache that every worker shares in
// PostgreSQL (table quote_cache, migration 00005), behind each worker's
// quotes.Cache: a quote one worker fetched from the legacy server is reused
// by the others while it is valid, so N workers are billed as one.
//
// One worker at a time fetches a symbol: it takes the symbol's lease in one
// statement (INSERT ... ON CONFLICT DO UPDATE ... WHERE nobody holds it and
// no valid quote is stored, which PostgreSQL decides on the row's latest
// version under its row lock), fetches without holding any transaction or
// connection, stores the quote and gives the lease back. The others see
// the lease and poll the row until the quote is there. A pg_advisory_xact_lock
// held for the fetch would have kept a pooled connection busy per symbol in
// flight (100User fetches 981 symbols within its first seconds, a third of
// them taking a second or more with the legacy latency), starving the audit
// writes of the pool.
package pgquotes

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/daytradinginc/daytrader/trading"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
)

const (
	// leaseFor is how long a worker may take to fetch before another may
	// take the lease over: longer than a quotes.Client gives a fetch (4 s).
	leaseFor = 10 * time.Second
	// dbTimeout bounds each statement: a database that does not answer
	// must not hold quotes up (Get then fetches without the store).
	dbTimeout = 2 * time.Second
	// A worker waiting for another's fetch looks again after firstPoll,
	// then twice as long each time up to maxPoll.
	firstPoll = 10 * time.Millisecond
	maxPoll   = 200 * time.Millisecond
)

// Store is the shared quote cache; it implements quotes.Shared.
type Store struct {
	pool   *pgxpool.Pool
	logger *slog.Logger
}

// NewStore returns a Store on pool (the schema must exist: migrations);
// logger gets the warnings of a store that fails (nil: slog.Default()).
func NewStore(pool *pgxpool.Pool, logger *slog.Logger) *Store {
	if logger == nil {
		logger = slog.Default()
	}
	return &Store{pool: pool, logger: logger}
}

// row is what the table holds for a symbol.
type row struct {
	quote  trading.Quote // zero FetchedAt: none stored yet
	leased bool          // a worker is fetching it now
}

const selectQuote = `
SELECT coalesce(price::text, ''), coalesce(quote_server_time, 0), coalesce(cryptokey, ''), coalesce(quoted_user, ''),
       fetched_at, coalesce(lease_until > now(), false)
FROM quote_cache WHERE symbol = $1`

// claimFetch takes symbol's lease for $2 unless another worker holds it or
// a quote fetched at or after $4 (valid now) is stored.
const claimFetch = `
INSERT INTO quote_cache AS c (symbol, lease_owner, lease_until)
VALUES ($1, $2, now() + make_interval(secs => $3))
ON CONFLICT (symbol) DO UPDATE SET lease_owner = excluded.lease_owner, lease_until = excluded.lease_until
WHERE (c.lease_until IS NULL OR c.lease_until <= now()) AND (c.fetched_at IS NULL OR c.fetched_at < $4)
RETURNING true`

const storeQuote = `
UPDATE quote_cache
SET price = $3::numeric, quote_server_time = $4, cryptokey = $5, quoted_user = $6, fetched_at = $7,
    lease_owner = NULL, lease_until = NULL
WHERE symbol = $1 AND lease_owner = $2`

const releaseLease = `
UPDATE quote_cache SET lease_owner = NULL, lease_until = NULL WHERE symbol = $1 AND lease_owner = $2`

// Get returns symbol's quote valid at now() from the table, or fetches it
// with fetch when this caller wins the lease (billed: true), or waits for
// the worker that did. When the table cannot be used it fetches without it
// (billed, not shared), so quotes never depend on the database.
func (s *Store) Get(ctx context.Context, symbol string, now func() time.Time,
	fetch func(context.Context) (trading.Quote, error)) (trading.Quote, bool, error) {
	me := rand.Text()
	wait := firstPoll
	for {
		r, err := s.look(ctx, symbol)
		if err == nil && r.quote.ValidAt(now()) {
			return r.quote, false, nil
		}
		if err == nil && !r.leased {
			var claimed bool
			if claimed, err = s.claim(ctx, symbol, me, now()); err == nil && claimed {
				return s.fetchAndShare(ctx, symbol, me, fetch)
			}
			if err == nil {
				continue // another worker claimed or stored it just now: look again
			}
		}
		if err != nil {
			s.logger.Warn("shared quote cache unavailable, fetching without it", "symbol", symbol, "err", err)
			q, err := fetch(ctx)
			return q, err == nil, err
		}
		select {
		case <-ctx.Done():
			return trading.Quote{}, false, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, maxPoll)
	}
}

func (s *Store) look(ctx context.Context, symbol string) (row, error) {
	ctx, cancel := context.WithTimeout(ctx, dbTimeout)
	defer cancel()
	r := row{quote: trading.Quote{Symbol: symbol}}
	var price string
	var fetchedAt *time.Time
	err := s.pool.QueryRow(ctx, selectQuote, symbol).Scan(&price, &r.quote.QuoteServerTime, &r.quote.Cryptokey,
		&r.quote.User, &fetchedAt, &r.leased)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("reading the shared quote of %s: %w", symbol, err)
	}
	if fetchedAt != nil {
		if r.quote.Price, err = decimal.NewFromString(price); err != nil {
			return r, fmt.Errorf("the shared quote of %s: price %q: %w", symbol, price, err)
		}
		r.quote.FetchedAt = *fetchedAt
	}
	return r, nil
}

func (s *Store) claim(ctx context.Context, symbol, me string, now time.Time) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, dbTimeout)
	defer cancel()
	var claimed bool
	err := s.pool.QueryRow(ctx, claimFetch, symbol, me, leaseFor.Seconds(), now.Add(-trading.QuoteValidity)).Scan(&claimed)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("claiming the fetch of %s: %w", symbol, err)
	}
	return claimed, nil
}

// fetchAndShare fetches under the lease me holds and stores the quote for
// the others; a quote that cannot be stored is still this caller's, billed.
func (s *Store) fetchAndShare(ctx context.Context, symbol, me string,
	fetch func(context.Context) (trading.Quote, error)) (trading.Quote, bool, error) {
	q, err := fetch(ctx)
	dbCtx, cancel := context.WithTimeout(ctx, dbTimeout)
	defer cancel()
	if err != nil {
		if _, rerr := s.pool.Exec(dbCtx, releaseLease, symbol, me); rerr != nil {
			s.logger.Warn("shared quote cache: releasing a lease", "symbol", symbol, "err", rerr)
		}
		return q, false, err
	}
	if _, err := s.pool.Exec(dbCtx, storeQuote, symbol, me, q.Price.String(), q.QuoteServerTime, q.Cryptokey,
		q.User, q.FetchedAt); err != nil {
		s.logger.Warn("shared quote cache: storing a quote (the other workers will fetch it again)", "symbol", symbol, "err", err)
	}
	return q, true, nil
}
