package workloads

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/activities"
	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/internal/stack"
	"github.com/daytradinginc/daytrader/internal/stacktest"
	"github.com/daytradinginc/daytrader/internal/testenv"
	"github.com/daytradinginc/daytrader/trading"
	"github.com/daytradinginc/daytrader/workflows"
)

// startStack brings the whole stack up in the test process: embedded
// Temporal on free ports, a fresh database, the quote emulator without its
// legacy latency, and a worker. Re-sent commands make the workflows warn
// once each, hence the quieter log level.
func startStack(t *testing.T) *stack.Dev {
	return stacktest.Start(t, stacktest.Options{LogLevel: "error"})
}

// TestRunAgainstTheStack runs workloads through one real stack (starting
// it is the slow part, so the cases share it and run in order).
func TestRunAgainstTheStack(t *testing.T) {
	shared := testenv.SharedDir(t)
	xsd := filepath.Join(shared, "spec", "logfile.xsd")
	dev := startStack(t)
	accounts := workflows.NewAccounts(dev.Client)
	accounts.TaskQueue = dev.Config.TaskQueue
	store := audit.NewStore(dev.DB)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	run := func(t *testing.T, wl *Workload, opts RunOptions) *Report {
		t.Helper()
		mark, err := store.LastEventID(ctx)
		if err != nil {
			t.Fatal(err)
		}
		opts.ValidateXSD = xsd
		opts.PollInterval = 100 * time.Millisecond
		var progress bytes.Buffer
		opts.Progress = &progress
		opts.ProgressEvery = time.Millisecond
		var counted, countedOf int64 // Counted runs on Run's goroutine, done when Run returns
		opts.Counted = func(processed, total int64) {
			if processed < counted {
				t.Errorf("Counted: %d processed after %d", processed, counted)
			}
			counted, countedOf = processed, total
		}
		rep, err := Run(ctx, wl, accounts, store, opts)
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		if counted != rep.Commands || countedOf != rep.Commands {
			t.Errorf("Counted last told %d of %d processed, want %d of %d", counted, countedOf, rep.Commands, rep.Commands)
		}
		checkReport(t, dev, store, mark, wl, rep, opts.BatchSize)
		if !strings.Contains(progress.String(), fmt.Sprintf("processed %d/%d", rep.Commands, rep.Commands)) {
			t.Errorf("the progress lines never show every command processed:\n%s", progress.String())
		}
		return rep
	}

	var oneUser *Workload
	t.Run("1userWorkLoad", func(t *testing.T) {
		wl, perrs, err := ParseFile(filepath.Join(shared, "workloads", "1userWorkLoad"), true)
		if err != nil || len(perrs) != 0 {
			t.Fatalf("parsing: %v %v", err, perrs)
		}
		oneUser = wl
		rep := run(t, wl, RunOptions{BatchSize: 7, Concurrency: 4})
		if rep.Batches != 15 { // 99 commands, 7 a batch
			t.Errorf("batches = %d, want 15", rep.Batches)
		}
		if rep.LegacyQuoteHits == 0 {
			t.Error("no legacy quote hits, yet the file QUOTEs, BUYs and SELLs")
		}

		var text bytes.Buffer
		if err := rep.WriteText(&text); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"processed  99 in", "; valid (xmllint", "COMMIT_BUY", "all", "legacy quote server hits"} {
			if !strings.Contains(text.String(), want) {
				t.Errorf("the text report lacks %q:\n%s", want, text.String())
			}
		}
		var back Report
		raw, err := json.Marshal(rep)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &back); err != nil {
			t.Fatal(err)
		}
		if back.Processed != 99 || len(back.ByCommand) != len(rep.ByCommand) || back.Dumps[0].Valid == nil || !*back.Dumps[0].Valid {
			t.Errorf("the JSON report does not round-trip: %s", raw)
		}
	})

	t.Run("generated", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "generated")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		// 401 lines: the DUMPLOG's transaction number is not the 1-user file's.
		if err := Generate(f, GenOptions{Users: 6, Lines: 401, Seed: 7}); err != nil {
			t.Fatal(err)
		}
		f.Close()
		wl, perrs, err := ParseFile(path, true)
		if err != nil || len(perrs) != 0 {
			t.Fatalf("parsing: %v %v", err, perrs)
		}
		rep := run(t, wl, RunOptions{BatchSize: 25, Concurrency: 3})
		if rep.Users != 6 || rep.Commands != 400 {
			t.Errorf("report of %d users and %d commands, want 6 and 400", rep.Users, rep.Commands)
		}
		if rep.All.Errors == 0 || len(rep.Errors) == 0 {
			t.Error("a generated workload draws commands independently, so some must fail; the report has no errors")
		}
	})

	t.Run("bad user ids", func(t *testing.T) {
		// One line with a user id no account can have must not stop the
		// rest: it is reported, audited as an errorEvent without a
		// username, and the DUMPLOG holding it stays valid.
		path := filepath.Join(t.TempDir(), "hostile")
		text := "[1] ADD,hostileRunGood,100\n[2] ADD,b\u00f6b,10\n[3] QUOTE,hostileRunGood,ABC\n[4] ADD,bad\x01,5\n[5] DUMPLOG,./hostile\n"
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		wl, perrs, err := ParseFile(path, false)
		if err != nil || len(perrs) != 2 {
			t.Fatalf("parsing: %v, %d malformed lines, want 2", err, len(perrs))
		}
		rep := run(t, wl, RunOptions{ParseErrors: perrs, BatchSize: 200})
		if len(rep.ParseErrors) != 2 {
			t.Errorf("the report lists %d malformed lines, want 2", len(rep.ParseErrors))
		}
		var audited int
		if err := dev.DB.QueryRow(ctx, `SELECT count(*) FROM audit_events
			WHERE event_type = 'errorEvent' AND username IS NULL AND tx_num IN (2, 4) AND message LIKE '%bad user id%'`).Scan(&audited); err != nil {
			t.Fatal(err)
		}
		if audited != 2 {
			t.Errorf("%d errorEvents for the two bad lines, want 2", audited)
		}
	})

	t.Run("rerun is refused", func(t *testing.T) {
		if oneUser == nil {
			t.Skip("the 1userWorkLoad case did not run")
		}
		// The account has seen these transaction numbers: it ignores them,
		// so nothing is processed and the run must say why instead of hanging.
		// Refused before anything is sent: no stall timeout to wait out.
		_, err := Run(ctx, oneUser, accounts, store, RunOptions{StallTimeout: time.Hour, PollInterval: 100 * time.Millisecond})
		if !errors.Is(err, ErrAlreadyProcessed) {
			t.Fatalf("a second run of the same file on the same stack: %v, want it refused as already processed", err)
		}
		for _, want := range []string{"transaction 1 of user oY01WVirLr", "duplicate transaction numbers", "--embedded"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
		}
	})
}

// checkReport compares a report with what the audit history holds.
func checkReport(t *testing.T, dev *stack.Dev, store *audit.Store, mark int64, wl *Workload, rep *Report, batchSize int) {
	t.Helper()
	ctx := context.Background()
	var total int64
	for _, u := range wl.Users {
		total += int64(len(wl.ByUser[u]))
	}
	if rep.Commands != total || rep.Sent != total || rep.Processed != total {
		t.Errorf("commands %d, sent %d, processed %d; want %d each", rep.Commands, rep.Sent, rep.Processed, total)
	}
	if rep.Users != len(wl.Users) || rep.BatchSize != batchSize {
		t.Errorf("report of %d users, batch %d; want %d, %d", rep.Users, rep.BatchSize, len(wl.Users), batchSize)
	}
	if rep.WallSeconds <= 0 || rep.CommandsPerSecond <= 0 || rep.SendSeconds > rep.WallSeconds {
		t.Errorf("wall %.3f s, send %.3f s, %.1f commands/s", rep.WallSeconds, rep.SendSeconds, rep.CommandsPerSecond)
	}

	// Every command was processed exactly once, each user's in file order,
	// and the global DUMPLOG recorded itself.
	counts, err := store.CountSince(ctx, mark)
	if err != nil {
		t.Fatal(err)
	}
	if got := counts[trading.UserCommandEvent]; got != total+1 {
		t.Errorf("%d userCommand records, want %d (one per command + the global DUMPLOG)", got, total+1)
	}
	for _, u := range wl.Users {
		rows, err := dev.DB.Query(ctx, `SELECT tx_num FROM audit_events
WHERE id > $1 AND event_type = 'userCommand' AND username = $2 ORDER BY id`, mark, u)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for rows.Next() {
			var tx int64
			if err := rows.Scan(&tx); err != nil {
				t.Fatal(err)
			}
			got = append(got, tx)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		var want []int64
		for _, c := range wl.ByUser[u] {
			want = append(want, c.TxNum)
		}
		if !slices.Equal(got, want) {
			t.Errorf("user %s: userCommand records for transactions %v, want once each in file order %v", u, got, want)
		}
	}

	// The global DUMPLOG holds the whole history and is valid.
	if len(rep.Dumps) != 1 {
		t.Fatalf("%d DUMPLOG reports, want 1", len(rep.Dumps))
	}
	d := rep.Dumps[0]
	if d.Error != "" || d.Valid == nil || !*d.Valid {
		t.Fatalf("DUMPLOG: error %q, valid %v: %s", d.Error, d.Valid, d.Validation)
	}
	// Trigger executions may add records after the dump, but every
	// userCommand record (the DUMPLOG's own included) came before it.
	all, err := store.CountSince(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var stored int64
	for _, n := range all {
		stored += n
	}
	if d.Records > stored || d.Records < all[trading.UserCommandEvent] {
		t.Errorf("the dump holds %d records; the history has %d, of them %d userCommand", d.Records, stored, all[trading.UserCommandEvent])
	}
	xml, err := os.ReadFile(d.Path)
	if err != nil {
		t.Fatal(err)
	}
	if n := int64(bytes.Count(xml, []byte("<userCommand>"))); n != all[trading.UserCommandEvent] {
		t.Errorf("the dump has %d userCommand records, the history %d", n, all[trading.UserCommandEvent])
	}
	if fi, err := os.Stat(d.Path); err != nil || fi.Size() == 0 {
		t.Errorf("the dump file %s: %v", d.Path, err)
	}
	if g := wl.Global[0].Cmd; d.TxNum != g.TxNum || d.Filename != g.Filename {
		t.Errorf("dumped [%d] %s, the file says [%d] %s", d.TxNum, d.Filename, g.TxNum, g.Filename)
	}

	// Counts, errors and latencies per command type.
	if rep.LegacyQuoteHits != counts[trading.QuoteServerEvent] {
		t.Errorf("legacy quote hits %d, the history has %d quoteServer records", rep.LegacyQuoteHits, counts[trading.QuoteServerEvent])
	}
	// Lines refused for their user id are audited (errorEvents) but listed
	// with the malformed lines, not among the commands' errors.
	var refused int64
	for _, pe := range rep.ParseErrors {
		if strings.Contains(pe.Error, ErrBadUser.Error()) {
			refused++
		}
	}
	if rep.All.Errors != counts[trading.ErrorEvent]-refused {
		t.Errorf("%d errors reported, the history has %d errorEvents (%d of them for refused lines)", rep.All.Errors, counts[trading.ErrorEvent], refused)
	}
	var grouped int64
	for _, g := range rep.Errors {
		grouped += g.Count
		if g.Example == "" || g.Pattern == "" {
			t.Errorf("error group without a message: %+v", g)
		}
	}
	if grouped != rep.All.Errors {
		t.Errorf("error groups add up to %d, want %d", grouped, rep.All.Errors)
	}
	perName := map[trading.CommandName]int64{}
	for _, u := range wl.Users {
		for _, c := range wl.ByUser[u] {
			perName[c.Name]++
		}
	}
	if len(rep.ByCommand) != len(perName) {
		t.Errorf("%d command rows, the workload has %d command names", len(rep.ByCommand), len(perName))
	}
	var sumErrors int64
	for _, s := range rep.ByCommand {
		sumErrors += s.Errors
		l := s.Latency
		if s.Count != perName[s.Command] || int64(l.Samples) != s.Count {
			t.Errorf("%s: count %d, latency samples %d; the workload has %d", s.Command, s.Count, l.Samples, perName[s.Command])
		}
		if l.P50Ms < 0 || l.P50Ms > l.P95Ms || l.P95Ms > l.P99Ms || l.P99Ms > l.MaxMs {
			t.Errorf("%s: percentiles out of order: %+v", s.Command, l)
		}
	}
	if sumErrors != rep.All.Errors || rep.All.Count != total || int64(rep.All.Latency.Samples) != total {
		t.Errorf("the all row %+v does not add up (errors by command %d, commands %d)", rep.All, sumErrors, total)
	}
}

// fakeAccounts records what Run sends; it fails the send of failUser.
type fakeAccounts struct {
	mu       sync.Mutex
	batches  map[string][][]trading.Command
	failUser string
}

func (f *fakeAccounts) Send(ctx context.Context, user string, cmds []trading.Command) error {
	if user == f.failUser {
		return errors.New("frontend unavailable")
	}
	if !trading.ValidUser(user) { // as workflows.Accounts: no account can have it
		return fmt.Errorf("invalid user id %q", user)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.batches == nil {
		f.batches = map[string][][]trading.Command{}
	}
	f.batches[user] = append(f.batches[user], slices.Clone(cmds))
	return nil
}

func (f *fakeAccounts) RunGlobalDumpLog(ctx context.Context, txNum int64, filename string) (activities.DumpResult, error) {
	return activities.DumpResult{}, fmt.Errorf("no dump directory for %s", filename)
}

func (f *fakeAccounts) sentCount() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	var n int64
	for _, bs := range f.batches {
		for _, b := range bs {
			n += int64(len(b))
		}
	}
	return n
}

// instantAudit is a history in which every sent command is processed at once.
type instantAudit struct {
	idleAudit
	sender *fakeAccounts
}

// CountUserCommandsAfter numbers the sent commands 1, 2, ... as their ids.
func (a instantAudit) CountUserCommandsAfter(_ context.Context, afterID int64) (int64, int64, error) {
	sent := a.sender.sentCount()
	return max(sent-afterID, 0), max(sent, afterID), nil
}

func (a instantAudit) CountSince(context.Context, int64) (map[trading.EventType]int64, error) {
	return map[trading.EventType]int64{trading.UserCommandEvent: a.sender.sentCount()}, nil
}

// idleAudit is a history in which nothing ever happens.
type idleAudit struct{}

func (idleAudit) LastEventID(context.Context) (int64, error) { return 0, nil }
func (idleAudit) CountUserCommandsAfter(_ context.Context, afterID int64) (int64, int64, error) {
	return 0, afterID, nil
}
func (idleAudit) CountSince(context.Context, int64) (map[trading.EventType]int64, error) {
	return map[trading.EventType]int64{}, nil
}
func (idleAudit) UserCommandsAfter(context.Context, int64, int) ([]audit.CommandTime, error) {
	return nil, nil
}
func (idleAudit) UserCommandsBetween(context.Context, string, int64, int64) ([]audit.CommandTime, error) {
	return nil, nil
}
func (idleAudit) ErrorCounts(context.Context, int64, []string) ([]audit.ErrorCount, error) {
	return nil, nil
}
func (idleAudit) ProcessedCommands(context.Context, []audit.UserTxNum, int) ([]audit.UserTxNum, error) {
	return nil, nil
}
func (idleAudit) Write(context.Context, string, []trading.Event) error { return nil }

// recordingAudit is an instantAudit that keeps the events Run writes.
type recordingAudit struct {
	instantAudit
	mu      sync.Mutex
	written []trading.Event
}

func (a *recordingAudit) Write(_ context.Context, _ string, events []trading.Event) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.written = append(a.written, events...)
	return nil
}

func parseString(t *testing.T, text string) *Workload {
	t.Helper()
	path := filepath.Join(t.TempDir(), "workload")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	wl, perrs, err := ParseFile(path, true)
	if err != nil || len(perrs) > 0 {
		t.Fatalf("parsing: %v %v", err, perrs)
	}
	return wl
}

func TestRunRefusesBadInputBeforeSending(t *testing.T) {
	ctx := context.Background()
	t.Run("duplicate transaction numbers", func(t *testing.T) {
		wl := parseString(t, "[1] ADD,alice,100\n[2] ADD,bob,100\n[1] QUOTE,bob,ABC\n[3] DUMPLOG,./log\n")
		sender := &fakeAccounts{}
		_, err := Run(ctx, wl, sender, idleAudit{}, RunOptions{})
		if err == nil || !strings.Contains(err.Error(), "line 3: transaction number 1 is already used on line 1") {
			t.Errorf("Run = %v, want the duplicate named", err)
		}
		if len(sender.batches) != 0 {
			t.Errorf("commands were sent: %v", sender.batches)
		}
	})
	t.Run("a failed send", func(t *testing.T) {
		wl := parseString(t, "[1] ADD,alice,100\n[2] ADD,bob,100\n[3] QUOTE,bob,ABC\n[4] DUMPLOG,./log\n")
		_, err := Run(ctx, wl, &fakeAccounts{failUser: "bob"}, idleAudit{}, RunOptions{PollInterval: 10 * time.Millisecond})
		if err == nil || !strings.Contains(err.Error(), "user bob (transactions 2 to 3): frontend unavailable") {
			t.Errorf("Run = %v, want the failed send named", err)
		}
	})
}

func TestRunReportsLinesItCannotRun(t *testing.T) {
	rep, sender, _, err := runLenient(t, "[1] ADD,alice,100\n[2] BOGUS,alice\n[3] ADD,,100\n[4] QUOTE,alice,ABC\n[5] DUMPLOG,./log\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := sender.batches["alice"]; len(got) != 1 || len(got[0]) != 2 || got[0][0].TxNum != 1 || got[0][1].TxNum != 4 {
		t.Errorf("alice's batches: %v, want one of transactions 1 and 4", got)
	}
	if rep.Processed != 2 || len(rep.ParseErrors) != 1 || rep.ParseErrors[0].Line != 2 {
		t.Errorf("processed %d, parse errors %+v; want 2 and line 2", rep.Processed, rep.ParseErrors)
	}
	if len(rep.Skipped) != 1 || rep.Skipped[0].Line != 3 || !strings.Contains(rep.Skipped[0].Error, "empty user id") {
		t.Errorf("skipped %+v, want line 3 for its empty user id", rep.Skipped)
	}
	if len(rep.Dumps) != 1 || rep.Dumps[0].Error != "no dump directory for ./log" || rep.Dumps[0].Valid != nil {
		t.Errorf("dumps %+v, want the failed DUMPLOG of line 5", rep.Dumps)
	}
	var out bytes.Buffer
	if err := rep.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"FAILED after", "line 2: unknown command \"BOGUS\"", "line 3: ADD has an empty user id"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the text report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestMessagePattern(t *testing.T) {
	users := map[string]bool{"oY01WVirLr": true}
	for msg, want := range map[string]string{
		"not enough cash to buy $12.50 of ABC: you have $3.00":        "not enough cash to buy $N of SYM: you have $N",
		"no pending buy to commit (a BUY is valid for 60 s)":          "no pending buy to commit (a BUY is valid for N s)",
		"account oY01WVirLr does not exist yet: ADD money to open it": "account USER does not exist yet: ADD money to open it",
		"selling $5 of S at $1.25 needs 4 shares: you hold 0":         "selling $N of SYM at $N needs N shares: you hold N",
		"no sell order for QQ to cancel":                              "no sell order for SYM to cancel",
		"unknown command \"FOO_BAR\"":                                 "unknown command \"FOO_BAR\"",
	} {
		if got := MessagePattern(msg, users); got != want {
			t.Errorf("MessagePattern(%q) = %q, want %q", msg, got, want)
		}
	}
	groups := groupErrors([]audit.ErrorCount{
		{Command: trading.Buy, Message: "not enough cash to buy $1.00 of A: you have $0.50", Count: 5},
		{Command: trading.Sell, Message: "you hold no free shares of B to sell", Count: 4},
		{Command: trading.Buy, Message: "not enough cash to buy $9.00 of B: you have $1.00", Count: 3},
	}, nil)
	want := []ErrorGroup{
		{Command: trading.Buy, Pattern: "not enough cash to buy $N of SYM: you have $N", Count: 8,
			Example: "not enough cash to buy $1.00 of A: you have $0.50"},
		{Command: trading.Sell, Pattern: "you hold no free shares of SYM to sell", Count: 4, Example: "you hold no free shares of B to sell"},
	}
	if !slices.Equal(groups, want) {
		t.Errorf("groupErrors = %+v\nwant %+v", groups, want)
	}
}

func TestHistogramPercentiles(t *testing.T) {
	latency := func(ds ...time.Duration) Latency {
		var h histogram
		for _, d := range ds {
			h.add(d)
		}
		return h.latency()
	}
	var ds []time.Duration
	for i := 100; i >= 1; i-- { // order does not matter
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	if l := latency(ds...); l.Samples != 100 || l.P50Ms != 50 || l.P95Ms != 95 || l.P99Ms != 99 || l.MaxMs != 100 {
		t.Errorf("latency(1..100 ms) = %+v", l)
	}
	if one := latency(7 * time.Millisecond); one.P50Ms != 7 || one.P99Ms != 7 || one.MaxMs != 7 {
		t.Errorf("latency(7 ms) = %+v", one)
	}
	if none := latency(); none != (Latency{}) {
		t.Errorf("latency(nothing) = %+v", none)
	}
	// Below a second, exact to 0.1 ms; above it, four significant digits
	// (the bucket's lower bound), the maximum exact.
	if l := latency(123456789*time.Nanosecond, 81723812*time.Microsecond); l.P50Ms != 123.4 || l.P99Ms != 81720 || l.MaxMs != 81723.812 {
		t.Errorf("latency(123.456789 ms, 81723.812 ms) = %+v", l)
	}
	// Merging two histograms is the histogram of both.
	var a, b histogram
	a.add(time.Second)
	b.add(3 * time.Second)
	b.add(2 * time.Second)
	a.merge(&b)
	if l := a.latency(); l.Samples != 3 || l.P50Ms != 2000 || l.MaxMs != 3000 {
		t.Errorf("merged = %+v", l)
	}
}

// A signal of the default size is one account batch: a bigger one would be
// split by the account anyway, and the audit payload bound is per batch.
func TestDefaultBatchIsOneAccountBatch(t *testing.T) {
	if DefaultBatchSize != workflows.MaxBatchCommands {
		t.Errorf("DefaultBatchSize %d, workflows.MaxBatchCommands %d: want them equal", DefaultBatchSize, workflows.MaxBatchCommands)
	}
}
