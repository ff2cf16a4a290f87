package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/trading"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

var day1 = time.Date(2024, 5, 1, 9, 30, 0, 0, time.UTC)

func countRows(t *testing.T, pool *pgxpool.Pool) int64 {
	t.Helper()
	var n int64
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM audit_events").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// withServer is what Write stores: events without a server get server.
func withServer(server string, events []trading.Event) []trading.Event {
	out := slices.Clone(events)
	for i := range out {
		if out[i].Server == "" {
			out[i].Server = server
		}
	}
	return out
}

// allEvents reads the whole history oldest first through History's paging.
func allEvents(t *testing.T, s *Store, q HistoryQuery) []StoredEvent {
	t.Helper()
	var events []StoredEvent
	for {
		page, err := s.History(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, page.Events...)
		if page.NextBeforeID == 0 {
			break
		}
		q.BeforeID = page.NextBeforeID
	}
	slices.Reverse(events)
	return events
}

func sameEvent(a, b trading.Event) bool {
	return a.Key == b.Key && a.Type == b.Type && a.Time.Equal(b.Time) && a.Server == b.Server && a.TxNum == b.TxNum &&
		a.Command == b.Command && a.User == b.User && a.Symbol == b.Symbol && a.Filename == b.Filename &&
		a.Funds.Valid == b.Funds.Valid && a.Funds.Decimal.Equal(b.Funds.Decimal) && a.Action == b.Action &&
		a.Price.Valid == b.Price.Valid && a.Price.Decimal.Equal(b.Price.Decimal) &&
		a.QuoteServerTime == b.QuoteServerTime && a.Cryptokey == b.Cryptokey && a.Message == b.Message
}

func checkStored(t *testing.T, got []StoredEvent, want []trading.Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d events stored, want %d", len(got), len(want))
	}
	for i := range want {
		if !sameEvent(got[i].Event, want[i]) {
			t.Errorf("event %d stored as\n%+v\nwant\n%+v", i, got[i].Event, want[i])
		}
		if i > 0 && got[i].ID <= got[i-1].ID {
			t.Errorf("ids are not in batch order: %d after %d", got[i].ID, got[i-1].ID)
		}
	}
}

func TestWriteIsIdempotent(t *testing.T) {
	s, pool := newTestStore(t)
	ctx := context.Background()
	events := sampleEvents("alice", 1, day1)
	if err := s.Write(ctx, "worker7", events); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, "worker8", events); err != nil { // a retry, from another process
		t.Fatal(err)
	}
	// Duplicates inside one batch are stored once too.
	extra := sampleEvents("bob", 100, day1)[:2]
	if err := s.Write(ctx, "worker7", []trading.Event{extra[0], extra[1], extra[0], events[3]}); err != nil {
		t.Fatal(err)
	}
	want := append(withServer("worker7", events), withServer("worker7", extra)...)
	checkStored(t, allEvents(t, s, HistoryQuery{Limit: MaxHistoryLimit}), want)
	if n := countRows(t, pool); n != int64(len(want)) {
		t.Errorf("%d rows, want %d", n, len(want))
	}
	if events[1].Server != "" {
		t.Error("Write changed the caller's events")
	}
	if err := s.Write(ctx, "w", nil); err != nil {
		t.Errorf("an empty batch: %v", err)
	}
}

func TestWriteRejectsTheWholeBatch(t *testing.T) {
	s, pool := newTestStore(t)
	ctx := context.Background()
	good := sampleEvents("alice", 1, day1)
	for name, c := range invalidEvents() {
		t.Run(name, func(t *testing.T) {
			bad := c.event
			bad.Key = strings.Replace(bad.Key, "k1", "bad", 1)
			batch := slices.Concat(good[:3], []trading.Event{bad}, good[3:])
			err := s.Write(ctx, "w", batch)
			if !errors.Is(err, ErrInvalidEvent) {
				t.Fatalf("Write = %v, want ErrInvalidEvent", err)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("event 4 of %d", len(batch))) || !strings.Contains(err.Error(), c.says) {
				t.Errorf("error %q does not say which event and what is wrong (%q)", err, c.says)
			}
			if n := countRows(t, pool); n != 0 {
				t.Fatalf("%d events were written from a rejected batch", n)
			}
		})
	}
	// Without the bad event the batch is written whole.
	if err := s.Write(ctx, "w", good); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, pool); n != int64(len(good)) {
		t.Fatalf("%d events stored, want %d", n, len(good))
	}
}

func TestHistoryPagingAndFilters(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	alice := sampleEvents("alice", 1, day1)
	bob := sampleEvents("bob", 1000, day1.Add(24*time.Hour))
	// Interleave two batches per user so that ids of one user are not contiguous.
	half := len(alice) / 2
	for _, batch := range [][]trading.Event{alice[:half], bob[:half], alice[half:], bob[half:]} {
		if err := s.Write(ctx, "w", batch); err != nil {
			t.Fatal(err)
		}
	}
	alice, bob = withServer("w", alice), withServer("w", bob)
	byUser := func(events []trading.Event, user string) []trading.Event {
		return slices.DeleteFunc(slices.Clone(events), func(e trading.Event) bool { return e.User != user })
	}

	t.Run("paging one user", func(t *testing.T) {
		want := byUser(alice, "alice")
		var pages [][]StoredEvent
		q := HistoryQuery{User: "alice", Limit: 3}
		for {
			page, err := s.History(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			pages = append(pages, page.Events)
			if page.NextBeforeID == 0 {
				break
			}
			if page.NextBeforeID != page.Events[len(page.Events)-1].ID {
				t.Fatalf("cursor %d is not the last id of the page", page.NextBeforeID)
			}
			q.BeforeID = page.NextBeforeID
		}
		if wantPages := (len(want) + 2) / 3; len(pages) != wantPages {
			t.Fatalf("%d pages, want %d", len(pages), wantPages)
		}
		var got []StoredEvent
		for i, p := range pages {
			if len(p) != 3 && i != len(pages)-1 {
				t.Fatalf("page %d has %d events", i, len(p))
			}
			got = append(got, p...)
		}
		for i := 1; i < len(got); i++ {
			if got[i].ID >= got[i-1].ID {
				t.Fatal("a page is not newest first")
			}
		}
		slices.Reverse(got)
		checkStored(t, got, want)
	})
	t.Run("exactly one page", func(t *testing.T) {
		n := len(byUser(bob, "bob"))
		page, err := s.History(ctx, HistoryQuery{User: "bob", Limit: n})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Events) != n || page.NextBeforeID != 0 {
			t.Fatalf("%d events, cursor %d; want %d and no next page", len(page.Events), page.NextBeforeID, n)
		}
	})
	t.Run("default limit", func(t *testing.T) {
		page, err := s.History(ctx, HistoryQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Events) != len(alice)+len(bob) {
			t.Fatalf("%d events, want all %d", len(page.Events), len(alice)+len(bob))
		}
	})
	filters := []struct {
		name  string
		query HistoryQuery
		want  func(trading.Event) bool
	}{
		{"everyone", HistoryQuery{}, func(trading.Event) bool { return true }},
		{"command", HistoryQuery{Command: trading.Buy}, func(e trading.Event) bool { return e.Command == trading.Buy }},
		{"type", HistoryQuery{Type: trading.ErrorEvent}, func(e trading.Event) bool { return e.Type == trading.ErrorEvent }},
		{"user and type", HistoryQuery{User: "bob", Type: trading.AccountTransactionEvent}, func(e trading.Event) bool {
			return e.User == "bob" && e.Type == trading.AccountTransactionEvent
		}},
		{"user and command", HistoryQuery{User: "alice", Command: trading.DumpLog}, func(e trading.Event) bool {
			return e.User == "alice" && e.Command == trading.DumpLog
		}},
		{"from", HistoryQuery{From: day1.Add(time.Hour)}, func(e trading.Event) bool { return !e.Time.Before(day1.Add(time.Hour)) }},
		{"to", HistoryQuery{To: day1.Add(5 * time.Millisecond)}, func(e trading.Event) bool { return e.Time.Before(day1.Add(5 * time.Millisecond)) }},
		{"from and to", HistoryQuery{From: day1.Add(2 * time.Millisecond), To: day1.Add(24*time.Hour + 3*time.Millisecond)},
			func(e trading.Event) bool {
				return !e.Time.Before(day1.Add(2*time.Millisecond)) && e.Time.Before(day1.Add(24*time.Hour+3*time.Millisecond))
			}},
	}
	for _, f := range filters {
		t.Run(f.name, func(t *testing.T) {
			want := slices.DeleteFunc(slices.Concat(alice[:half], bob[:half], alice[half:], bob[half:]),
				func(e trading.Event) bool { return !f.want(e) })
			if len(want) == 0 {
				t.Fatal("the filter matches nothing: the test would prove nothing")
			}
			q := f.query
			q.Limit = 2 // page through the filtered result too
			checkStored(t, allEvents(t, s, q), want)
		})
	}
	for name, q := range map[string]HistoryQuery{
		"limit too big":   {Limit: MaxHistoryLimit + 1},
		"negative limit":  {Limit: -1},
		"negative cursor": {BeforeID: -1},
		"unknown command": {Command: "SHORT"},
		"unknown type":    {Type: "tradeEvent"},
		"empty range":     {From: day1, To: day1},
	} {
		if _, err := s.History(ctx, q); err == nil {
			t.Errorf("History accepts a query with %s", name)
		}
	}
}

func TestDumpXML(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	alice := sampleEvents("alice", 1, day1)
	bob := sampleEvents("bob", 1000, day1)
	if err := s.Write(ctx, "w", bob[:5]); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, "w", alice); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, "w", bob[5:]); err != nil {
		t.Fatal(err)
	}
	alice, bob = withServer("w", alice), withServer("w", bob)

	t.Run("one user", func(t *testing.T) {
		var buf bytes.Buffer
		n, err := s.DumpXML(ctx, &buf, "alice")
		if err != nil {
			t.Fatal(err)
		}
		want := slices.DeleteFunc(slices.Clone(alice), func(e trading.Event) bool { return e.User != "alice" })
		if n != int64(len(want)) {
			t.Errorf("count %d, want %d", n, len(want))
		}
		checkAgainstSchema(t, buf.Bytes())
		checkRecords(t, parseLog(t, buf.Bytes()), want)
		if strings.Contains(buf.String(), "bob") {
			t.Error("alice's dump contains bob's events")
		}
	})
	t.Run("everyone", func(t *testing.T) {
		var buf bytes.Buffer
		n, err := s.DumpXML(ctx, &buf, "")
		if err != nil {
			t.Fatal(err)
		}
		want := slices.Concat(bob[:5], alice, bob[5:])
		if n != int64(len(want)) {
			t.Errorf("count %d, want %d", n, len(want))
		}
		checkAgainstSchema(t, buf.Bytes())
		checkRecords(t, parseLog(t, buf.Bytes()), want)
	})
	t.Run("nobody", func(t *testing.T) {
		var buf bytes.Buffer
		n, err := s.DumpXML(ctx, &buf, "carol")
		if err != nil || n != 0 {
			t.Fatalf("DumpXML = %d, %v", n, err)
		}
		checkAgainstSchema(t, buf.Bytes())
	})
}

func TestDumpToFile(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	events := sampleEvents("alice", 1, day1)
	if err := s.Write(ctx, "w", events); err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	dir := filepath.Join(base, "dumps", "new") // does not exist yet

	for _, name := range []string{"../x", "/etc/passwd", "a/b", ".hidden", "", ".", "..", "./", "./../x", `a\b`, "./.hidden"} {
		if path, _, err := s.DumpToFile(ctx, dir, name, "alice"); err == nil {
			t.Errorf("DumpToFile accepted %q and wrote %s", name, path)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("a refused dump created the directory (%v)", err)
	}

	path, n, err := s.DumpToFile(ctx, dir, "./testLOG", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "testLOG"); path != want {
		t.Errorf("path %q, want %q", path, want)
	}
	if n != int64(len(slices.DeleteFunc(slices.Clone(events), func(e trading.Event) bool { return e.User != "alice" }))) {
		t.Errorf("count %d", n)
	}
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	checkAgainstSchema(t, doc)
	if len(parseLog(t, doc)) != int(n) {
		t.Error("the file does not hold the counted events")
	}

	// A second dump replaces the first; a symlink in the directory is
	// replaced, never written through.
	outside := filepath.Join(base, "outside")
	if err := os.WriteFile(outside, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "linked")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.DumpToFile(ctx, dir, "linked", ""); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(outside); string(b) != "keep" {
		t.Fatal("the dump was written through a symlink to outside the directory")
	}
	if _, _, err := s.DumpToFile(ctx, dir, "testLOG", ""); err != nil {
		t.Fatal(err)
	}
	doc, _ = os.ReadFile(path)
	if len(parseLog(t, doc)) != len(events) {
		t.Error("the second dump did not replace the first")
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if fmt.Sprint(names) != "[linked testLOG]" {
		t.Errorf("the directory holds %v, want only the dumps (no temporary files)", names)
	}

	// A failed dump leaves neither a file nor a temporary file behind.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := s.DumpToFile(cancelled, dir, "failed", ""); err == nil {
		t.Fatal("a dump with a cancelled context succeeded")
	}
	entries, _ = os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("a failed dump left files behind: %v", entries)
	}
}

func TestListen(t *testing.T) {
	s, pool := newTestStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	notified := make(chan string, 100)
	done := make(chan error, 1)
	go func() { done <- s.Listen(ctx, func(user string) { notified <- user }) }()

	// waitListening waits until the listener's connection is up and returns its pid.
	waitListening := func(notPID int32) int32 {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			var pid int32
			err := pool.QueryRow(ctx, `SELECT pid FROM pg_stat_activity
				WHERE application_name = $1 AND datname = current_database() AND query LIKE 'LISTEN%' AND state = 'idle' AND pid <> $2`,
				ListenerApplicationName, notPID).Scan(&pid)
			if err == nil {
				return pid
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatal("the listener did not connect")
		return 0
	}
	receive := func(n int) []string {
		t.Helper()
		var users []string
		for range n {
			select {
			case u := <-notified:
				users = append(users, u)
			case <-time.After(10 * time.Second):
				t.Fatalf("no notification; got %q so far", users)
			}
		}
		slices.Sort(users)
		return users
	}

	pid := waitListening(0)
	batch := slices.Concat(sampleEvents("alice", 1, day1), sampleEvents("bob", 100, day1))
	if err := s.Write(ctx, "w", batch); err != nil {
		t.Fatal(err)
	}
	if got := receive(3); fmt.Sprint(got) != "[ alice bob]" { // "" for the events of no user
		t.Fatalf("notified %q, want one each for \"\", alice and bob", got)
	}

	// A lost connection (a Postgres restart): the listener reconnects and
	// says "reload everything" with "".
	if _, err := pool.Exec(ctx, "SELECT pg_terminate_backend($1)", pid); err != nil {
		t.Fatal(err)
	}
	if got := receive(1); got[0] != "" {
		t.Fatalf("after reconnecting notified %q, want \"\"", got[0])
	}
	waitListening(pid)

	// Writing only events already stored notifies nobody; the next
	// notification is carol's.
	if err := s.Write(ctx, "w", batch); err != nil {
		t.Fatal(err)
	}
	carol := validEvent()
	carol.Key, carol.User = "carol-1", "carol"
	if err := s.Write(ctx, "w", []trading.Event{carol}); err != nil {
		t.Fatal(err)
	}
	if got := receive(1); got[0] != "carol" {
		t.Fatalf("notified %q, want carol", got[0])
	}

	// A large batch (by COPY) notifies once per user too, and again nobody.
	big := largeBatch("big")
	for range 2 {
		if err := s.Write(ctx, "w", big); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := receive(len(usersOf(big))), usersOf(big); !slices.Equal(got, want) {
		t.Fatalf("a large batch notified %q, want %q", got, want)
	}
	carol.Key = "carol-2"
	if err := s.Write(ctx, "w", []trading.Event{carol}); err != nil {
		t.Fatal(err)
	}
	if got := receive(1); got[0] != "carol" {
		t.Fatalf("after the large batch again notified %q, want carol", got[0])
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Listen returned %v after its context ended", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Listen did not return after its context ended")
	}
}

func TestUserCommandTimes(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	const n = 100_000
	timeOf := func(tx int64) time.Time { return day1.Add(time.Duration(tx) * time.Millisecond) }
	batch := make([]trading.Event, 0, 2000)
	flush := func() {
		if err := s.Write(ctx, "w", batch); err != nil {
			t.Fatal(err)
		}
		batch = batch[:0]
	}
	for tx := int64(1); tx <= n; tx++ {
		batch = append(batch, trading.Event{Key: fmt.Sprint("uc-", tx), Type: trading.UserCommandEvent, Time: timeOf(tx),
			TxNum: tx, Command: trading.DisplaySummary, User: "u"})
		if tx%10 == 0 { // other event types of the same transaction must not count
			batch = append(batch, trading.Event{Key: fmt.Sprint("err-", tx), Type: trading.ErrorEvent, Time: timeOf(tx).Add(time.Hour),
				TxNum: tx, Command: trading.DisplaySummary, User: "u", Message: "x"})
		}
		if len(batch) >= 2000 {
			flush()
		}
	}
	flush()
	// Transactions without a userCommand: an error event only, and none at all.
	if err := s.Write(ctx, "w", []trading.Event{{Key: "lonely", Type: trading.ErrorEvent, Time: day1, TxNum: n + 1, Command: trading.Add}}); err != nil {
		t.Fatal(err)
	}

	wanted := make([]int64, 0, n+3)
	for tx := int64(n + 2); tx >= 1; tx-- {
		wanted = append(wanted, tx)
	}
	wanted = append(wanted, 5) // asked twice
	times, err := s.UserCommandTimes(ctx, wanted)
	if err != nil {
		t.Fatal(err)
	}
	if len(times) != n {
		t.Fatalf("%d times, want %d", len(times), n)
	}
	for _, tx := range []int64{1, 10, 777, n} {
		if !times[tx].Equal(timeOf(tx)) {
			t.Errorf("transaction %d at %v, want %v", tx, times[tx], timeOf(tx))
		}
	}
	if _, ok := times[n+1]; ok {
		t.Error("a transaction without a userCommand has a time")
	}
	if empty, err := s.UserCommandTimes(ctx, nil); err != nil || len(empty) != 0 {
		t.Errorf("no numbers: %v, %v", empty, err)
	}
}

// writeAlternatingCommands stores transactions 1 to n, bob's odd and ann's
// even, each a userCommand at day1 + tx seconds and an errorEvent, and
// returns the last id stored before them.
func writeAlternatingCommands(t *testing.T, s *Store, n int64) int64 {
	t.Helper()
	ctx := context.Background()
	mark, err := s.LastEventID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var events []trading.Event
	for tx := int64(1); tx <= n; tx++ {
		user := []string{"ann", "bob"}[tx%2]
		events = append(events,
			trading.Event{Key: fmt.Sprint("uc-", tx), Type: trading.UserCommandEvent, Time: day1.Add(time.Duration(tx) * time.Second),
				TxNum: tx, Command: trading.DisplaySummary, User: user},
			trading.Event{Key: fmt.Sprint("err-", tx), Type: trading.ErrorEvent, Time: day1, TxNum: tx, Command: trading.DisplaySummary,
				User: user, Message: "x"})
	}
	if err := s.Write(ctx, "w", events); err != nil {
		t.Fatal(err)
	}
	return mark
}

// TestUserCommandsAfter: the records are read forward from a mark, a page at
// a time, userCommands only, each once.
func TestUserCommandsAfter(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	mark := writeAlternatingCommands(t, s, 5)
	var got []CommandTime
	cursor := mark
	for pages := 0; ; pages++ {
		page, err := s.UserCommandsAfter(ctx, cursor, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			if pages != 3 {
				t.Errorf("%d pages of at most 2, want 3", pages)
			}
			break
		}
		got = append(got, page...)
		cursor = page[len(page)-1].ID
	}
	if len(got) != 5 {
		t.Fatalf("%d records, want the 5 userCommands: %+v", len(got), got)
	}
	for i, c := range got {
		tx := int64(i + 1)
		if c.TxNum != tx || c.User != []string{"ann", "bob"}[tx%2] || !c.Time.Equal(day1.Add(time.Duration(tx)*time.Second)) ||
			(i > 0 && c.ID <= got[i-1].ID) {
			t.Errorf("record %d = %+v, want transaction %d in id order", i, c, tx)
		}
	}
}

// TestUserCommandsBetween: one user's userCommand records in an id range,
// in id order; other users', other types and ids outside the range are not.
func TestUserCommandsBetween(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	mark := writeAlternatingCommands(t, s, 6)
	all, err := s.UserCommandsAfter(ctx, mark, 100)
	if err != nil || len(all) != 6 {
		t.Fatalf("UserCommandsAfter = %d records, %v", len(all), err)
	}
	// bob has transactions 1, 3, 5; the range leaves out the first and the last.
	got, err := s.UserCommandsBetween(ctx, "bob", all[0].ID, all[4].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].TxNum != 3 || got[1].TxNum != 5 || got[0].User != "bob" || got[0].ID != all[2].ID ||
		!got[1].Time.Equal(day1.Add(5*time.Second)) {
		t.Errorf("bob's commands after transaction 1 up to 5 = %+v, want 3 and 5", got)
	}
	if none, err := s.UserCommandsBetween(ctx, "carol", mark, all[5].ID); err != nil || len(none) != 0 {
		t.Errorf("a user without commands: %+v, %v", none, err)
	}
}

func TestCountByTypeAndNextTxNum(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	alice := sampleEvents("alice", 1, day1)
	if err := s.Write(ctx, "w", slices.Concat(alice, sampleEvents("bob", 100, day1))); err != nil {
		t.Fatal(err)
	}
	count := func(events []trading.Event, user string) map[trading.EventType]int64 {
		m := map[trading.EventType]int64{}
		for _, e := range events {
			if user == "" || e.User == user {
				m[e.Type]++
			}
		}
		return m
	}
	for _, user := range []string{"alice", "", "nobody"} {
		got, err := s.CountByType(ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		want := count(alice, user)
		if user == "" {
			for k, v := range want {
				want[k] = 2 * v // alice's and bob's samples have the same shape
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("CountByType(%q) = %v, want %v", user, got, want)
		}
	}

	first, err := s.NextTxNum(ctx)
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.NextTxNum(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if first < 1_000_000_000 || second <= first {
		t.Errorf("NextTxNum gave %d then %d", first, second)
	}
}

// TestEachHistoryStreamsEveryMatch: EachHistory yields exactly what paging
// through History yields for the same filters, newest first, across page
// boundaries; fn's error stops the scan; a malformed query reads nothing.
func TestEachHistoryStreamsEveryMatch(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	for i := range 5 { // 70 events per user: more than one default page
		for _, user := range []string{"alice", "bob"} {
			if err := s.Write(ctx, "w", sampleEvents(user, int64(1+100*i), day1.Add(time.Duration(i)*time.Hour))); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, q := range map[string]HistoryQuery{
		"one user":          {User: "alice"},
		"type and command":  {User: "bob", Type: trading.ErrorEvent, Command: trading.DumpLog},
		"from and to":       {User: "alice", From: day1.Add(time.Hour), To: day1.Add(3 * time.Hour)},
		"everyone, limited": {Limit: 3},
	} {
		t.Run(name, func(t *testing.T) {
			want := allEvents(t, s, HistoryQuery{User: q.User, Type: q.Type, Command: q.Command, From: q.From, To: q.To})
			slices.Reverse(want) // newest first, as EachHistory streams
			var got []StoredEvent
			if err := s.EachHistory(ctx, q, func(ev StoredEvent) error { got = append(got, ev); return nil }); err != nil {
				t.Fatal(err)
			}
			if len(want) == 0 {
				t.Fatal("the filter matches nothing: the comparison would be vacuous")
			}
			if len(got) != len(want) {
				t.Fatalf("streamed %d events, paging finds %d", len(got), len(want))
			}
			for i := range want {
				if got[i].ID != want[i].ID || !sameEvent(got[i].Event, want[i].Event) {
					t.Errorf("event %d: streamed %+v, paging found %+v", i, got[i], want[i])
				}
			}
		})
	}
	stop := errors.New("enough")
	n := 0
	err := s.EachHistory(ctx, HistoryQuery{}, func(StoredEvent) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("fn's error: EachHistory = %v after %d events, want %v after 1", err, n, stop)
	}
	if err := s.EachHistory(ctx, HistoryQuery{Type: "nope"}, func(StoredEvent) error { n++; return nil }); err == nil || n != 1 {
		t.Errorf("a malformed query: %v after %d more events, want an error and none", err, n-1)
	}
}

// TestListenReady: once ready is called, LISTEN is in effect, so a write
// made at that very moment is notified (the workload runner times a run's
// end by these notifications); ready is not called again on a reconnect.
func TestListenReady(t *testing.T) {
	s, pool := newTestStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	notified := make(chan string, 100)
	ready := make(chan struct{}, 10)
	done := make(chan error, 1)
	go func() {
		done <- s.ListenReady(ctx, func() { ready <- struct{}{} }, func(user string) { notified <- user })
	}()
	receive := func() string {
		t.Helper()
		select {
		case u := <-notified:
			return u
		case <-time.After(10 * time.Second):
			t.Fatal("no notification")
			return ""
		}
	}
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("ready was never called")
	}
	dave := validEvent()
	dave.Key, dave.User = "dave-1", "dave"
	if err := s.Write(ctx, "w", []trading.Event{dave}); err != nil {
		t.Fatal(err)
	}
	if got := receive(); got != "dave" {
		t.Fatalf("notified %q, want dave", got)
	}
	// A reconnect says "reload" with "", and is not a second ready.
	if _, err := pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = $1 AND datname = current_database()`, ListenerApplicationName); err != nil {
		t.Fatal(err)
	}
	if got := receive(); got != "" {
		t.Fatalf("after reconnecting notified %q, want \"\"", got)
	}
	if n := len(ready); n != 0 {
		t.Errorf("ready called %d more times after a reconnect, want once in all", n)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("ListenReady returned %v after its context ended", err)
	}
}

// TestTradersActive: a trader's command (an interactive transaction
// number) audited in the last 30 s says traders trade; a workload's command
// or a trader's older one does not. The question reads the partial index
// of traders' commands, which the workload's inserts do not touch.
func TestTradersActive(t *testing.T) {
	s, pool := newTestStore(t)
	ctx := context.Background()
	command := func(key string, tx int64, at time.Time) trading.Event {
		return trading.Event{Key: key, Type: trading.UserCommandEvent, Time: at, TxNum: tx, Command: trading.QuoteCmd, User: "trader", Symbol: "ABC"}
	}
	check := func(when string, want bool) {
		t.Helper()
		if got, err := s.TradersActive(ctx); err != nil || got != want {
			t.Errorf("%s: TradersActive %v, %v; want %v", when, got, err, want)
		}
	}
	check("nothing audited", false)
	now := time.Now()
	if err := s.Write(ctx, "w", []trading.Event{command("tw/1", 7, now)}); err != nil {
		t.Fatal(err)
	}
	check("a workload's command just now", false)
	if err := s.Write(ctx, "w", []trading.Event{command("tw/2", FirstInteractiveTxNum+1, now.Add(-TraderActivity-5*time.Second))}); err != nil {
		t.Fatal(err)
	}
	check("a trader's command 35 s ago", false)
	if err := s.Write(ctx, "w", []trading.Event{command("tw/3", FirstInteractiveTxNum+2, now)}); err != nil {
		t.Fatal(err)
	}
	check("a trader's command just now", true)

	rows, err := pool.Query(ctx, `EXPLAIN SELECT ts FROM audit_events WHERE event_type = 'userCommand' AND tx_num >= 1000000000 ORDER BY id DESC LIMIT 1`)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if plan := strings.Join(lines, "\n"); err != nil || !strings.Contains(plan, "audit_events_interactive_commands") {
		t.Errorf("plan %q does not read the partial index", plan)
	}
}
