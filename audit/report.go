package audit

import (
	"context"
	"fmt"

	"github.com/daytradinginc/daytrader/trading"
	"github.com/jackc/pgx/v5"
)

// What the workload starter reads to follow and report a run. A run marks
// where the history stood when it began (LastEventID) and then looks only
// at the events stored after that mark: ids grow in the order events are
// stored, and a range of the primary key is cheap to scan however long the
// history already is.

// LastEventID returns the id of the newest stored event, or 0 when the
// history is empty.
func (s *Store) LastEventID(ctx context.Context) (int64, error) {
	var id int64
	if err := s.pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM audit_events`).Scan(&id); err != nil {
		return 0, fmt.Errorf("audit: newest event id: %w", err)
	}
	return id, nil
}

// CountSince returns how many events of each type were stored after the
// event with id afterID. Types without events are absent.
func (s *Store) CountSince(ctx context.Context, afterID int64) (map[trading.EventType]int64, error) {
	rows, err := s.pool.Query(ctx, `
SELECT event_type, count(*) FROM audit_events
WHERE id > $1
GROUP BY event_type`, afterID)
	if err != nil {
		return nil, fmt.Errorf("audit: counting events since %d: %w", afterID, err)
	}
	counts := map[trading.EventType]int64{}
	var eventType string
	var n int64
	if _, err := pgx.ForEachRow(rows, []any{&eventType, &n}, func() error {
		counts[trading.EventType(eventType)] = n
		return nil
	}); err != nil {
		return nil, fmt.Errorf("audit: counting events since %d: %w", afterID, err)
	}
	return counts, nil
}

// CountUserCommandsAfter counts the userCommand records stored after the
// event with id afterID and returns the largest id among all the records it
// saw (afterID when there are none), from which the next count can go on.
// Following the history this way costs only the new records each time, but
// a record whose transaction took its id earlier and committed after the
// count is never seen by a later count from that id on: the sum of such
// counts can fall short, never exceed. A count from the run's first id is
// exact.
func (s *Store) CountUserCommandsAfter(ctx context.Context, afterID int64) (count, lastID int64, err error) {
	err = s.pool.QueryRow(ctx, `
SELECT count(*) FILTER (WHERE event_type = 'userCommand'), coalesce(max(id), $1)
FROM audit_events WHERE id > $1`, afterID).Scan(&count, &lastID)
	if err != nil {
		return 0, 0, fmt.Errorf("audit: counting commands since %d: %w", afterID, err)
	}
	return count, lastID, nil
}

// ErrorCount is how many errorEvents of one command carry one message.
type ErrorCount struct {
	Command trading.CommandName `json:"command"`
	Message string              `json:"message"`
	Count   int64               `json:"count"`
}

// ErrorCounts groups the errorEvents of the given users stored after the
// event with id afterID by command and message, the most frequent first
// (ties by command, then message). Errors without a command (none today)
// have Command "". A run asks by its users, not its transaction numbers,
// so the question stays the same size however many commands it sent.
func (s *Store) ErrorCounts(ctx context.Context, afterID int64, users []string) ([]ErrorCount, error) {
	if len(users) == 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `
SELECT coalesce(e.command, ''), coalesce(e.message, ''), count(*)
FROM audit_events AS e
WHERE e.id > $1 AND e.event_type = 'errorEvent' AND e.username = ANY($2::text[])
GROUP BY 1, 2
ORDER BY 3 DESC, 1, 2`, afterID, users)
	if err != nil {
		return nil, fmt.Errorf("audit: counting errors: %w", err)
	}
	var out []ErrorCount
	var ec ErrorCount
	var command string
	if _, err := pgx.ForEachRow(rows, []any{&command, &ec.Message, &ec.Count}, func() error {
		ec.Command = trading.CommandName(command)
		out = append(out, ec)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("audit: counting errors: %w", err)
	}
	return out, nil
}
