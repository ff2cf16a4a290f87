package workloads

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/trading"
)

// windowedAccounts is a Sender over a history that processes perPoll
// commands each time it is counted, in the order they were sent. At every
// Send it checks that the run keeps its window: the commands sent, this
// batch included, are at most window ahead of the count it last gave, or
// nothing is in flight.
type windowedAccounts struct {
	fakeAccounts
	idleAudit
	t       *testing.T
	window  int64
	perPoll int64

	mu        sync.Mutex
	order     []audit.CommandTime // commands as sent, their ids 1, 2, ...
	processed int64               // how many of them the history has processed
	reported  int64               // the last count given to the run
	maxAhead  int64
}

func (w *windowedAccounts) Send(ctx context.Context, user string, cmds []trading.Command) error {
	w.mu.Lock()
	ahead := int64(len(w.order)) + int64(len(cmds)) - w.reported
	if int64(len(w.order)) > w.reported && ahead > w.window {
		w.t.Errorf("a batch of %d sent with %d commands in flight: window %d", len(cmds), int64(len(w.order))-w.reported, w.window)
	}
	w.maxAhead = max(w.maxAhead, ahead)
	for _, c := range cmds {
		w.order = append(w.order, audit.CommandTime{ID: int64(len(w.order) + 1), User: user, TxNum: c.TxNum})
	}
	w.mu.Unlock()
	return w.fakeAccounts.Send(ctx, user, cmds)
}

func (w *windowedAccounts) CountUserCommandsAfter(_ context.Context, afterID int64) (int64, int64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.processed = min(w.processed+w.perPoll, int64(len(w.order)))
	w.reported = w.processed
	return max(w.processed-afterID, 0), max(w.processed, afterID), nil
}

// UserCommandsAfter gives the processed commands after afterID, as the
// audit would: in id order, at most limit.
func (w *windowedAccounts) UserCommandsAfter(_ context.Context, afterID int64, limit int) ([]audit.CommandTime, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	from := min(afterID, w.processed)
	out := slices.Clone(w.order[from:min(from+int64(limit), w.processed)])
	for i := range out {
		out[i].Time = time.Now()
	}
	return out, nil
}

// writeInterleaved writes a workload of users whose commands alternate
// line by line, n each, and a final DUMPLOG; it returns each user's
// transaction numbers in file order.
func writeInterleaved(t *testing.T, users, n int) (string, map[string][]int64) {
	t.Helper()
	var b strings.Builder
	want := map[string][]int64{}
	tx := int64(0)
	for i := range n {
		for u := range users {
			tx++
			user := fmt.Sprintf("user%02d", u)
			if i%2 == 0 {
				fmt.Fprintf(&b, "[%d] ADD,%s,10.00\n", tx, user)
			} else {
				fmt.Fprintf(&b, "[%d] QUOTE,%s,ABC\n", tx, user)
			}
			want[user] = append(want[user], tx)
		}
	}
	fmt.Fprintf(&b, "[%d] DUMPLOG,./log\n", tx+1)
	path := filepath.Join(t.TempDir(), "workload")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, want
}

func TestRunStreamsAFileWithinItsWindow(t *testing.T) {
	const users, each, batch, window = 20, 301, 50, 500
	path, want := writeInterleaved(t, users, each)
	f, perrs, err := OpenFile(path, true)
	if err != nil || len(perrs) > 0 {
		t.Fatalf("OpenFile: %v %v", err, perrs)
	}
	acc := &windowedAccounts{t: t, window: window, perPoll: 100}
	rep, err := Run(context.Background(), f, acc, acc, RunOptions{BatchSize: batch, Concurrency: 4, Window: window,
		PollInterval: 2 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for user, txNums := range want {
		var got []int64
		for i, b := range acc.batches[user] {
			if len(b) > batch || (len(b) != batch && i != len(acc.batches[user])-1) {
				t.Errorf("%s: batch %d has %d commands; batches hold %d but the last", user, i, len(b), batch)
			}
			for _, c := range b {
				got = append(got, c.TxNum)
			}
		}
		if !slices.Equal(got, txNums) {
			t.Errorf("%s: sent %v, want its commands in file order", user, got)
		}
	}
	total := int64(users * each)
	if rep.Processed != total || rep.Sent != total || rep.All.Count != total || int64(rep.All.Latency.Samples) != total {
		t.Errorf("report: processed %d, sent %d, counted %d, latency samples %d; want %d each",
			rep.Processed, rep.Sent, rep.All.Count, rep.All.Latency.Samples, total)
	}
	// A group of users at a time (plan.passes, the window as budget): the
	// first group is user00 and user01 (602 commands), and the next is read
	// only once all its batches are queued (at most 400 commands queued, so
	// at least 202 sent). In file order the first four batches sent would
	// have been four users' first.
	const firstGroupOnly = 200
	for _, c := range acc.order[:firstGroupOnly] {
		if c.User != "user00" && c.User != "user01" {
			t.Fatalf("command %d of user %s was among the first %d sent: want only the first group's (user00, user01)", c.TxNum, c.User, firstGroupOnly)
		}
	}
	if acc.maxAhead <= batch {
		t.Errorf("at most %d commands were ever in flight: the window of %d was never used", acc.maxAhead, window)
	}
	if len(rep.Dumps) != 1 || rep.Window != window {
		t.Errorf("dumps %+v, window %d; want the DUMPLOG run and window %d", rep.Dumps, rep.Window, window)
	}
}
