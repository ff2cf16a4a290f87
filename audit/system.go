package audit

import (
	"context"
	"fmt"
	"time"

	"github.com/daytradinginc/daytrader/trading"
	"github.com/jackc/pgx/v5"
)

// What the administrator's System page reads: how many records of a type
// were stored per interval of their time, and the newest errorEvents.

// Bucket is how many records of a type have a time in [Start, Start+the
// interval).
type Bucket struct {
	Start time.Time
	Count int64
}

// CountByInterval counts the records of type typ whose time is in
// [from, to), per interval of length every from from on: one Bucket per
// interval, oldest first, empty ones with Count 0. The BRIN index on ts
// keeps it to the recent part of the table.
func (s *Store) CountByInterval(ctx context.Context, typ trading.EventType, from, to time.Time, every time.Duration) ([]Bucket, error) {
	if every < time.Second || !from.Before(to) || to.Sub(from)/every > 10_000 {
		return nil, fmt.Errorf("audit: counting %s: want from before to, intervals of 1 s or more, at most 10,000 of them", typ)
	}
	rows, err := s.pool.Query(ctx, `
SELECT date_bin($4 * interval '1 second', ts, $2) AS start, count(*)
FROM audit_events
WHERE event_type = $1 AND ts >= $2 AND ts < $3
GROUP BY start`, string(typ), from, to, every.Seconds())
	if err != nil {
		return nil, fmt.Errorf("audit: counting %s: %w", typ, err)
	}
	counts := map[int64]int64{}
	var start time.Time
	var n int64
	if _, err := pgx.ForEachRow(rows, []any{&start, &n}, func() error {
		counts[start.Sub(from).Milliseconds()/every.Milliseconds()] = n
		return nil
	}); err != nil {
		return nil, fmt.Errorf("audit: counting %s: %w", typ, err)
	}
	var out []Bucket
	for i, t := int64(0), from; t.Before(to); i, t = i+1, t.Add(every) {
		out = append(out, Bucket{Start: t, Count: counts[i]})
	}
	return out, nil
}

// RecentErrors returns the newest errorEvents of every user, newest first,
// at most limit (1 to MaxHistoryLimit) of them.
func (s *Store) RecentErrors(ctx context.Context, limit int) ([]StoredEvent, error) {
	if limit < 1 || limit > MaxHistoryLimit {
		return nil, fmt.Errorf("audit: %d errors asked, want 1 to %d", limit, MaxHistoryLimit)
	}
	// The type is a constant in the text so that the planner uses the
	// partial index of errorEvents whatever plan it caches.
	rows, err := s.pool.Query(ctx, "SELECT "+storedEventColumns+` FROM audit_events
WHERE event_type = 'errorEvent' ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("audit: recent errors: %w", err)
	}
	var out []StoredEvent
	scan := newEventScanner()
	if _, err := pgx.ForEachRow(rows, scan.targets(), func() error {
		ev, err := scan.event()
		out = append(out, ev)
		return err
	}); err != nil {
		return nil, fmt.Errorf("audit: recent errors: %w", err)
	}
	return out, nil
}
