package web

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// readEvent reads one server-sent event (up to its blank line), skipping
// comment lines, and returns its event name and data (its data lines
// joined with newlines, as a browser's EventSource does).
func readEvent(t *testing.T, r *bufio.Reader) (name, data string) {
	t.Helper()
	var lines []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the event stream: %v", err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "" && (name != "" || len(lines) > 0):
			return name, strings.Join(lines, "\n")
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			lines = append(lines, strings.TrimPrefix(line, "data: "))
		}
	}
}

func TestEventStreamTellsThePageToRefresh(t *testing.T) {
	ts := newTestServer(t)
	alice := uniqueUser("alice")
	b := ts.registered(t, alice)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/events", nil)
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("/events: status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	stream := bufio.NewReader(resp.Body)
	if name, data := readEvent(t, stream); name != "account" || data != "connected" {
		t.Fatalf("first event %q %q, want account/connected (refresh after (re)connecting)", name, data)
	}
	select {
	case <-ts.audit.listening:
	case <-ctx.Done():
		t.Fatal("the server never started listening for audit writes")
	}
	ts.audit.write(alice)
	if name, data := readEvent(t, stream); name != "account" || data != "changed" {
		t.Fatalf("after an audit write: event %q %q, want account/changed", name, data)
	}
}

func TestEventStreamNeedsASession(t *testing.T) {
	ts := newTestServer(t)
	r := ts.newBrowser(t).get("/events")
	wantStatus(t, r, http.StatusUnauthorized)
}

// recordingListener is an Audit.Listen that the test drives by hand.
type recordingListener struct {
	mu      sync.Mutex
	fn      func(string)
	running int
	started chan struct{}
	fail    error // returned at once (a lost connection) when set
}

func (l *recordingListener) listen(ctx context.Context, fn func(string)) error {
	l.mu.Lock()
	if l.fail != nil {
		err := l.fail
		l.fail = nil
		l.mu.Unlock()
		return err
	}
	l.fn = fn
	l.running++
	l.mu.Unlock()
	l.started <- struct{}{}
	<-ctx.Done()
	l.mu.Lock()
	l.running--
	l.mu.Unlock()
	return nil
}

func pending(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestEventHubFansOutPerUser(t *testing.T) {
	base, stop := context.WithCancel(context.Background())
	defer stop()
	l := &recordingListener{started: make(chan struct{}, 1)}
	h := newEventHub(base, l.listen, slog.New(slog.NewTextHandler(io.Discard, nil)))

	alice1, endAlice1 := h.subscribe("alice")
	alice2, endAlice2 := h.subscribe("alice")
	bob, endBob := h.subscribe("bob")
	<-l.started

	l.fn("bob")
	if pending(alice1) || pending(alice2) {
		t.Fatal("bob's write woke alice's streams")
	}
	if !pending(bob) {
		t.Fatal("bob's write did not wake bob's stream")
	}
	l.fn("alice")
	l.fn("alice") // coalesced: one refresh is enough
	if !pending(alice1) || !pending(alice2) || pending(alice1) {
		t.Fatal("alice's writes should wake each of her streams exactly once")
	}
	// "" is the store's "anything may have changed" after a reconnect.
	l.fn("")
	if !pending(alice1) || !pending(alice2) || !pending(bob) {
		t.Fatal("a reconnect notice did not wake every stream")
	}

	endAlice1()
	endAlice1() // idempotent
	endBob()
	l.mu.Lock()
	running := l.running
	l.mu.Unlock()
	if running != 1 {
		t.Fatalf("%d listeners running with one subscriber left, want 1", running)
	}
	endAlice2()
	h.mu.Lock()
	idle := h.cancel == nil && h.count == 0 && len(h.subs) == 0
	h.mu.Unlock()
	if !idle {
		t.Fatal("the hub still listens with no subscriber")
	}
}

func TestEventHubRetriesAndRefreshesAfterAFailedListen(t *testing.T) {
	base, stop := context.WithCancel(context.Background())
	defer stop()
	l := &recordingListener{started: make(chan struct{}, 1), fail: errors.New("connection refused")}
	h := newEventHub(base, l.listen, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ch, end := h.subscribe("alice")
	defer end()
	select {
	case <-l.started: // the second attempt runs after the backoff
	case <-time.After(20 * time.Second):
		t.Fatal("the hub did not retry a failed Listen")
	}
	if !pending(ch) {
		t.Fatal("no refresh after listening again: writes in the gap would be lost")
	}
}
