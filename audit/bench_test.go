package audit

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/trading"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

var benchSeq atomic.Int64

// benchBatch returns n new events shaped like a workload's: per command a
// userCommand, a quoteServer and an accountTransaction.
func benchBatch(n int) []trading.Event {
	events := make([]trading.Event, n)
	for i := range events {
		seq := benchSeq.Add(1)
		user := fmt.Sprintf("user%d", seq%100)
		ev := trading.Event{Key: fmt.Sprintf("bench-%d", seq), Time: day1.Add(time.Duration(seq) * time.Millisecond),
			TxNum: seq/3 + 1, Command: trading.Buy, User: user}
		switch seq % 3 {
		case 0:
			ev.Type, ev.Symbol, ev.Funds = trading.UserCommandEvent, "ABC", money("100.00")
		case 1:
			ev.Type, ev.Symbol, ev.Price = trading.QuoteServerEvent, "ABC", money("12.34")
			ev.QuoteServerTime, ev.Cryptokey = 1714552200000, "IRrR7UeTO35kSWUgG0QJKmB35sL27FKM7AVhP5qpjCgmWQeXFJs35g=="
		case 2:
			ev.Type, ev.Action, ev.Funds = trading.AccountTransactionEvent, "remove", money("98.72")
		}
		events[i] = ev
	}
	return events
}

// BenchmarkWrite measures Write with batches of 500 events.
func BenchmarkWrite(b *testing.B) {
	s, _ := newTestStore(b)
	benchmarkWrite(b, 500, func(ctx context.Context, events []trading.Event) error {
		return s.Write(ctx, "bench", events)
	})
}

// BenchmarkWriteMethods compares Write's single INSERT ... SELECT FROM unnest
// with COPY into a temporary table followed by INSERT ... ON CONFLICT, the
// other way to write a batch idempotently, and with COPY straight into
// audit_events (idempotent only with a fallback when a key is already
// stored): the least work a batch's rows can cost the table.
func BenchmarkWriteMethods(b *testing.B) {
	s, pool := newTestStore(b)
	methods := []struct {
		name  string
		write func(context.Context, []trading.Event) error
	}{
		{"unnest", func(ctx context.Context, events []trading.Event) error { return s.Write(ctx, "bench", events) }},
		{"copy", func(ctx context.Context, events []trading.Event) error {
			return writeViaCopy(ctx, pool, "bench", events)
		}},
		{"copy-direct", func(ctx context.Context, events []trading.Event) error {
			return writeCopyDirect(ctx, pool, "bench", events)
		}},
	}
	for _, size := range []int{10, 100, 500, 1000, 2000, 4000} {
		for _, m := range methods {
			b.Run(fmt.Sprintf("%s/%d", m.name, size), func(b *testing.B) { benchmarkWrite(b, size, m.write) })
		}
	}
}

func benchmarkWrite(b *testing.B, size int, write func(context.Context, []trading.Event) error) {
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		events := benchBatch(size)
		b.StartTimer()
		if err := write(ctx, events); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "events/s")
}

// writeViaCopy is the COPY variant of Write, kept only for the comparison.
// It needs five round trips (BEGIN, CREATE TEMP TABLE IF NOT EXISTS, COPY,
// INSERT, COMMIT) where Write needs one.
func writeViaCopy(ctx context.Context, pool *pgxpool.Pool, server string, events []trading.Event) error {
	cols, err := newEventColumns(server, events)
	if err != nil {
		return err
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS audit_batch (
		event_key text, event_type text, ts timestamptz, server text, tx_num int8,
		command text, username text, symbol text, filename text, funds text,
		action text, price text, quote_server_time int8, cryptokey text, message text, ord int8
	) ON COMMIT DELETE ROWS`); err != nil {
		return err
	}
	columns := []string{"event_key", "event_type", "ts", "server", "tx_num", "command", "username", "symbol",
		"filename", "funds", "action", "price", "quote_server_time", "cryptokey", "message", "ord"}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"audit_batch"}, columns, pgx.CopyFromSlice(len(events), func(i int) ([]any, error) {
		return []any{cols.keys[i], cols.types[i], cols.times[i], cols.servers[i], cols.txNums[i],
			cols.commands[i], cols.users[i], cols.symbols[i], cols.filenames[i], cols.funds[i],
			cols.actions[i], cols.prices[i], cols.quoteServerTimes[i], cols.cryptokeys[i], cols.messages[i], int64(i)}, nil
	})); err != nil {
		return err
	}
	// The same INSERT and notification as Write, reading the temporary table.
	_, insert, _ := strings.Cut(insertEvents, "), inserted AS (")
	insert = strings.Replace("WITH inserted AS ("+insert, "FROM batch", "FROM audit_batch", 1)
	if _, err := tx.Exec(ctx, insert); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// writeCopyDirect is COPY straight into audit_events and the same
// notification, kept only for the comparison: a key already stored fails
// the whole COPY, so Write would need a fallback for retries.
func writeCopyDirect(ctx context.Context, pool *pgxpool.Pool, server string, events []trading.Event) error {
	cols, err := newEventColumns(server, events)
	if err != nil {
		return err
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	columns := []string{"event_key", "event_type", "ts", "server", "tx_num", "command", "username", "symbol",
		"filename", "funds", "action", "price", "quote_server_time", "cryptokey", "message"}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"audit_events"}, columns,
		pgx.CopyFromSlice(len(events), cols.copyRow)); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `SELECT pg_notify('`+NotifyChannel+`', u) FROM (SELECT DISTINCT unnest($1::text[]) AS u) AS users`,
		cols.users); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// copyRow is event i as COPY takes it: NULL for an empty column, numeric
// for funds and price.
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
