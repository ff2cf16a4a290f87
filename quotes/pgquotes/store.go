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
//
// The lookups, claims and stores that workers' goroutines make at about the
// same time go to PostgreSQL as one statement of each kind over all their
// symbols (group), each row decided as it would be alone.
package pgquotes

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/daytradinginc/daytrader/trading"
	"github.com/jackc/pgx/v5/pgconn"
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

// Store is the shared quote cache; it implements quotes.Shared. Its
// lookups, claims and stores each run in groups (group).
type Store struct {
	pool   *pgxpool.Pool
	logger *slog.Logger

	looks  group[string, row]
	claims group[claimCall, bool]
	stores group[storeCall, struct{}]
}

// NewStore returns a Store on pool (the schema must exist: migrations);
// logger gets the warnings of a store that fails (nil: slog.Default()).
func NewStore(pool *pgxpool.Pool, logger *slog.Logger) *Store {
	if logger == nil {
		logger = slog.Default()
	}
	s := &Store{pool: pool, logger: logger}
	s.looks.run, s.claims.run, s.stores.run = s.lookAll, s.claimAll, s.storeAll
	return s
}

// row is what the table holds for a symbol.
type row struct {
	quote    trading.Quote // zero FetchedAt: none stored yet
	leased   bool          // a worker is fetching it now
	claimant string        // who quote was billed to (quotes.Cache's claimant)
}

const selectQuotes = `
SELECT symbol, coalesce(price::text, ''), coalesce(quote_server_time, 0), coalesce(cryptokey, ''), coalesce(quoted_user, ''),
       fetched_at, coalesce(lease_until > now(), false), coalesce(claimant, '')
FROM quote_cache WHERE symbol = ANY($1)`

// claimFetches takes each symbol's lease for its owner ($1, $2) unless
// another worker holds it or a quote fetched at or after $4 (valid now) is
// stored, and returns the leases taken.
const claimFetches = `
INSERT INTO quote_cache AS c (symbol, lease_owner, lease_until)
SELECT t.symbol, t.owner, now() + make_interval(secs => $3) FROM unnest($1::text[], $2::text[]) AS t(symbol, owner)
ORDER BY t.symbol
ON CONFLICT (symbol) DO UPDATE SET lease_owner = excluded.lease_owner, lease_until = excluded.lease_until
WHERE (c.lease_until IS NULL OR c.lease_until <= now()) AND (c.fetched_at IS NULL OR c.fetched_at < $4)
RETURNING symbol, lease_owner`

// storeQuotes stores each quote whose lease its owner still holds.
const storeQuotes = `
UPDATE quote_cache AS c
SET price = t.price::numeric, quote_server_time = t.server_time, cryptokey = t.cryptokey, quoted_user = t.quoted_user,
    fetched_at = t.fetched_at, claimant = nullif(t.claimant, ''), lease_owner = NULL, lease_until = NULL
FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::timestamptz[], $8::text[])
     AS t(symbol, owner, price, server_time, cryptokey, quoted_user, fetched_at, claimant)
WHERE c.symbol = t.symbol AND c.lease_owner = t.owner`

const releaseLease = `
UPDATE quote_cache SET lease_owner = NULL, lease_until = NULL WHERE symbol = $1 AND lease_owner = $2`

// Get returns symbol's quote valid at now() from the table with the
// claimant it was billed to, or fetches it with fetch when this caller wins
// the lease (billed: true; stored as billed to claimant), or waits for the
// worker that did. When the table cannot be used it fetches without it
// (billed, not shared), so quotes never depend on the database.
func (s *Store) Get(ctx context.Context, symbol, claimant string, now func() time.Time,
	fetch func(context.Context) (trading.Quote, error)) (trading.Quote, bool, string, error) {
	me := rand.Text()
	wait := firstPoll
	for {
		r, err := s.look(ctx, symbol)
		if err == nil && r.quote.ValidAt(now()) {
			return r.quote, false, r.claimant, nil
		}
		if err == nil && !r.leased {
			var claimed bool
			if claimed, err = s.claim(ctx, symbol, me, now()); err == nil && claimed {
				return s.fetchAndShare(ctx, symbol, me, claimant, fetch)
			}
			if err == nil {
				continue // another worker claimed or stored it just now: look again
			}
		}
		if err != nil {
			s.logger.Warn("shared quote cache unavailable, fetching without it", "symbol", symbol, "err", err)
			q, err := fetch(ctx)
			return q, err == nil, "", err
		}
		select {
		case <-ctx.Done():
			return trading.Quote{}, false, "", ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, maxPoll)
	}
}

func (s *Store) look(ctx context.Context, symbol string) (row, error) {
	r, err := s.looks.do(ctx, symbol)
	if err != nil {
		return r, fmt.Errorf("reading the shared quote of %s: %w", symbol, err)
	}
	return r, nil
}

// lookAll reads the rows of symbols; a symbol without one has no quote
// and no lease.
func (s *Store) lookAll(ctx context.Context, symbols []string) ([]row, error) {
	rows, err := s.pool.Query(ctx, selectQuotes, symbols)
	if err != nil {
		return nil, err
	}
	found := make(map[string]row, len(symbols))
	for rows.Next() {
		var r row
		var price string
		var fetchedAt *time.Time
		if err := rows.Scan(&r.quote.Symbol, &price, &r.quote.QuoteServerTime, &r.quote.Cryptokey, &r.quote.User,
			&fetchedAt, &r.leased, &r.claimant); err != nil {
			return nil, err
		}
		if fetchedAt != nil {
			if r.quote.Price, err = decimal.NewFromString(price); err != nil {
				return nil, fmt.Errorf("the shared quote of %s: price %q: %w", r.quote.Symbol, price, err)
			}
			r.quote.FetchedAt = *fetchedAt
		}
		found[r.quote.Symbol] = r
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]row, len(symbols))
	for i, sym := range symbols {
		if r, ok := found[sym]; ok {
			out[i] = r
		} else {
			out[i] = row{quote: trading.Quote{Symbol: sym}}
		}
	}
	return out, nil
}

// claimCall asks for symbol's lease for owner unless a quote fetched at or
// after validFrom is stored.
type claimCall struct {
	symbol, owner string
	validFrom     time.Time
}

func (s *Store) claim(ctx context.Context, symbol, me string, now time.Time) (bool, error) {
	claimed, err := s.claims.do(ctx, claimCall{symbol: symbol, owner: me, validFrom: now.Add(-trading.QuoteValidity)})
	if err != nil {
		return false, fmt.Errorf("claiming the fetch of %s: %w", symbol, err)
	}
	return claimed, nil
}

// claimAll claims in one statement. A symbol asked twice is claimed for its
// first caller only (one statement cannot update a row twice); the others
// look again. A quote is taken as expired only if it is for every caller
// (the earliest validFrom), so no caller pays for a quote another one may
// still use.
func (s *Store) claimAll(ctx context.Context, calls []claimCall) ([]bool, error) {
	first := make(map[string]string, len(calls)) // symbol -> the owner that asks for it
	validFrom := calls[0].validFrom
	for _, c := range calls {
		if _, seen := first[c.symbol]; !seen {
			first[c.symbol] = c.owner
		}
		if c.validFrom.Before(validFrom) {
			validFrom = c.validFrom
		}
	}
	symbols := slices.Sorted(maps.Keys(first))
	owners := make([]string, len(symbols))
	for i, sym := range symbols {
		owners[i] = first[sym]
	}
	won := make(map[string]string, len(symbols)) // symbol -> owner
	err := retryDeadlocks(func() error {
		clear(won)
		rows, err := s.pool.Query(ctx, claimFetches, symbols, owners, leaseFor.Seconds(), validFrom)
		if err != nil {
			return err
		}
		for rows.Next() {
			var sym, owner string
			if err := rows.Scan(&sym, &owner); err != nil {
				return err
			}
			won[sym] = owner
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	out := make([]bool, len(calls))
	for i, c := range calls {
		out[i] = won[c.symbol] == c.owner
	}
	return out, nil
}

// deadlockDetected is PostgreSQL's SQLSTATE for a statement it ended to
// break a deadlock.
const deadlockDetected = "40P01"

// retryDeadlocks runs statement again when PostgreSQL ended it to break a
// deadlock: another worker's claims or stores locking the same rows at the
// same time. Rows are taken in symbol order, which leaves few, but a failed
// group would make every worker in it fetch without the shared cache, each
// billed.
func retryDeadlocks(statement func() error) error {
	var err error
	for range 5 {
		var pgErr *pgconn.PgError
		if err = statement(); !errors.As(err, &pgErr) || pgErr.Code != deadlockDetected {
			return err
		}
	}
	return err
}

// storeCall stores q as symbol's quote, billed to claimant, under the
// lease owner holds.
type storeCall struct {
	symbol, owner, claimant string
	q                       trading.Quote
}

// storeAll stores the quotes in one statement.
func (s *Store) storeAll(ctx context.Context, calls []storeCall) ([]struct{}, error) {
	calls = slices.SortedFunc(slices.Values(calls), func(a, b storeCall) int { return strings.Compare(a.symbol, b.symbol) })
	n := len(calls)
	symbols, owners, prices := make([]string, n), make([]string, n), make([]string, n)
	serverTimes, keys, users, fetched := make([]int64, n), make([]string, n), make([]string, n), make([]time.Time, n)
	claimants := make([]string, n)
	for i, c := range calls {
		symbols[i], owners[i], prices[i], claimants[i] = c.symbol, c.owner, c.q.Price.String(), c.claimant
		serverTimes[i], keys[i], users[i], fetched[i] = c.q.QuoteServerTime, c.q.Cryptokey, c.q.User, c.q.FetchedAt
	}
	err := retryDeadlocks(func() error {
		_, err := s.pool.Exec(ctx, storeQuotes, symbols, owners, prices, serverTimes, keys, users, fetched, claimants)
		return err
	})
	if err != nil {
		return nil, err
	}
	return make([]struct{}, n), nil
}

// fetchAndShare fetches under the lease me holds and stores the quote for
// the others; a quote that cannot be stored is still this caller's, billed.
func (s *Store) fetchAndShare(ctx context.Context, symbol, me, claimant string,
	fetch func(context.Context) (trading.Quote, error)) (trading.Quote, bool, string, error) {
	q, err := fetch(ctx)
	dbCtx, cancel := context.WithTimeout(ctx, dbTimeout)
	defer cancel()
	if err != nil {
		if _, rerr := s.pool.Exec(dbCtx, releaseLease, symbol, me); rerr != nil {
			s.logger.Warn("shared quote cache: releasing a lease", "symbol", symbol, "err", rerr)
		}
		return q, false, "", err
	}
	if _, err := s.stores.do(dbCtx, storeCall{symbol: symbol, owner: me, claimant: claimant, q: q}); err != nil {
		s.logger.Warn("shared quote cache: storing a quote (the other workers will fetch it again)", "symbol", symbol, "err", err)
	}
	return q, true, "", nil
}
