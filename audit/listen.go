package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// ListenerApplicationName is the application_name of Listen's connection, so
// operators (and tests) can find it in pg_stat_activity.
const ListenerApplicationName = "daytrader-audit-listener"

// Reconnect backoff of Listen after a lost connection.
const (
	listenMinBackoff = 100 * time.Millisecond
	listenMaxBackoff = 5 * time.Second
)

// Listen calls fn with the username of every audit_events notification (one
// per user per written batch; "" for events of no user) until ctx ends, and
// then returns nil. It holds its own connection, outside the pool. When that
// connection is lost (a Postgres restart) it reconnects with exponential
// backoff; notifications sent while it was away are gone, so after every
// reconnect it calls fn("") once, which means "anything may have changed":
// views should reload.
func (s *Store) Listen(ctx context.Context, fn func(user string)) error {
	return s.ListenReady(ctx, nil, fn)
}

// ListenReady is Listen that also calls ready (when not nil) once, as soon
// as its first LISTEN is in effect: every audit write committed after that
// is notified. A caller that times writes by their notifications (the
// workload runner) waits for it before it starts writing.
func (s *Store) ListenReady(ctx context.Context, ready func(), fn func(user string)) error {
	if fn == nil {
		return errors.New("audit: Listen needs a callback")
	}
	backoff := listenMinBackoff
	for attempt := 0; ; attempt++ {
		listening, err := s.listenOnce(ctx, fn, attempt > 0, ready)
		if ctx.Err() != nil {
			return nil
		}
		if listening {
			ready = nil // once: later connections are reconnects
			backoff = listenMinBackoff
		}
		slog.Warn("audit: lost the notification connection, reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, listenMaxBackoff)
	}
}

// listenOnce connects, listens and delivers notifications until the
// connection fails or ctx ends. listening reports whether LISTEN succeeded.
func (s *Store) listenOnce(ctx context.Context, fn func(user string), reconnect bool, ready func()) (listening bool, err error) {
	cfg := s.pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = ListenerApplicationName
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false, fmt.Errorf("connecting: %w", err)
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		conn.Close(closeCtx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+NotifyChannel); err != nil {
		return false, fmt.Errorf("LISTEN: %w", err)
	}
	if ready != nil {
		ready()
	}
	if reconnect {
		slog.Info("audit: listening for notifications again")
		fn("")
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true, err
		}
		fn(n.Payload)
	}
}
