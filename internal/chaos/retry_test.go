package chaos

import (
	"context"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/internal/testdb"
	"github.com/daytradinginc/daytrader/trading"
	"github.com/daytradinginc/daytrader/workflows"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
	enumspb "go.temporal.io/api/enums/v1"
)

// TestFaultRetriedBatchAuditsOnce puts a worker crash exactly where it
// hurts most: after a batch's audit records are written, before its
// workflow task is completed. The retried task must audit the same commands
// under the same keys even if the account received more in between; here an
// interactive command (the execute update) arrives before the retry, and a
// retried task runs update handlers before it drains the signals, so the
// update's command comes first in the retried batch.
//
// The crash is made deterministic: a Postgres trigger holds the batch's
// audit write for two seconds, Temporal (the `dev` process) is frozen with
// SIGSTOP meanwhile so the worker cannot report the task done once the write
// commits, and the worker is then killed with SIGKILL.
//
// Twice: with a held batch of one command, whose records are inserted, and
// of 1,000 more, whose records audit.Store.Write copies (COPY, from 1,000
// records); the retry's COPY then fails on the keys stored, and the INSERT
// it falls back to skips them.
func TestFaultRetriedBatchAuditsOnce(t *testing.T) {
	for _, c := range []struct {
		name   string
		filler int
	}{{"inserted", 0}, {"copied", 1000}} {
		t.Run(c.name, func(t *testing.T) { testRetriedBatchAuditsOnce(t, c.filler) })
	}
}

// testRetriedBatchAuditsOnce runs the fault with filler DISPLAY_SUMMARY
// commands after the held one in its batch.
func testRetriedBatchAuditsOnce(t *testing.T, filler int) {
	dbURL := testdb.URL(t)
	cfg := newStackConfig(t, dbURL, "")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	db, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const heldTx = 100
	if _, err := db.Exec(ctx, `
CREATE FUNCTION chaos_hold_audit_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_sleep(2);
    RETURN NEW;
END $$;
CREATE TRIGGER chaos_hold_audit_write BEFORE INSERT ON audit_events
FOR EACH ROW WHEN (NEW.tx_num = 100 AND NEW.event_type = 'userCommand')
EXECUTE FUNCTION chaos_hold_audit_write();`); err != nil {
		t.Fatal(err)
	}

	dev := startDev(t, cfg, true)
	worker := startWorker(t, cfg, "worker-1")
	tc := dialTemporal(t, cfg.Frontend)
	accounts := workflows.NewAccounts(tc)
	const alice = "retryAlice"
	held := []trading.Command{{TxNum: heldTx, Name: trading.DisplaySummary, User: alice}}
	for i := range filler {
		held = append(held, trading.Command{TxNum: int64(1000 + i), Name: trading.DisplaySummary, User: alice})
	}
	sent := []int64{1, 101}
	for _, cmd := range held {
		sent = append(sent, cmd.TxNum)
	}
	if err := accounts.Send(ctx, alice, []trading.Command{{TxNum: 1, Name: trading.Add, User: alice, Amount: "1000.00"}}); err != nil {
		t.Fatal(err)
	}
	if c := waitForAudit(ctx, t, db, sent[:1], 1, time.Minute); c.Processed != 1 {
		t.Fatalf("opening the account: %s", c)
	}

	// The held batch: commands that need no quote.
	if err := accounts.Send(ctx, alice, held); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the held audit write to start", func() bool {
		var n int
		err := db.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'`).Scan(&n)
		return err == nil && n > 0
	})
	if err := dev.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dev.cmd.Process.Signal(syscall.SIGCONT) })
	waitFor(t, "the held audit write to commit", func() bool {
		c, err := countAudit(ctx, db, []int64{heldTx})
		return err == nil && c.Processed == 1
	})
	time.Sleep(200 * time.Millisecond) // the worker is now stuck reporting the task done
	worker.kill(t)
	if err := dev.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}

	// An interactive command arrives before the retry.
	updated := make(chan error, 1)
	go func() {
		res, err := accounts.Execute(ctx, trading.Command{TxNum: 101, Name: trading.Add, User: alice, Amount: "5.00"})
		if err == nil && !res.OK {
			t.Errorf("the interactive ADD failed: %s", res.Message)
		}
		updated <- err
	}()
	time.Sleep(500 * time.Millisecond)
	worker = startWorker(t, cfg, "worker-2")
	if err := <-updated; err != nil {
		t.Fatalf("the interactive ADD: %v", err)
	}

	// The fault must have landed: the task (or activity) that wrote the held
	// records timed out and was retried.
	landed := false
	it := tc.GetWorkflowHistory(ctx, workflows.AccountWorkflowID(alice), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT, enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED,
			enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT, enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED:
			landed = true
		}
	}
	if !landed {
		t.Fatal("the fault did not land: the held audit write's task completed, nothing was retried")
	}

	c := waitForAudit(ctx, t, db, sent, len(sent), 15*time.Second)
	if c.StateProcessed, err = stateProcessed(ctx, accounts, []string{alice}); err != nil {
		t.Fatal(err)
	}
	t.Logf("retried batch: faults=[audit written, task not completed, worker kill -9, update before the retry] %s", c)
	if c.Lost != 0 || c.Duplicated != 0 || c.StateProcessed != int64(len(sent)) {
		t.Errorf("lost=%d duplicated=%d state-processed=%d, want 0, 0 and %d", c.Lost, c.Duplicated, c.StateProcessed, len(sent))
		logEvidence(ctx, t, db, &workload{ByUser: map[string][]trading.Command{alice: slices.Concat([]trading.Command{{TxNum: 1}}, held, []trading.Command{{TxNum: 101}})}}, sent)
	}
	sum, err := accounts.Summary(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if trail := moneyTrail(ctx, t, db, alice); !trail.Equal(sum.Cash) {
		t.Errorf("alice's accountTransaction records sum to $%s, her cash is $%s", trail, sum.Cash)
	}
	worker.stop(t)
	dev.stop(t)
}

// waitFor polls cond for up to 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// moneyTrail is what a user's accountTransaction records add up to.
func moneyTrail(ctx context.Context, t *testing.T, db *pgxpool.Pool, user string) decimal.Decimal {
	t.Helper()
	var sum string
	if err := db.QueryRow(ctx, `
SELECT coalesce(sum(CASE action WHEN 'add' THEN funds ELSE -funds END), 0)::text
FROM audit_events WHERE event_type = 'accountTransaction' AND username = $1`, user).Scan(&sum); err != nil {
		t.Fatal(err)
	}
	return decimal.RequireFromString(sum)
}
