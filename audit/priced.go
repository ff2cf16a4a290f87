package audit

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/shopspring/decimal"
)

// MarketQuote is the price and time of a stored quoteServer record; a zero
// At means there is none.
type MarketQuote struct {
	Price decimal.Decimal
	At    time.Time
}

// Valid reports whether there is a quote.
func (q MarketQuote) Valid() bool { return !q.At.IsZero() }

// PricedEvent is one of a user's records with the market around it: for a
// userCommand or systemEvent that names a symbol, the newest quote of that
// symbol stored by anyone at or before the record's time (Before) and the
// first one after it (After). Quotes are cached for every account, so the
// price a command used may have been fetched, and audited, by another
// account: Before when it was still valid, else the fetch its own batch
// made (After, a moment past the batch's time).
type PricedEvent struct {
	StoredEvent
	Before, After MarketQuote
}

// pricedEvents reads a user's records oldest first, each with the market's
// quotes of its symbol around its time (two probes of the partial index
// audit_events_quotes per record that names a symbol).
const pricedEvents = `
WITH e AS (SELECT ` + storedEventColumns + ` FROM audit_events WHERE username = $1)
SELECT e.*, b.ts, b.price, a.ts, a.price
FROM e
LEFT JOIN LATERAL (
    SELECT q.ts, q.price FROM audit_events q
    WHERE e.symbol IS NOT NULL AND e.event_type IN ('userCommand', 'systemEvent')
      AND q.event_type = 'quoteServer' AND q.symbol = e.symbol AND q.ts <= e.ts
    ORDER BY q.ts DESC LIMIT 1) b ON true
LEFT JOIN LATERAL (
    SELECT q.ts, q.price FROM audit_events q
    WHERE e.symbol IS NOT NULL AND e.event_type IN ('userCommand', 'systemEvent')
      AND q.event_type = 'quoteServer' AND q.symbol = e.symbol AND q.ts > e.ts
    ORDER BY q.ts LIMIT 1) a ON true
ORDER BY e.id`

// EachPricedEvent calls fn with every record of user, oldest first, with the
// market's quotes around it, as the rows arrive (a long history holds one row
// in memory). An error of fn stops the scan and is returned.
func (s *Store) EachPricedEvent(ctx context.Context, user string, fn func(PricedEvent) error) error {
	if user == "" {
		return fmt.Errorf("audit: priced history needs a user")
	}
	rows, err := s.pool.Query(ctx, pricedEvents, user)
	if err != nil {
		return fmt.Errorf("audit: priced history of %s: %w", user, err)
	}
	scan := newEventScanner()
	var beforeAt, afterAt pgtype.Timestamptz
	var beforePrice, afterPrice pgtype.Numeric
	targets := append(scan.targets(), &beforeAt, &beforePrice, &afterAt, &afterPrice)
	if _, err := pgx.ForEachRow(rows, targets, func() error {
		ev, err := scan.event()
		if err != nil {
			return err
		}
		pe := PricedEvent{StoredEvent: ev}
		if pe.Before, err = marketQuote(beforeAt, beforePrice); err != nil {
			return fmt.Errorf("event %d: %w", ev.ID, err)
		}
		if pe.After, err = marketQuote(afterAt, afterPrice); err != nil {
			return fmt.Errorf("event %d: %w", ev.ID, err)
		}
		return fn(pe)
	}); err != nil {
		return fmt.Errorf("audit: priced history of %s: %w", user, err)
	}
	return nil
}

func marketQuote(at pgtype.Timestamptz, price pgtype.Numeric) (MarketQuote, error) {
	if !at.Valid {
		return MarketQuote{}, nil
	}
	p, err := nullDecimal(price)
	if err != nil || !p.Valid {
		return MarketQuote{}, fmt.Errorf("quote price: not a number")
	}
	return MarketQuote{Price: p.Decimal, At: at.Time}, nil
}
