package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
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
