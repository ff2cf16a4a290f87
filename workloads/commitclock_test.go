package workloads

import (
	"context"
	"sync"
	"testing"
	"time"
)

// committingAudit is a history whose listener is ready at once and in which
// every command sent so far is audited in one commit, notified, commitAfter
// after the listener started: a known instant, far inside the first poll
// interval.
type committingAudit struct {
	idleAudit
	sender      *fakeAccounts
	commitAfter time.Duration

	mu        sync.Mutex
	committed int64 // commands audited; 0 until the commit
}

func (a *committingAudit) ListenReady(ctx context.Context, ready func(), fn func(string)) error {
	ready()
	timer := time.AfterFunc(a.commitAfter, func() {
		a.mu.Lock()
		a.committed = a.sender.sentCount()
		a.mu.Unlock()
		fn("alice")
	})
	defer timer.Stop()
	<-ctx.Done()
	return nil
}

func (a *committingAudit) CountUserCommandsAfter(_ context.Context, afterID int64) (int64, int64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return max(a.committed-afterID, 0), max(a.committed, afterID), nil
}

// TestWallTimeEndsAtTheLastCommit: a workload whose commands are all
// audited 50 ms in reports about 50 ms of wall time, not the poll that
// noticed the end (before, the end was that poll: wall time ≥ the 2 s
// interval, as "14 commands/s" on small files with the 0.5 s default).
func TestWallTimeEndsAtTheLastCommit(t *testing.T) {
	wl := parseString(t, "[1] ADD,alice,100\n[2] QUOTE,alice,ABC\n[3] ADD,bob,50\n")
	sender := &fakeAccounts{}
	// A long poll, so that a stalled machine cannot blur the two apart.
	const poll, commitAfter = 2 * time.Second, 50 * time.Millisecond
	a := &committingAudit{sender: sender, commitAfter: commitAfter}
	began := time.Now()
	rep, err := Run(context.Background(), wl, sender, a, RunOptions{PollInterval: poll})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Processed != 3 {
		t.Fatalf("processed %d, want 3", rep.Processed)
	}
	if took := time.Since(began); took < poll {
		t.Fatalf("Run returned after %v, before the poll that sees the end (%v): the test proves nothing", took, poll)
	}
	// From the run's start (just after the listener was ready) to the
	// commit, about commitAfter: far under the poll that noticed it.
	wall := time.Duration(rep.WallSeconds * float64(time.Second))
	if wall >= poll/2 || wall < commitAfter/5 {
		t.Errorf("wall time %v, want the commit's moment, about %v after the start, not the poll's (%v)", wall, commitAfter, poll)
	}
	if want := 3 / rep.WallSeconds; rep.CommandsPerSecond != want {
		t.Errorf("%.1f commands/s, want %.1f (3 commands in %v)", rep.CommandsPerSecond, want, wall)
	}
}
