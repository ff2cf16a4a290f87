package workloads

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/trading"
)

// TestPlanHoldsNothingPerCommand: planning twice as many commands of the
// same users, numbered in order, allocates no more. The plan used to keep
// every transaction number (8 bytes a line, and the slice's growth) to
// sort them for repeats: 4.3 MB more for the longer stream here.
func TestPlanHoldsNothingPerCommand(t *testing.T) {
	users := []string{"ann", "bob", "cy"}
	commands := func(n int) func(func(Line) error) error {
		return func(fn func(Line) error) error {
			for i := range n {
				c := trading.Command{TxNum: int64(i + 1), Name: trading.Add, User: users[i%len(users)], Amount: "1.00"}
				if err := fn(Line{LineNo: i + 1, Cmd: c}); err != nil {
					return err
				}
			}
			return nil
		}
	}
	allocated := func(n int) uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		p, err := newPlan(commands(n))
		runtime.ReadMemStats(&after)
		if err != nil || p.total != int64(n) || len(p.users) != len(users) {
			t.Fatalf("plan of %d commands: %v, %+v", n, err, p)
		}
		return after.TotalAlloc - before.TotalAlloc
	}
	allocated(1000) // the first call's one-off allocations aside
	short, long := allocated(100_000), allocated(200_000)
	if long > short+4096 {
		t.Errorf("planning 100,000 commands allocated %d bytes, 200,000 %d: the plan holds something per command", short, long)
	}
}

// TestPlanFindsRepeatedNumbersOutOfOrder: numbers out of order are fine
// when none repeats; a repeat is named wherever it comes, also when the
// number it repeats was the highest so far.
func TestPlanFindsRepeatedNumbersOutOfOrder(t *testing.T) {
	open := func(text string) error {
		path := filepath.Join(t.TempDir(), "workload")
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err := OpenFile(path, true)
		return err
	}
	if err := open("[3] ADD,ann,1\n[1] ADD,bob,1\n[2] QUOTE,ann,X\n[4] DUMPLOG,./log\n"); err != nil {
		t.Errorf("unique numbers out of order: %v", err)
	}
	for text, want := range map[string]string{
		"[5] ADD,ann,1\n[3] ADD,bob,1\n[5] QUOTE,bob,X\n":                  "line 3: transaction number 5 is already used on line 1",
		"[2] ADD,ann,1\n[9] ADD,bob,1\n[4] QUOTE,bob,X\n[2] QUOTE,ann,Y\n": "line 4: transaction number 2 is already used on line 1",
		"[1] ADD,ann,1\n[1] ADD,bob,1\n":                                   "line 2: transaction number 1 is already used on line 1",
	} {
		if err := open(text); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", text, err, want)
		}
	}
}

// TestPackedBatchKeepsEveryField: a batch unpacks to the commands packed,
// every field of trading.Command included (a field added there must be
// packed too: this test lists them).
func TestPackedBatchKeepsEveryField(t *testing.T) {
	var fields []string
	for i := range reflect.TypeFor[trading.Command]().NumField() {
		fields = append(fields, reflect.TypeFor[trading.Command]().Field(i).Name)
	}
	if want := []string{"TxNum", "Name", "User", "Symbol", "Amount", "Price", "Filename"}; !slices.Equal(fields, want) {
		t.Fatalf("trading.Command has the fields %v; packedBatch packs %v", fields, want)
	}
	cmds := []trading.Command{
		{TxNum: 1, Name: trading.Add, User: "ann", Amount: "100.00"},
		{TxNum: 1 << 40, Name: trading.SetSellTrigger, User: "ann", Symbol: "ABC", Price: "12.50"},
		{TxNum: 7, Name: trading.DumpLog, User: "ann", Filename: strings.Repeat("f", 300)},
		{TxNum: 8, Name: "NOT_A_COMMAND", User: "ann", Symbol: "Z", Amount: "1", Price: "2", Filename: "x"},
		{TxNum: 9, Name: trading.DisplaySummary, User: "ann"},
	}
	b := newPackedBatch(3, 2)
	for _, c := range cmds {
		b.add(c)
	}
	if got := b.commands("ann", make([]trading.Command, 0, 2)); !slices.Equal(got, cmds) {
		t.Errorf("unpacked %+v\nwant %+v", got, cmds)
	}
	if b.n != len(cmds) || b.first != 3 {
		t.Errorf("n %d, first %d", b.n, b.first)
	}
}

// lateAccounts is a windowedAccounts whose history commits some records
// late: the first read that reaches one of them passes over it (a record
// with a lower id committed after the read), later reads see it.
type lateAccounts struct {
	*windowedAccounts
	passedOver map[int64]bool
}

func isLate(id int64) bool { return id%9 == 4 }

func (l *lateAccounts) UserCommandsAfter(_ context.Context, afterID int64, limit int) ([]audit.CommandTime, error) {
	w := l.windowedAccounts
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []audit.CommandTime
	for _, r := range w.order[min(afterID, w.processed):w.processed] {
		if len(out) == limit {
			break
		}
		if isLate(r.ID) && !l.passedOver[r.ID] {
			l.passedOver[r.ID] = true
			continue
		}
		r.Time = time.Now()
		out = append(out, r)
	}
	return out, nil
}

func (l *lateAccounts) UserCommandsBetween(_ context.Context, user string, afterID, upToID int64) ([]audit.CommandTime, error) {
	w := l.windowedAccounts
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []audit.CommandTime
	for _, r := range w.order[min(afterID, w.processed):min(upToID, w.processed)] {
		if r.User == user {
			r.Time = time.Now()
			out = append(out, r)
		}
	}
	return out, nil
}

// readAheadBound is the most commands the sender holds at once: the queued
// ones (the semaphore) and, beside them, a batch at most for each user of
// the largest group. It depends on the options and the users, never on how
// many commands the workload has.
func (b *batchSender) readAheadBound() int64 {
	return readAhead(b.opts) + int64(b.plan.mostInAPass(b.passBudget())*b.opts.BatchSize)
}

// mostInAPass is the number of users of the largest group passes(budget)
// makes.
func (p *plan) mostInAPass(budget int64) int {
	most := 0
	for _, g := range p.passes(budget) {
		if g == nil {
			return len(p.users)
		}
		most = max(most, len(g))
	}
	return most
}

// TestRunHoldsNoMoreForALongerFile: a generated file twice as long, with
// the same users and options, needs no more of the starter's two
// structures that hold commands: those read ahead of sending (batches
// being filled and queued) stay within readAheadBound, which the options
// and the users make, and those awaiting their audit record within the
// window and a command per user, although a ninth of the records are
// committed late and passed over by the forward read. (Those used to wait
// until the run's end: a ninth of the file.)
func TestRunHoldsNoMoreForALongerFile(t *testing.T) {
	const users, window = 20, 500
	opts := RunOptions{BatchSize: 50, Concurrency: 4, Window: window, PollInterval: time.Millisecond}
	for _, lines := range []int{4000, 8000} {
		path := filepath.Join(t.TempDir(), "workload")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := Generate(f, GenOptions{Users: users, Lines: lines, Seed: 5}); err != nil {
			t.Fatal(err)
		}
		f.Close()
		wl, perrs, err := OpenFile(path, true)
		if err != nil || len(perrs) > 0 {
			t.Fatalf("OpenFile: %v %v", err, perrs)
		}
		acc := &lateAccounts{windowedAccounts: &windowedAccounts{t: t, window: window, perPoll: 150}, passedOver: map[int64]bool{}}
		rep, err := Run(context.Background(), wl, acc, acc, opts)
		if err != nil {
			t.Fatal(err)
		}
		total := int64(lines - 1) // the DUMPLOG aside
		if rep.Processed != total || int64(rep.All.Latency.Samples) != total || len(acc.passedOver) < int(total)/10 {
			t.Fatalf("%d lines: processed %d, latencies %d, passed over %d", lines, rep.Processed, rep.All.Latency.Samples, len(acc.passedOver))
		}
		b := newBatchSender(wl.p, nil, opts.withDefaults(), nil)
		heldBound := readAhead(opts.withDefaults()) + int64(users*opts.BatchSize) // every user in one group at most
		if rep.MostReadAhead > b.readAheadBound() || b.readAheadBound() > heldBound || rep.MostReadAhead < int64(opts.BatchSize) {
			t.Errorf("%d lines: at most %d commands read ahead; bound %d (at most %d for %d users)",
				lines, rep.MostReadAhead, b.readAheadBound(), heldBound, users)
		}
		if rep.MostAwaitingAudit > window+users || rep.MostAwaitingAudit < window/2 {
			t.Errorf("%d lines: %d commands awaited their audit record at once; want the window's %d and a command per user (%d) at most",
				lines, rep.MostAwaitingAudit, window, users)
		}
		t.Logf("%d lines: at most %d read ahead (bound %d), %d awaiting their record, %d of them at the end",
			lines, rep.MostReadAhead, b.readAheadBound(), rep.MostAwaitingAudit, rep.AuditReadAgain)
	}
}
