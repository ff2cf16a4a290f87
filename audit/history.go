package audit

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/daytradinginc/daytrader/trading"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/shopspring/decimal"
)

// Page sizes of History.
const (
	DefaultHistoryLimit = 50
	MaxHistoryLimit     = 500
)

// HistoryQuery selects a page of the audit history. Zero values mean "no
// filter".
type HistoryQuery struct {
	User     string              // "" = everyone (administrators only: the caller checks)
	Command  trading.CommandName // "" = any command
	Type     trading.EventType   // "" = any type
	From, To time.Time           // From <= time < To; zero = open
	BeforeID int64               // paging cursor: only events with ID < BeforeID; 0 = from the newest
	Limit    int                 // 0 = DefaultHistoryLimit; at most MaxHistoryLimit
}

// StoredEvent is an event with its position in the history (ascending in the
// order events were stored).
type StoredEvent struct {
	ID int64 `json:"id"`
	trading.Event
}

// HistoryPage is one page of History, newest first.
type HistoryPage struct {
	Events       []StoredEvent `json:"events"`
	NextBeforeID int64         `json:"nextBeforeId"` // BeforeID of the next (older) page; 0 when there is none
}

// History returns the newest events matching q that are older than
// q.BeforeID. Pass the page's NextBeforeID as the next query's BeforeID to
// page back in time. A malformed query is an error.
func (s *Store) History(ctx context.Context, q HistoryQuery) (HistoryPage, error) {
	limit := q.Limit
	switch {
	case limit == 0:
		limit = DefaultHistoryLimit
	case limit < 0 || limit > MaxHistoryLimit:
		return HistoryPage{}, fmt.Errorf("audit: page size %d must be between 1 and %d", q.Limit, MaxHistoryLimit)
	}
	var page HistoryPage
	// One more than asked tells whether an older page exists.
	if err := s.queryHistory(ctx, q, limit+1, func(ev StoredEvent) error {
		page.Events = append(page.Events, ev)
		return nil
	}); err != nil {
		return HistoryPage{}, err
	}
	if len(page.Events) > limit {
		page.Events = page.Events[:limit]
		page.NextBeforeID = page.Events[limit-1].ID
	}
	return page, nil
}

// EachHistory calls fn with every event matching q's filters (and older than
// q.BeforeID, if set), newest first, as the rows arrive from Postgres: an
// export of any size holds one row in memory. q.Limit is ignored. An error of
// fn stops the scan and is returned.
func (s *Store) EachHistory(ctx context.Context, q HistoryQuery, fn func(StoredEvent) error) error {
	return s.queryHistory(ctx, q, 0, fn)
}

// queryHistory calls fn with the events matching q, newest first, at most
// limit of them (0: all), as pgx reads them off the connection.
func (s *Store) queryHistory(ctx context.Context, q HistoryQuery, limit int, fn func(StoredEvent) error) error {
	if err := checkHistoryQuery(q); err != nil {
		return err
	}
	var conditions []string
	var args []any
	where := func(condition string, arg any) {
		args = append(args, arg)
		conditions = append(conditions, fmt.Sprintf(condition, len(args)))
	}
	if q.User != "" {
		where("username = $%d", q.User)
	}
	if q.Type != "" {
		where("event_type = $%d", string(q.Type))
	}
	if q.Command != "" {
		where("command = $%d", string(q.Command))
	}
	if !q.From.IsZero() {
		where("ts >= $%d", q.From)
	}
	if !q.To.IsZero() {
		where("ts < $%d", q.To)
	}
	if q.BeforeID > 0 {
		where("id < $%d", q.BeforeID)
	}
	sql := "SELECT " + storedEventColumns + " FROM audit_events"
	if len(conditions) > 0 {
		sql += " WHERE " + strings.Join(conditions, " AND ")
	}
	sql += " ORDER BY id DESC"
	if limit > 0 {
		args = append(args, limit)
		sql += fmt.Sprintf(" LIMIT $%d", len(args))
	}
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("audit: history: %w", err)
	}
	scan := newEventScanner()
	if _, err := pgx.ForEachRow(rows, scan.targets(), func() error {
		ev, err := scan.event()
		if err != nil {
			return err
		}
		return fn(ev)
	}); err != nil {
		return fmt.Errorf("audit: history: %w", err)
	}
	return nil
}

// checkHistoryQuery refuses a malformed query before it reaches Postgres.
func checkHistoryQuery(q HistoryQuery) error {
	if q.BeforeID < 0 {
		return fmt.Errorf("audit: paging cursor %d must not be negative", q.BeforeID)
	}
	if q.Command != "" && !q.Command.Known() {
		return fmt.Errorf("audit: unknown command %q", q.Command)
	}
	if q.Type != "" && !knownType(q.Type) {
		return fmt.Errorf("audit: unknown event type %q", q.Type)
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return fmt.Errorf("audit: time range from %s to %s is empty",
			q.From.Format(time.RFC3339), q.To.Format(time.RFC3339))
	}
	return nil
}

// storedEventColumns are the columns eventScanner reads, in its order.
const storedEventColumns = `id, event_key, event_type, ts, server, tx_num, command, username, symbol,
filename, funds, action, price, quote_server_time, cryptokey, message`

// eventScanner turns audit_events rows into StoredEvents, reusing its scan
// targets from row to row.
type eventScanner struct {
	id, txNum                                                   int64
	key, eventType, server                                      string
	ts                                                          time.Time
	command, user, symbol, filename, action, cryptokey, message pgtype.Text
	funds, price                                                pgtype.Numeric
	quoteServerTime                                             pgtype.Int8
}

func newEventScanner() *eventScanner { return &eventScanner{} }

func (s *eventScanner) targets() []any {
	return []any{&s.id, &s.key, &s.eventType, &s.ts, &s.server, &s.txNum, &s.command, &s.user, &s.symbol,
		&s.filename, &s.funds, &s.action, &s.price, &s.quoteServerTime, &s.cryptokey, &s.message}
}

func (s *eventScanner) event() (StoredEvent, error) {
	funds, err := nullDecimal(s.funds)
	if err != nil {
		return StoredEvent{}, fmt.Errorf("event %d funds: %w", s.id, err)
	}
	price, err := nullDecimal(s.price)
	if err != nil {
		return StoredEvent{}, fmt.Errorf("event %d price: %w", s.id, err)
	}
	return StoredEvent{ID: s.id, Event: trading.Event{
		Key:             s.key,
		Type:            trading.EventType(s.eventType),
		Time:            s.ts,
		Server:          s.server,
		TxNum:           s.txNum,
		Command:         trading.CommandName(s.command.String),
		User:            s.user.String,
		Symbol:          s.symbol.String,
		Filename:        s.filename.String,
		Funds:           funds,
		Action:          s.action.String,
		Price:           price,
		QuoteServerTime: s.quoteServerTime.Int64,
		Cryptokey:       s.cryptokey.String,
		Message:         s.message.String,
	}}, nil
}

func nullDecimal(n pgtype.Numeric) (decimal.NullDecimal, error) {
	switch {
	case !n.Valid:
		return decimal.NullDecimal{}, nil
	case n.NaN || n.InfinityModifier != pgtype.Finite:
		return decimal.NullDecimal{}, fmt.Errorf("not a finite number")
	}
	return decimal.NewNullDecimal(decimal.NewFromBigInt(n.Int, n.Exp)), nil
}
