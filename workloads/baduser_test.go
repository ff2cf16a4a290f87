package workloads

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/trading"
)

// hostileUsers are user ids no account can have, one of each kind.
var hostileUsers = map[string]string{
	"non-ASCII":         "böb",
	"control character": "bob\x01",
	"1 KB long":         strings.Repeat("a", 1024),
	"path":              "../x",
	"space inside":      "a b",
	"65 characters":     strings.Repeat("Z", 65),
}

// runLenient writes text to a file, parses it leniently and runs it against
// fakes that process every sent command at once.
func runLenient(t testing.TB, text string) (*Report, *fakeAccounts, *recordingAudit, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "workload")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	wl, perrs, err := ParseFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	sender := &fakeAccounts{}
	store := &recordingAudit{instantAudit: instantAudit{sender: sender}}
	rep, err := Run(context.Background(), wl, sender, store,
		RunOptions{ParseErrors: perrs, PollInterval: time.Millisecond, Server: "test"})
	return rep, sender, store, err
}

// One bad user id must not stop a whole workload: every other user's
// commands run, and the bad line is reported and audited as an errorEvent.
func TestRunSkipsLinesWithABadUserID(t *testing.T) {
	for kind, bad := range hostileUsers {
		t.Run(kind, func(t *testing.T) {
			text := "[1] ADD,alice,100\n[2] ADD," + bad + ",10\n[3] QUOTE,alice,ABC\n[4] DUMPLOG,./log\n"
			rep, sender, store, err := runLenient(t, text)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got := sender.sentCount(); got != 2 || rep.Processed != 2 {
				t.Errorf("sent %d, processed %d; want alice's 2 commands", got, rep.Processed)
			}
			if len(rep.ParseErrors) != 1 || rep.ParseErrors[0].Line != 2 || !strings.Contains(rep.ParseErrors[0].Error, "bad user id") {
				t.Fatalf("parse errors %+v, want line 2 refused for its user id", rep.ParseErrors)
			}
			if len(store.written) != 1 {
				t.Fatalf("audited %d events for the bad line, want 1 errorEvent", len(store.written))
			}
			ev := store.written[0]
			if ev.Type != trading.ErrorEvent || ev.TxNum != 2 || ev.Command != trading.Add || ev.User != "" || !strings.Contains(ev.Message, "bad user id") {
				t.Errorf("audited %+v, want an errorEvent for transaction 2 (ADD) without a username", ev)
			}
			if strings.ContainsFunc(ev.Message, func(r rune) bool { return r < 0x20 || r > 0x7e }) || len(ev.Message) > 200 {
				t.Errorf("the message %q carries the raw user id; want it escaped and short", ev.Message)
			}
		})
	}
}

// FuzzRunUserID sends a fuzzed user id through the whole runner: whatever
// it is, the run completes, the good user's commands are all processed, and
// the fuzzed line is either sent (a valid id), skipped (an empty one) or
// refused as a bad user id; never does an invalid id reach the accounts.
func FuzzRunUserID(f *testing.F) {
	for _, u := range hostileUsers {
		f.Add(u)
	}
	for _, u := range []string{"bob", "", "  ", ",", "]", "\r", "Zz09"} {
		f.Add(u)
	}
	f.Fuzz(func(t *testing.T, user string) {
		if strings.ContainsAny(user, "\n") {
			t.Skip("a line break makes two lines: not a user id")
		}
		text := fmt.Sprintf("[1] ADD,alice,100\n[2] ADD,%s,10\n[3] QUOTE,alice,ABC\n", user)
		rep, sender, _, err := runLenient(t, text)
		if err != nil {
			t.Fatalf("Run with user id %q: %v", user, err)
		}
		if n := len(sender.batches["alice"]); n != 1 || len(sender.batches["alice"][0]) != 2 {
			t.Fatalf("alice's commands were not all sent: %v", sender.batches["alice"])
		}
		switch trimmed := strings.TrimSpace(user); {
		case trading.ValidUser(trimmed):
			if rep.Processed != 3 {
				t.Errorf("valid user id %q: processed %d, want 3", user, rep.Processed)
			}
		case trimmed == "":
			if len(rep.Skipped) != 1 {
				t.Errorf("empty user id: skipped %+v, want the line", rep.Skipped)
			}
		case len(rep.ParseErrors) != 1: // a bad id, or one that breaks the line's shape
			t.Errorf("user id %q: neither sent, skipped nor refused (report %+v)", user, rep)
		}
		for u := range sender.batches {
			if !trading.ValidUser(u) {
				t.Errorf("invalid user id %q reached the accounts", u)
			}
		}
	})
}
