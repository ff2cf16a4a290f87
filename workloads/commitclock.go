package workloads

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// commitListener is an AuditReader that is told of each audit write as it
// commits: audit.Store, through Postgres LISTEN/NOTIFY (every write sends
// a notification, delivered when its transaction commits).
type commitListener interface {
	ListenReady(ctx context.Context, ready func(), fn func(user string)) error
}

// listenReadyWait bounds how long a run waits for its listener before it
// starts sending anyway (and then ends at the poll that saw the end).
const listenReadyWait = 5 * time.Second

// commitClock remembers when the newest audit commit was notified, so the
// run's end is the moment its last command's records were committed, not
// the progress poll that noticed it (up to PollInterval later: a small
// file that finishes in 50 ms would otherwise take "0.5 s"). Only a
// timestamp is stored per notification, one per user per written batch,
// so a run of a million commands costs nothing more than a small one.
type commitClock struct {
	base time.Time    // with its monotonic reading
	last atomic.Int64 // nanoseconds after base of the newest notification; 0: none
	// commits holds a value when a commit was notified since it was last
	// received (commitWake).
	commits chan struct{}
	stop    func()
}

// listenCommits starts listening when a can and waits until it listens.
// Without a listener the clock stays empty and the end is the poll's.
func listenCommits(ctx context.Context, a AuditReader) *commitClock {
	c := &commitClock{base: time.Now(), commits: make(chan struct{}, 1), stop: func() {}}
	l, ok := a.(commitListener)
	if !ok {
		return c
	}
	ctx, cancel := context.WithCancel(ctx)
	ready := make(chan struct{})
	var readyOnce sync.Once
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = l.ListenReady(ctx, func() { readyOnce.Do(func() { close(ready) }) }, func(string) {
			c.last.Store(int64(max(time.Since(c.base), 1)))
			select {
			case c.commits <- struct{}{}:
			default: // one is waiting already
			}
		})
	}()
	c.stop = func() { cancel(); <-done }
	select {
	case <-ready:
	case <-time.After(listenReadyWait):
	case <-ctx.Done():
	}
	return c
}

// end is when the run's last command was audited: the newest commit
// notified between start and polledAt (the exact count that saw every
// command, so that commit is among those it saw), and never before the
// last batch was recorded. Without one it is polledAt.
func (c *commitClock) end(start, lastSent, polledAt time.Time) time.Time {
	d := c.last.Load()
	if d == 0 {
		return polledAt
	}
	at := c.base.Add(time.Duration(d))
	if !at.After(start) || at.After(polledAt) {
		return polledAt
	}
	if at.Before(lastSent) {
		return lastSent
	}
	return at
}
