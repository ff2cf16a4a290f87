package audit

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// copyAtLeast is the smallest batch Write stores with COPY instead of
// insertEvents. Past the first few hundred rows COPY's cost the table about
// 8 µs each, the INSERT's 14.5 (15 arrays unnested and cast); below 1,000
// events COPY was no faster, and it takes four round trips where the INSERT
// takes one (BenchmarkWriteMethods). A workload batch of 1,000 commands is
// some 1,650 events.
const copyAtLeast = 1000

// eventKeyConstraint is audit_events' unique constraint on event_key
// (migration 00001): COPY fails on it when a key is already stored.
const eventKeyConstraint = "audit_events_event_key_key"

// copyColumns are the columns copyRow fills, in its order.
var copyColumns = []string{"event_key", "event_type", "ts", "server", "tx_num", "command", "username", "symbol",
	"filename", "funds", "action", "price", "quote_server_time", "cryptokey", "message"}

// notifyUsers is insertEvents' notification for rows that are all new:
// once per distinct user ("" for events of no user).
const notifyUsers = `SELECT pg_notify('` + NotifyChannel + `', left(u, 255))
FROM (SELECT DISTINCT unnest($1::text[]) AS u) AS users`

// copyNew stores cols with COPY and notifies their users, in one
// transaction, if none of their keys is stored yet. When one is (a retried
// batch, or a key twice in the batch) it writes nothing and reports false:
// COPY cannot skip a row, and insertEvents then stores the rest once.
func (s *Store) copyNew(ctx context.Context, cols *eventColumns) (stored bool, err error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback(ctx) // a no-op after Commit
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"audit_events"}, copyColumns, pgx.CopyFromSlice(len(cols.keys), cols.copyRow))
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == eventKeyConstraint:
		return false, nil
	case err != nil:
		return false, err
	}
	if _, err := tx.Exec(ctx, notifyUsers, cols.users); err != nil {
		return false, err
	}
	return true, tx.Commit(ctx)
}

// copyRow is event i as COPY takes it: NULL for an empty column (as
// insertEvents' nullif), numeric for funds and price.
func (c *eventColumns) copyRow(i int) ([]any, error) {
	funds, err := copyNumeric(c.funds[i])
	if err != nil {
		return nil, err
	}
	price, err := copyNumeric(c.prices[i])
	if err != nil {
		return nil, err
	}
	return []any{c.keys[i], c.types[i], c.times[i], c.servers[i], c.txNums[i],
		copyText(c.commands[i]), copyText(c.users[i]), copyText(c.symbols[i]), copyText(c.filenames[i]), funds,
		copyText(c.actions[i]), price, c.quoteServerTimes[i], copyText(c.cryptokeys[i]), copyText(c.messages[i])}, nil
}

func copyText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func copyNumeric(s string) (any, error) {
	if s == "" {
		return nil, nil
	}
	var n pgtype.Numeric
	if err := n.Scan(s); err != nil {
		return nil, err
	}
	return n, nil
}
