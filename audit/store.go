// Package audit keeps the DayTrading audit history in Postgres (table
// audit_events) and writes it out as the DUMPLOG XML of logfile.xsd.
//
// Events are written idempotently by their key, so a retried activity or a
// replayed workflow task never stores an event twice, and every batch tells
// listeners (the web UI's live updates) which users got new events.
package audit

import (
	"context"
	"fmt"
	"time"

	"github.com/daytradinginc/daytrader/trading"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// NotifyChannel is the Postgres notification channel Write signals on; the
// payload is the username of the new events ("" for events of no user).
const NotifyChannel = "audit_events"

// Store reads and writes the audit history.
type Store struct {
	pool *pgxpool.Pool
}

// NewStore returns a Store using pool. The schema (migrations) must exist.
func NewStore(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool}
}

// insertEvents writes a whole batch in one statement, hence one round trip and
// one implicit transaction: unnest turns the column arrays back into rows (in
// batch order, so ids follow the order of the events), ON CONFLICT skips keys
// already stored, and the final SELECT notifies once per distinct user among
// the rows actually inserted. It measured faster than COPY into a temporary
// table followed by INSERT ... ON CONFLICT for batches of 10 to 2000 events
// (see BenchmarkWriteMethods); large batches go by COPY (copyNew) first.
const insertEvents = `
WITH batch AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::int8[],
                         $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
                         $11::text[], $12::text[], $13::int8[], $14::text[], $15::text[])
        WITH ORDINALITY AS b(event_key, event_type, ts, server, tx_num,
                             command, username, symbol, filename, funds,
                             action, price, quote_server_time, cryptokey, message, ord)
), inserted AS (
    INSERT INTO audit_events (event_key, event_type, ts, server, tx_num,
                              command, username, symbol, filename, funds,
                              action, price, quote_server_time, cryptokey, message)
    SELECT event_key, event_type, ts, server, tx_num,
           nullif(command, ''), nullif(username, ''), nullif(symbol, ''), nullif(filename, ''),
           nullif(funds, '')::numeric,
           nullif(action, ''), nullif(price, '')::numeric, quote_server_time,
           nullif(cryptokey, ''), nullif(message, '')
    FROM batch
    ORDER BY ord
    ON CONFLICT (event_key) DO NOTHING
    RETURNING username
)
SELECT pg_notify('` + NotifyChannel + `', left(coalesce(username, ''), 255))
FROM (SELECT DISTINCT username FROM inserted) AS users`

// eventColumns is a batch of events as one array per audit_events column.
// Empty strings become NULL in the INSERT.
type eventColumns struct {
	keys, types, servers, commands, users, symbols, filenames []string
	funds, actions, prices, cryptokeys, messages              []string
	times                                                     []time.Time
	txNums                                                    []int64
	quoteServerTimes                                          []*int64
}

func newEventColumns(server string, events []trading.Event) (*eventColumns, error) {
	n := len(events)
	c := &eventColumns{
		keys: make([]string, n), types: make([]string, n), servers: make([]string, n),
		commands: make([]string, n), users: make([]string, n), symbols: make([]string, n),
		filenames: make([]string, n), funds: make([]string, n), actions: make([]string, n),
		prices: make([]string, n), cryptokeys: make([]string, n), messages: make([]string, n),
		times: make([]time.Time, n), txNums: make([]int64, n), quoteServerTimes: make([]*int64, n),
	}
	for i := range events {
		ev := &events[i]
		evServer := ev.Server
		if evServer == "" {
			evServer = server
		}
		checked := *ev
		checked.Server = evServer
		if err := Validate(checked); err != nil {
			return nil, fmt.Errorf("audit: event %d of %d: %w", i+1, n, err)
		}
		c.keys[i], c.types[i], c.servers[i] = ev.Key, string(ev.Type), evServer
		c.times[i], c.txNums[i] = ev.Time, ev.TxNum
		c.commands[i], c.users[i], c.symbols[i], c.filenames[i] = string(ev.Command), ev.User, ev.Symbol, ev.Filename
		if ev.Funds.Valid {
			c.funds[i] = ev.Funds.Decimal.String()
		}
		if ev.Price.Valid {
			c.prices[i] = ev.Price.Decimal.String()
		}
		c.actions[i], c.cryptokeys[i], c.messages[i] = ev.Action, ev.Cryptokey, ev.Message
		if ev.Type == trading.QuoteServerEvent {
			c.quoteServerTimes[i] = &ev.QuoteServerTime
		}
	}
	return c, nil
}

func (c *eventColumns) args() []any {
	return []any{c.keys, c.types, c.times, c.servers, c.txNums,
		c.commands, c.users, c.symbols, c.filenames, c.funds,
		c.actions, c.prices, c.quoteServerTimes, c.cryptokeys, c.messages}
}

// Write stores events idempotently: an event whose key is already stored is
// skipped, so writing the same batch twice stores it once. Events without a
// Server get server. The batch is written in one transaction, which also
// notifies NotifyChannel once per distinct user of the newly stored events:
// in one round trip (insertEvents), or, from copyAtLeast events, by COPY
// when none of its keys is stored yet (copyNew). If any event fails
// Validate, nothing of the batch is written and the error (wrapping
// ErrInvalidEvent) names the event.
func (s *Store) Write(ctx context.Context, server string, events []trading.Event) error {
	if len(events) == 0 {
		return nil
	}
	cols, err := newEventColumns(server, events)
	if err != nil {
		return err
	}
	if len(events) >= copyAtLeast {
		stored, err := s.copyNew(ctx, cols)
		if err != nil {
			return fmt.Errorf("audit: copying %d events: %w", len(events), err)
		}
		if stored {
			return nil
		}
	}
	return s.insert(ctx, cols)
}

// insert stores cols with insertEvents, skipping keys already stored.
func (s *Store) insert(ctx context.Context, cols *eventColumns) error {
	if _, err := s.pool.Exec(ctx, insertEvents, cols.args()...); err != nil {
		return fmt.Errorf("audit: writing %d events: %w", len(cols.keys), err)
	}
	return nil
}

// NextTxNum returns the next transaction number for an interactive command
// (web UI, API), from the sequence interactive_tx_num.
func (s *Store) NextTxNum(ctx context.Context) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT nextval('interactive_tx_num')`).Scan(&n); err != nil {
		return 0, fmt.Errorf("audit: next transaction number: %w", err)
	}
	return n, nil
}

// FirstInteractiveTxNum is where the interactive_tx_num sequence starts:
// traders' commands are numbered from here, workload files' below.
const FirstInteractiveTxNum = 1_000_000_000

// TraderActivity is how long after a trader's last command
// TradersActive still says they trade.
const TraderActivity = 30 * time.Second

// TradersActive says whether a trader's command (an interactive
// transaction number) was audited in the last TraderActivity, by the
// database's clock. The workload starter keeps a smaller backlog while
// they trade (workloads.TraderWatch). It reads one entry of a partial
// index (migration 00007).
func (s *Store) TradersActive(ctx context.Context) (bool, error) {
	var active bool
	err := s.pool.QueryRow(ctx, `
SELECT coalesce((SELECT ts > now() - $1::interval FROM audit_events
                 WHERE event_type = 'userCommand' AND tx_num >= 1000000000 -- FirstInteractiveTxNum, as the index says
                 ORDER BY id DESC LIMIT 1), false)`, TraderActivity).Scan(&active)
	if err != nil {
		return false, fmt.Errorf("audit: traders' last command: %w", err)
	}
	return active, nil
}

// CountByType returns how many events of each type are stored for user, or
// for everyone when user is "". Types without events are absent.
func (s *Store) CountByType(ctx context.Context, user string) (map[trading.EventType]int64, error) {
	rows, err := s.pool.Query(ctx, `
SELECT event_type, count(*) FROM audit_events
WHERE $1::text = '' OR username = $1
GROUP BY event_type`, user)
	if err != nil {
		return nil, fmt.Errorf("audit: counting events: %w", err)
	}
	counts := map[trading.EventType]int64{}
	var eventType string
	var n int64
	if _, err := pgx.ForEachRow(rows, []any{&eventType, &n}, func() error {
		counts[trading.EventType(eventType)] = n
		return nil
	}); err != nil {
		return nil, fmt.Errorf("audit: counting events: %w", err)
	}
	return counts, nil
}

// CommandTime is when a user's command was processed: its userCommand
// record's id and time.
type CommandTime struct {
	ID    int64
	User  string
	TxNum int64
	Time  time.Time
}

// UserCommandsAfter returns the userCommand records stored after the one
// with id afterID, in id order, at most limit of them: a reader that keeps
// the last id reads each record once, along the primary key, however large
// the table. Records committed late under a lower id than one already read
// are missed, as in CountUserCommandsAfter.
func (s *Store) UserCommandsAfter(ctx context.Context, afterID int64, limit int) ([]CommandTime, error) {
	rows, err := s.pool.Query(ctx, `
SELECT id, coalesce(username, ''), tx_num, ts FROM audit_events
WHERE id > $1 AND event_type = 'userCommand'
ORDER BY id LIMIT $2`, afterID, limit)
	out, err := commandTimes(rows, err)
	if err != nil {
		return nil, fmt.Errorf("audit: commands after %d: %w", afterID, err)
	}
	return out, nil
}

// commandTimes collects the rows (id, user, tx_num, ts) of a query that
// returned err.
func commandTimes(rows pgx.Rows, err error) ([]CommandTime, error) {
	if err != nil {
		return nil, err
	}
	var out []CommandTime
	var c CommandTime
	_, err = pgx.ForEachRow(rows, []any{&c.ID, &c.User, &c.TxNum, &c.Time}, func() error {
		out = append(out, c)
		return nil
	})
	return out, err
}

// UserCommandsBetween returns user's userCommand records with ids above
// afterID and up to upToID, in id order, along the (username, event_type,
// id) index: a reader of UserCommandsAfter that has passed over a record
// committed late (a lower id than one it had read) finds it here.
func (s *Store) UserCommandsBetween(ctx context.Context, user string, afterID, upToID int64) ([]CommandTime, error) {
	rows, err := s.pool.Query(ctx, `
SELECT id, username, tx_num, ts FROM audit_events
WHERE username = $1 AND event_type = 'userCommand' AND id > $2 AND id <= $3
ORDER BY id`, user, afterID, upToID)
	out, err := commandTimes(rows, err)
	if err != nil {
		return nil, fmt.Errorf("audit: commands of %s after %d: %w", user, afterID, err)
	}
	return out, nil
}

// UserCommandTimes returns the time of the userCommand event of each of the
// given transaction numbers that has one. Should a number have several (the
// same workload run twice), the most recently stored one counts. The numbers
// are joined as one array against the table (a hash join), so 100,000 of them
// cost one scan.
func (s *Store) UserCommandTimes(ctx context.Context, txNums []int64) (map[int64]time.Time, error) {
	times := make(map[int64]time.Time, len(txNums))
	if len(txNums) == 0 {
		return times, nil
	}
	rows, err := s.pool.Query(ctx, `
SELECT DISTINCT ON (e.tx_num) e.tx_num, e.ts
FROM audit_events AS e
JOIN (SELECT DISTINCT n FROM unnest($1::int8[]) AS wanted(n)) AS wanted ON e.tx_num = wanted.n
WHERE e.event_type = 'userCommand'
ORDER BY e.tx_num, e.id DESC`, txNums)
	if err != nil {
		return nil, fmt.Errorf("audit: user command times: %w", err)
	}
	var txNum int64
	var ts time.Time
	if _, err := pgx.ForEachRow(rows, []any{&txNum, &ts}, func() error {
		times[txNum] = ts
		return nil
	}); err != nil {
		return nil, fmt.Errorf("audit: user command times: %w", err)
	}
	return times, nil
}

// UserTxNum names one command: a user's transaction number.
type UserTxNum struct {
	User  string
	TxNum int64
}

// ProcessedCommands returns which of the given commands already have a
// userCommand record (at most limit of them): those an account has processed,
// and would ignore as duplicates if they came again.
func (s *Store) ProcessedCommands(ctx context.Context, cmds []UserTxNum, limit int) ([]UserTxNum, error) {
	if len(cmds) == 0 {
		return nil, nil
	}
	users := make([]string, len(cmds))
	txNums := make([]int64, len(cmds))
	for i, c := range cmds {
		users[i], txNums[i] = c.User, c.TxNum
	}
	rows, err := s.pool.Query(ctx, `
SELECT e.username, e.tx_num
FROM audit_events AS e
JOIN unnest($1::text[], $2::int8[]) AS wanted(username, tx_num)
  ON e.username = wanted.username AND e.tx_num = wanted.tx_num
WHERE e.event_type = 'userCommand'
ORDER BY e.id
LIMIT $3`, users, txNums, limit)
	if err != nil {
		return nil, fmt.Errorf("audit: processed commands: %w", err)
	}
	var found []UserTxNum
	var c UserTxNum
	if _, err := pgx.ForEachRow(rows, []any{&c.User, &c.TxNum}, func() error {
		found = append(found, c)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("audit: processed commands: %w", err)
	}
	return found, nil
}
