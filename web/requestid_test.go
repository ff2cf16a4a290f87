package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer collects log output written from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// take returns what was logged since the last take and forgets it.
func (l *lockedBuffer) take() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.b.String()
	l.b.Reset()
	return s
}

// TestRequestIDOnEveryLogLine: every web log line of a request (the
// handler's own and the access log) carries the request's ID under one key,
// request_id, which the response echoes in X-Request-ID. A sane ID sent by a
// proxy is kept; a hostile one is replaced. The request is served in the
// test's goroutine (ServeHTTP), so every line is written when it returns.
func TestRequestIDOnEveryLogLine(t *testing.T) {
	logs := &lockedBuffer{}
	ts := newTestServer(t, func(c *Config) {
		c.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	b := ts.registered(t, uniqueUser("rid"))
	ts.accounts.fail(errors.New("account is busy")) // the handler logs a warning
	serve := func(sentID string) (string, []map[string]any) {
		t.Helper()
		form := url.Values{"command": {"ADD"}, "amount": {"5"}}
		req := httptest.NewRequest(http.MethodPost, ts.URL+"/commands", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("HX-Request", "true")
		req.Header.Set(csrfHeader, b.csrf())
		req.AddCookie(b.sessionCookie())
		if sentID != "" {
			req.Header.Set("X-Request-Id", sentID)
		}
		logs.take()
		rec := httptest.NewRecorder()
		ts.web.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnprocessableEntity {
			t.Fatalf("status %d, want 422 (the command not accepted): %s", rec.Code, rec.Body)
		}
		var lines []map[string]any
		for _, line := range strings.Split(strings.TrimSpace(logs.take()), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("log line %q: %v", line, err)
			}
			lines = append(lines, m)
		}
		return rec.Header().Get("X-Request-ID"), lines
	}

	for _, sent := range []string{"", "proxy-7f3a.42:1/a_b", "bad id\n<script>", strings.Repeat("x", 200)} {
		id, lines := serve(sent)
		if id == "" {
			t.Fatalf("sent %q: no X-Request-ID in the response", sent)
		}
		if keep := sent == "proxy-7f3a.42:1/a_b"; keep != (id == sent) {
			t.Errorf("sent %q, echoed %q", sent, id)
		}
		msgs := map[string]bool{}
		for _, l := range lines {
			msgs[l["msg"].(string)] = true
			if l["request_id"] != id {
				t.Errorf("sent %q: line %v has request_id %v, want %q", sent, l, l["request_id"], id)
			}
		}
		if !msgs["command not accepted"] || !msgs["http request"] {
			t.Errorf("sent %q: logged %v, want the handler's warning and the access log", sent, msgs)
		}
	}
	id1, _ := serve("")
	id2, _ := serve("")
	if id1 == id2 {
		t.Errorf("two requests got the same ID %q", id1)
	}
}

// refusingPrioritizer is the fake accounts with a MakeInteractive that
// fails, so signing in logs a warning from its background goroutine.
type refusingPrioritizer struct{ *fakeAccounts }

func (refusingPrioritizer) MakeInteractive(context.Context, string) error {
	return errors.New("temporal is away")
}

// recordsTo is a slog handler that hands every record to a channel: the
// test waits for a line logged by a goroutine without sleeping.
type recordsTo chan slog.Record

func (h recordsTo) Enabled(context.Context, slog.Level) bool      { return true }
func (h recordsTo) Handle(_ context.Context, r slog.Record) error { h <- r.Clone(); return nil }
func (h recordsTo) WithAttrs([]slog.Attr) slog.Handler            { return h }
func (h recordsTo) WithGroup(string) slog.Handler                 { return h }

// TestRequestIDReachesTheSignInsBackgroundWork: the warning of the
// sign-in's background priority raise carries the sign-in's request ID.
func TestRequestIDReachesTheSignInsBackgroundWork(t *testing.T) {
	records := make(recordsTo, 1000)
	ts := newTestServer(t, func(c *Config) {
		c.Accounts = refusingPrioritizer{c.Accounts.(*fakeAccounts)}
		c.Logger = slog.New(records)
	})
	user := uniqueUser("bg")
	ts.registered(t, user)
	r := ts.newBrowser(t).login(user, "correct horse")
	wantStatus(t, r, http.StatusSeeOther)
	id := r.Header.Get("X-Request-ID")
	timeout := time.After(time.Minute)
	for {
		select {
		case rec := <-records:
			if rec.Message != "giving the account the interactive priority" {
				continue
			}
			var got string
			rec.Attrs(func(a slog.Attr) bool {
				if a.Key == "request_id" {
					got = a.Value.String()
				}
				return true
			})
			if id == "" || got != id {
				t.Errorf("the background warning has request_id %q, the sign-in answered X-Request-ID %q", got, id)
			}
			return
		case <-timeout:
			t.Fatal("no warning from the sign-in's background work")
		}
	}
}
