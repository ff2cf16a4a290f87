package audit

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/trading"
	"github.com/jackc/pgx/v5"
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

// BenchmarkWriteMethods compares Write's two ways, the single INSERT ...
// SELECT FROM unnest (insert) and COPY straight into audit_events
// (copyNew, for new keys only), with COPY into a temporary table followed
// by INSERT ... ON CONFLICT, the other way to write a batch idempotently.
func BenchmarkWriteMethods(b *testing.B) {
	s, pool := newTestStore(b)
	methods := []struct {
		name  string
		write func(context.Context, []trading.Event) error
	}{
		{"unnest", func(ctx context.Context, events []trading.Event) error {
			return withColumns(events, func(c *eventColumns) error { return s.insert(ctx, c) })
		}},
		{"copy", func(ctx context.Context, events []trading.Event) error {
			return writeViaCopy(ctx, pool, "bench", events)
		}},
		{"copy-direct", func(ctx context.Context, events []trading.Event) error {
			return withColumns(events, func(c *eventColumns) error {
				if stored, err := s.copyNew(ctx, c); err != nil || !stored {
					return fmt.Errorf("copyNew = %v, %v", stored, err)
				}
				return nil
			})
		}},
	}
	for _, size := range []int{10, 100, 500, 1000, 2000, 4000} {
		for _, m := range methods {
			b.Run(fmt.Sprintf("%s/%d", m.name, size), func(b *testing.B) { benchmarkWrite(b, size, m.write) })
		}
	}
}

// withColumns runs write on events as Write passes them on.
func withColumns(events []trading.Event, write func(*eventColumns) error) error {
	cols, err := newEventColumns("bench", events)
	if err != nil {
		return err
	}
	return write(cols)
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

// writeViaCopy is COPY through a temporary table, kept only for the
// comparison. It needs five round trips (BEGIN, CREATE TEMP TABLE IF NOT
// EXISTS, COPY, INSERT, COMMIT) where insertEvents needs one and copyNew
// four.
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
	columns := slices.Concat(copyColumns, []string{"ord"})
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
