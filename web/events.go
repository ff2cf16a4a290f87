package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// eventHub fans audit writes out to the open event streams of their user.
// It listens (Audit.Listen) only while someone is subscribed, and tells every
// subscriber to refresh after the listener had to reconnect, since writes may
// have been missed in between.
type eventHub struct {
	base   context.Context
	listen func(ctx context.Context, fn func(user string)) error
	log    *slog.Logger

	mu     sync.Mutex
	subs   map[string]map[chan struct{}]struct{}
	count  int
	cancel context.CancelFunc // stops the running listener; nil when none runs
}

func newEventHub(base context.Context, listen func(context.Context, func(string)) error, log *slog.Logger) *eventHub {
	return &eventHub{base: base, listen: listen, log: log, subs: map[string]map[chan struct{}]struct{}{}}
}

// subscribe returns a channel that receives a value (coalesced: at most one
// waiting) after each audit write for user, and the function that ends the
// subscription.
func (h *eventHub) subscribe(user string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	if h.subs[user] == nil {
		h.subs[user] = map[chan struct{}]struct{}{}
	}
	h.subs[user][ch] = struct{}{}
	h.count++
	if h.cancel == nil {
		ctx, cancel := context.WithCancel(h.base)
		h.cancel = cancel
		go h.run(ctx)
	}
	h.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			delete(h.subs[user], ch)
			if len(h.subs[user]) == 0 {
				delete(h.subs, user)
			}
			h.count--
			if h.count == 0 && h.cancel != nil {
				h.cancel()
				h.cancel = nil
			}
		})
	}
}

// run keeps a listener going until ctx ends, retrying with backoff.
func (h *eventHub) run(ctx context.Context) {
	backoff := time.Second
	for first := true; ; first = false {
		if !first {
			h.notifyAll() // writes during the gap went unseen
		}
		err := h.listen(ctx, h.notify)
		if ctx.Err() != nil {
			return
		}
		h.log.Warn("listening for audit writes failed; retrying", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

// notify wakes the streams of user; "" (Audit.Listen's "anything may have
// changed", after it reconnected) wakes them all.
func (h *eventHub) notify(user string) {
	if user == "" {
		h.notifyAll()
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs[user] {
		select {
		case ch <- struct{}{}:
		default: // a refresh is already due
		}
	}
}

func (h *eventHub) notifyAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, chans := range h.subs {
		for ch := range chans {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}
}

// sseKeepAlive is how often an idle stream gets a comment line, so that
// proxies do not close it and a dead client is noticed.
const sseKeepAlive = 25 * time.Second

// events is the trader's server-sent event stream: an "account" event after
// every audit write of their account (a command, a trigger that executed, a
// pending trade that expired), on which the dashboard reloads its summary.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r.Context())
	rc := s.startStream(w, r)
	updates, unsubscribe := s.hub.subscribe(sess.User)
	defer unsubscribe()
	defer s.metrics.sseClient("account")()
	// Retry after 5 s if the stream drops; then tell the page to refresh
	// once, which covers anything that happened while it was not connected.
	if _, err := io.WriteString(w, "retry: 5000\n\nevent: account\ndata: connected\n\n"); err != nil {
		return
	}
	if err := rc.Flush(); err != nil {
		return
	}
	keepAlive := time.NewTicker(sseKeepAlive)
	defer keepAlive.Stop()
	ctx, end := s.streamContext(r, sess)
	defer end()
	for {
		var msg string
		select {
		case <-ctx.Done():
			return
		case <-updates:
			msg = "event: account\ndata: changed\n\n"
		case <-keepAlive.C:
			msg = ": keep-alive\n\n"
		}
		if _, err := io.WriteString(w, msg); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// streamContext ends when an event stream must: its client left, the
// server is closing, or the session expired (the browser's reconnect then
// meets the login check). Call end when the stream is over.
func (s *Server) streamContext(r *http.Request, sess *session) (ctx context.Context, end func()) {
	ctx, cancel := context.WithDeadline(r.Context(), sess.ExpiresAt)
	stop := context.AfterFunc(s.hub.base, cancel)
	return ctx, func() { stop(); cancel() }
}

// startStream answers 200 with the headers of an event stream, and clears
// the write deadline: the stream outlives any write timeout the
// http.Server may have.
func (s *Server) startStream(w http.ResponseWriter, r *http.Request) *http.ResponseController {
	rc := http.NewResponseController(w)
	if err := rc.SetWriteDeadline(time.Time{}); err != nil && err != http.ErrNotSupported {
		s.log.DebugContext(r.Context(), "clearing write deadline for event stream", "err", err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	return rc
}
