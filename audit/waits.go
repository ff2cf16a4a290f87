package audit

import (
	"context"
	"fmt"
	"time"
)

// traderWaitsKept is how long a trader's wait stays in trader_waits: the
// workload starter reads only the waits since its last look, a fraction of
// a second before.
const traderWaitsKept = time.Minute

// RecordTraderWait stores how long a trader's command took through the web
// UI until its result (migration 00010), and deletes the waits older than
// traderWaitsKept on the way.
func (s *Store) RecordTraderWait(ctx context.Context, d time.Duration) error {
	_, err := s.pool.Exec(ctx, `
WITH old AS (DELETE FROM trader_waits WHERE answered_at < now() - $2::interval)
INSERT INTO trader_waits (wait_ms) VALUES ($1)`, float64(d)/float64(time.Millisecond), traderWaitsKept)
	if err != nil {
		return fmt.Errorf("audit: recording a trader's wait: %w", err)
	}
	return nil
}

// TraderWaits are the traders' commands answered in an interval (their
// RecordTraderWait), by the database's clock.
type TraderWaits struct {
	// Answered counts them; Longest is the longest wait of one.
	Answered int64
	Longest  time.Duration
	// AsOf is the database's time of the reading: the next one starts
	// there.
	AsOf time.Time
}

// LongestTraderWait reads the traders' waits recorded after the given time
// (a previous reading's AsOf; the zero time: all that are kept). The
// workload starter sizes its backlog by them (workloads.WaitWatch).
func (s *Store) LongestTraderWait(ctx context.Context, after time.Time) (TraderWaits, error) {
	var w TraderWaits
	var longestMs float64
	err := s.pool.QueryRow(ctx, `
SELECT count(*), coalesce(max(wait_ms), 0), now() FROM trader_waits WHERE answered_at > $1`, after).
		Scan(&w.Answered, &longestMs, &w.AsOf)
	if err != nil {
		return TraderWaits{}, fmt.Errorf("audit: traders' waits: %w", err)
	}
	w.Longest = time.Duration(longestMs * float64(time.Millisecond))
	return w, nil
}
