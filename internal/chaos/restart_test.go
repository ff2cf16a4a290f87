package chaos

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/internal/testdb"
	"github.com/daytradinginc/daytrader/trading"
	"github.com/daytradinginc/daytrader/workflows"
	"github.com/jackc/pgx/v5/pgxpool"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
)

// probeUser is an account the restart test sets up with one of everything
// that must survive a restart: cash, a holding, a pending buy, a buy order
// with a trigger and a sell order with a trigger and reserved shares. Its
// triggers can never fire at the emulator's fixed prices ($1.00 to
// $499.99).
const probeUser = "chaosprobe"

// probeCommands returns the probe's set-up commands (numbered after the
// workload's) and the COMMIT_BUY that is sent after the restarts.
func probeCommands(w *workload, firstTx int64) (setup []trading.Command, commit trading.Command) {
	syms := sortedKeys(w.Prices)
	held, watched := syms[0], syms[1]
	tx := firstTx
	next := func(c trading.Command) trading.Command {
		c.TxNum, c.User = tx, probeUser
		tx++
		return c
	}
	setup = []trading.Command{
		next(trading.Command{Name: trading.Add, Amount: "100000.00"}),
		next(trading.Command{Name: trading.Buy, Symbol: held, Amount: "2000.00"}),
		next(trading.Command{Name: trading.CommitBuy}),
		next(trading.Command{Name: trading.SetSellAmount, Symbol: held, Amount: "1500.00"}),
		next(trading.Command{Name: trading.SetSellTrigger, Symbol: held, Price: "999.00"}),
		next(trading.Command{Name: trading.Buy, Symbol: held, Amount: "700.00"}),
		next(trading.Command{Name: trading.SetBuyAmount, Symbol: watched, Amount: "500.00"}),
		next(trading.Command{Name: trading.SetBuyTrigger, Symbol: watched, Price: "0.01"}),
	}
	return setup, next(trading.Command{Name: trading.CommitBuy})
}

// TestFaultStackRestart stops the whole `daytrader dev` stack (embedded
// Temporal, quote emulator and worker in one process) with SIGTERM and
// starts it again on the same data dir and ports: once when it is idle,
// comparing every account's summary before and after, and once in the
// middle of a run. Accounts, pending buys and triggers (and their watcher
// workflows) persist; the rest of the workload is sent after the restart and
// the audit ends exactly once.
func TestFaultStackRestart(t *testing.T) {
	w := generateWorkload(t, scenarioSize(t))
	all := w.txNums()
	setup, commit := probeCommands(w, all[len(all)-1]+2)
	w.Users = append(w.Users, probeUser)
	w.ByUser[probeUser] = append(setup, commit)
	cfg := newStackConfig(t, testdb.URL(t), w.PricesFile)
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()

	dev := startDev(t, cfg, false)
	tc := dialTemporal(t, cfg.Frontend)
	accounts := workflows.NewAccounts(tc)
	db, err := pgxpool.New(ctx, cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	var faults []string
	restart := func(why string) {
		t.Helper()
		c, err := countAudit(ctx, db, w.txNums())
		if err != nil {
			t.Fatal(err)
		}
		dev.stop(t)
		faults = append(faults, fmt.Sprintf("SIGTERM+restart dev %s at %d/%d processed", why, c.Processed, c.Sent))
		dev = startDev(t, cfg, false)
	}

	// Part 1: the first half of the workload and the probe's set-up.
	half, threeQuarters := w.nthTxNum(0.5), w.nthTxNum(0.75)
	part1 := w.part(0, half)
	part1[probeUser] = setup
	if _, err := send(ctx, accounts, part1); err != nil {
		t.Fatal(err)
	}
	sent1 := txNumsOf(part1)
	if c := waitForAudit(ctx, t, db, sent1, len(sent1), time.Minute); c.Processed < len(sent1) {
		t.Fatalf("part 1: %s", c)
	}
	probe := waitForProbe(ctx, t, accounts, tc)

	// An idle restart: every account must come back exactly as it was.
	before := summaries(ctx, t, accounts, w.Users)
	restart("(idle)")
	after := summaries(ctx, t, accounts, w.Users)
	for _, u := range w.Users {
		if before[u] != after[u] {
			t.Errorf("%s changed across the restart:\n before: %s\n  after: %s", u, before[u], after[u])
		}
	}
	if !strings.Contains(after[probeUser], "pbuy:") || !strings.Contains(after[probeUser], "border:") ||
		!strings.Contains(after[probeUser], "sorder:") {
		t.Errorf("the probe lost its pending buy or orders across the restart: %s", after[probeUser])
	}
	for _, id := range probe.watchers {
		if !running(ctx, t, tc, id) {
			t.Errorf("trigger watcher %s is not running after the restart", id)
		}
	}

	// A restart in the middle of a run: part 2 is acknowledged, then the
	// stack stops while it is being processed.
	part2 := w.part(half, threeQuarters)
	if _, err := send(ctx, accounts, part2); err != nil {
		t.Fatal(err)
	}
	sent2 := txNumsOf(part2)
	if c := waitForAudit(ctx, t, db, sent2, len(sent2)/3, time.Minute); c.Processed >= len(sent2) {
		t.Logf("part 2 was done before the stack stopped (%s): the restart interrupted nothing", c)
	}
	restart("(mid-run)")

	// The rest of the workload and the probe's COMMIT_BUY go to the
	// restarted stack.
	part3 := w.part(threeQuarters, commit.TxNum)
	part3[probeUser] = []trading.Command{commit}
	if _, err := send(ctx, accounts, part3); err != nil {
		t.Fatal(err)
	}
	finish(ctx, t, "stack restart", strings.Join(faults, "; "), start, db, accounts, w, w.txNums())
	res, err := resultOf(ctx, db, commit.TxNum)
	if err != nil {
		t.Fatal(err)
	}
	if res != "" {
		t.Errorf("the probe's pending buy could not be committed after the restarts: %s", res)
	}
	stats, err := checkLedger(ctx, t, audit.NewStore(db), accounts, w)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(stats)
	dev.stop(t)
}

func txNumsOf(byUser map[string][]trading.Command) []int64 {
	var out []int64
	for _, cmds := range byUser {
		for _, c := range cmds {
			out = append(out, c.TxNum)
		}
	}
	return out
}

// probeState is the probe account once its set-up is applied.
type probeState struct {
	watchers []string // workflow IDs of its trigger watchers
}

// waitForProbe waits until the probe's set-up succeeded and both its
// trigger watchers run (they start once the burst of commands settles).
func waitForProbe(ctx context.Context, t *testing.T, accounts *workflows.Accounts, tc client.Client) probeState {
	t.Helper()
	sum, err := accounts.Summary(ctx, probeUser)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.PendingBuys) != 1 || len(sum.BuyOrders) != 1 || len(sum.SellOrders) != 1 || len(sum.Holdings) != 1 ||
		!sum.BuyOrders[0].Trigger.Valid || !sum.SellOrders[0].Trigger.Valid || sum.SellOrders[0].ReservedShares < 1 {
		t.Fatalf("the probe's set-up did not give one holding, pending buy, and buy and sell order with triggers: %s", summaryText(sum))
	}
	var st probeState
	for _, k := range []trading.TriggerKey{
		{Side: trading.BuySide, Symbol: sum.BuyOrders[0].Symbol},
		{Side: trading.SellSide, Symbol: sum.SellOrders[0].Symbol},
	} {
		st.watchers = append(st.watchers, workflows.TriggerWorkflowID(probeUser, k))
	}
	deadline := time.Now().Add(time.Minute)
	for _, id := range st.watchers {
		for !running(ctx, t, tc, id) {
			if time.Now().After(deadline) {
				t.Fatalf("trigger watcher %s did not start within a minute", id)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	return st
}

// running reports whether the workflow id's latest run is running.
func running(ctx context.Context, t *testing.T, tc client.Client, id string) bool {
	t.Helper()
	d, err := tc.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		return false
	}
	return d.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
}

// summaries returns every account's summary as state text.
func summaries(ctx context.Context, t *testing.T, accounts *workflows.Accounts, users []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, u := range users {
		s, err := accounts.Summary(ctx, u)
		if err != nil {
			t.Fatalf("summary of %s: %v", u, err)
		}
		out[u] = summaryText(s)
	}
	return out
}

// resultOf returns the error message audited for a transaction, "" when it
// succeeded.
func resultOf(ctx context.Context, db *pgxpool.Pool, txNum int64) (string, error) {
	var msg string
	err := db.QueryRow(ctx, `
SELECT coalesce(string_agg(message, '; '), '') FROM audit_events
WHERE tx_num = $1 AND event_type = 'errorEvent'`, txNum).Scan(&msg)
	return msg, err
}
