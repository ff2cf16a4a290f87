package chaos

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/internal/stacktest"
	"github.com/daytradinginc/daytrader/trading"
	"github.com/daytradinginc/daytrader/workflows"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// TestSecurityCommandForAnotherUser goes around workflows.Accounts (which
// refuses to route a command to another user's account) and talks to
// Temporal directly, as any client of the public workflow interface could:
// commands naming bob inside alice's account, by batch signal, by single
// signal and by the execute update. None may touch either account; the
// signalled ones are audited as errors, the update is refused outright.
func TestSecurityCommandForAnotherUser(t *testing.T) {
	dev := stacktest.Start(t, stacktest.Options{})
	accounts := workflows.NewAccounts(dev.Client)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const alice, bob = "secAlice", "secBob"
	opening := []trading.Command{
		{TxNum: 1, Name: trading.Add, User: alice, Amount: "1000.00"},
		{TxNum: 2, Name: trading.Add, User: bob, Amount: "500.00"},
	}
	for _, c := range opening {
		if err := accounts.Send(ctx, c.User, []trading.Command{c}); err != nil {
			t.Fatal(err)
		}
	}
	if c := waitForAudit(ctx, t, dev.DB, []int64{1, 2}, 2, time.Minute); c.Processed != 2 {
		t.Fatalf("opening the accounts: %s", c)
	}
	before := summaries(ctx, t, accounts, []string{alice, bob})

	aliceID := workflows.AccountWorkflowID(alice)
	foreign := []trading.Command{
		{TxNum: 3, Name: trading.Add, User: bob, Amount: "1000000.00"},
		{TxNum: 4, Name: trading.SetBuyAmount, User: bob, Symbol: "ABC", Amount: "100.00"},
	}
	if err := dev.Client.SignalWorkflow(ctx, aliceID, "", workflows.SignalCommands, foreign); err != nil {
		t.Fatal(err)
	}
	if err := dev.Client.SignalWorkflow(ctx, aliceID, "", workflows.SignalCommand,
		trading.Command{TxNum: 5, Name: trading.Add, User: bob, Amount: "1000000.00"}); err != nil {
		t.Fatal(err)
	}
	handle, err := dev.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: aliceID, UpdateID: "tx-6", UpdateName: workflows.UpdateExecute, WaitForStage: client.WorkflowUpdateStageCompleted,
		Args: []any{trading.Command{TxNum: 6, Name: trading.Add, User: bob, Amount: "1000000.00"}},
	})
	if err == nil {
		var res trading.Result
		err = handle.Get(ctx, &res) // a rejection comes back as the update's outcome
	}
	if err == nil || !strings.Contains(err.Error(), "sent to the account of") {
		t.Errorf("execute update for bob on alice's account: err = %v, want it refused as a command for another user", err)
	}
	// A harmless command after them proves they were all processed.
	if err := accounts.Send(ctx, alice, []trading.Command{{TxNum: 7, Name: trading.DisplaySummary, User: alice}}); err != nil {
		t.Fatal(err)
	}
	if c := waitForAudit(ctx, t, dev.DB, []int64{3, 4, 5, 7}, 4, time.Minute); c.Processed != 4 || c.Duplicated != 0 {
		t.Fatalf("the signalled commands were not all audited: %s", c)
	}

	after := summaries(ctx, t, accounts, []string{alice, bob})
	for _, u := range []string{alice, bob} {
		if before[u] != after[u] {
			t.Errorf("%s's account changed: before %s, after %s", u, before[u], after[u])
		}
	}
	for _, tx := range []int64{3, 4, 5} {
		// Audited in the history of the account it was sent to: bob's own
		// history shows nothing he did not do.
		recs := recordsOf(ctx, t, dev.DB, tx)
		if len(recs) != 2 || recs[0].typ != "userCommand" || recs[1].typ != "errorEvent" ||
			recs[1].msg != "command for user secBob sent to the account of secAlice" ||
			recs[0].user != alice || recs[1].user != alice {
			t.Errorf("transaction %d: records %+v, want alice's userCommand and errorEvent saying it was for another account", tx, recs)
		}
	}
	if recs := recordsOf(ctx, t, dev.DB, 6); len(recs) != 0 {
		t.Errorf("the refused update left records: %+v", recs)
	}
}

// TestSecurityMalformedSignal sends account signals whose payload is not a
// command at all. The account must keep working: the next well-formed
// command is processed.
func TestSecurityMalformedSignal(t *testing.T) {
	dev := stacktest.Start(t, stacktest.Options{})
	accounts := workflows.NewAccounts(dev.Client)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const alice = "malAlice"
	if err := accounts.Send(ctx, alice, []trading.Command{{TxNum: 1, Name: trading.Add, User: alice, Amount: "1000.00"}}); err != nil {
		t.Fatal(err)
	}
	if c := waitForAudit(ctx, t, dev.DB, []int64{1}, 1, time.Minute); c.Processed != 1 {
		t.Fatalf("opening the account: %s", c)
	}
	id := workflows.AccountWorkflowID(alice)
	for _, bad := range []struct {
		signal  string
		payload any
	}{
		{workflows.SignalCommands, "ADD,malAlice,100.00"},
		{workflows.SignalCommands, map[string]any{"txNum": "two"}},
		{workflows.SignalCommand, []int{1, 2, 3}},
		{workflows.SignalCommand, map[string]any{"txNum": -1, "command": "ADD", "user": alice, "amount": "1e9"}},
		{workflows.SignalCommand, map[string]any{"txNum": 2, "command": "DROP_TABLES", "user": alice}},
		{workflows.SignalTriggerHit, "not a hit"},
	} {
		if err := dev.Client.SignalWorkflow(ctx, id, "", bad.signal, bad.payload); err != nil {
			t.Fatal(err)
		}
	}
	if err := accounts.Send(ctx, alice, []trading.Command{{TxNum: 3, Name: trading.Add, User: alice, Amount: "1.00"}}); err != nil {
		t.Fatal(err)
	}
	if c := waitForAudit(ctx, t, dev.DB, []int64{3}, 1, 30*time.Second); c.Processed != 1 {
		t.Fatalf("after malformed signals the account no longer processes commands: %s", c)
	}
	sum, err := accounts.Summary(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if got := summaryText(sum); got != "exists=true cash=1001.00 reserved=0.00" {
		t.Errorf("after malformed signals alice is %s, want only her two ADDs applied (cash 1001.00)", got)
	}
}

type record struct{ user, typ, msg string }

// recordsOf returns a transaction's audit records in stored order.
func recordsOf(ctx context.Context, t *testing.T, db *pgxpool.Pool, tx int64) []record {
	t.Helper()
	rows, err := db.Query(ctx, `
SELECT coalesce(username, ''), event_type, coalesce(message, '') FROM audit_events
WHERE tx_num = $1 ORDER BY id`, tx)
	if err != nil {
		t.Fatal(err)
	}
	var out []record
	var r record
	if _, err := pgx.ForEachRow(rows, []any{&r.user, &r.typ, &r.msg}, func() error {
		out = append(out, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSecurityOversizedAmounts sends commands whose amounts are well-formed
// but larger than anything real (the rules accept amounts of up to 20
// characters). Each must still be audited exactly once: a record the audit
// cannot hold would be a command the history does not show.
func TestSecurityOversizedAmounts(t *testing.T) {
	dev := stacktest.Start(t, stacktest.Options{})
	accounts := workflows.NewAccounts(dev.Client)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const alice = "bigAlice"
	cmds := []trading.Command{
		{TxNum: 1, Name: trading.Add, User: alice, Amount: "1000.00"},
		{TxNum: 2, Name: trading.Add, User: alice, Amount: "99999999999999999999"},
		{TxNum: 3, Name: trading.SetBuyAmount, User: alice, Symbol: "ABC", Amount: "1000000000000000000"},
		{TxNum: 4, Name: trading.Buy, User: alice, Symbol: "ABC", Amount: "99999999999999999.99"},
		{TxNum: 5, Name: trading.DisplaySummary, User: alice},
	}
	if err := accounts.Send(ctx, alice, cmds); err != nil {
		t.Fatal(err)
	}
	c := waitForAudit(ctx, t, dev.DB, txNumsOf(map[string][]trading.Command{alice: cmds}), len(cmds), 20*time.Second)
	t.Logf("oversized amounts: %s", c)
	if c.Lost != 0 || c.Duplicated != 0 {
		t.Errorf("lost=%d duplicated=%d: every command, however large its amount, needs exactly one userCommand record", c.Lost, c.Duplicated)
	}
}

// TestSecurityForgedTriggerHit sends the trigger-hit signal a Trigger
// workflow sends, from an ordinary client, with a quote the quote server
// never gave ($0.01 for a stock at $10.00). An order must execute only at a
// price the quote server gave: the account keeps its buy order and its cash.
func TestSecurityForgedTriggerHit(t *testing.T) {
	prices := filepath.Join(t.TempDir(), "prices.csv")
	if err := os.WriteFile(prices, []byte("ABC,10.00\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dev := stacktest.Start(t, stacktest.Options{QuotePrices: prices})
	accounts := workflows.NewAccounts(dev.Client)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const alice = "hitAlice"
	setup := []trading.Command{
		{TxNum: 1, Name: trading.Add, User: alice, Amount: "1000.00"},
		{TxNum: 2, Name: trading.SetBuyAmount, User: alice, Symbol: "ABC", Amount: "100.00"},
		{TxNum: 3, Name: trading.SetBuyTrigger, User: alice, Symbol: "ABC", Price: "5.00"},
	}
	if err := accounts.Send(ctx, alice, setup); err != nil {
		t.Fatal(err)
	}
	if c := waitForAudit(ctx, t, dev.DB, []int64{1, 2, 3}, 3, time.Minute); c.Processed != 3 {
		t.Fatalf("setting up: %s", c)
	}
	before := summaries(ctx, t, accounts, []string{alice})[alice]
	if before != "exists=true cash=900.00 reserved=100.00 border:ABC:100.00@5.00" {
		t.Fatalf("set-up gave %s", before)
	}
	forged := workflows.TriggerHit{
		Key: trading.TriggerKey{Side: trading.BuySide, Symbol: "ABC"},
		Quote: trading.Quote{Symbol: "ABC", User: alice, Price: decimal.RequireFromString("0.01"),
			QuoteServerTime: time.Now().UnixMilli(), Cryptokey: "forged", FetchedAt: time.Now()},
	}
	if err := dev.Client.SignalWorkflow(ctx, workflows.AccountWorkflowID(alice), "", workflows.SignalTriggerHit, forged); err != nil {
		t.Fatal(err)
	}
	if err := accounts.Send(ctx, alice, []trading.Command{{TxNum: 4, Name: trading.DisplaySummary, User: alice}}); err != nil {
		t.Fatal(err)
	}
	if c := waitForAudit(ctx, t, dev.DB, []int64{4}, 1, time.Minute); c.Processed != 1 {
		t.Fatalf("the account stopped processing: %s", c)
	}
	if after := summaries(ctx, t, accounts, []string{alice})[alice]; after != before {
		t.Errorf("a forged trigger-hit at $0.01 (the stock is at $10.00) changed the account:\n before: %s\n  after: %s", before, after)
	}
}

// hostileUsers are user ids no DayTrader client sends but any Temporal
// client can: non-ASCII, control characters, 1 KB long, empty, a path.
var hostileUsers = []string{"böb", "bo\x00b", "b\x1b[31mob", strings.Repeat("a", 1024), "", "../x"}

// userIDRule is what every refusal of a malformed user id says.
const userIDRule = "must be 1 to 64 letters or digits"

// TestSecurityHostileUserIDs sends commands naming hostile user ids into an
// existing account, straight to Temporal, by the command and commands
// signals and the execute update. Each update is rejected with a clear
// error and leaves no record; each signalled command is audited as the
// account's failure saying what a user id must be; no quote is fetched for
// them; the account is unchanged and processes its next command.
func TestSecurityHostileUserIDs(t *testing.T) {
	dev := stacktest.Start(t, stacktest.Options{})
	accounts := workflows.NewAccounts(dev.Client)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const alice = "hostAlice"
	if err := accounts.Send(ctx, alice, []trading.Command{{TxNum: 1, Name: trading.Add, User: alice, Amount: "1000.00"}}); err != nil {
		t.Fatal(err)
	}
	if c := waitForAudit(ctx, t, dev.DB, []int64{1}, 1, time.Minute); c.Processed != 1 {
		t.Fatalf("opening the account: %s", c)
	}
	before := summaries(ctx, t, accounts, []string{alice})[alice]

	signalled, updated := sendHostileCommands(ctx, t, dev.Client, alice)
	if err := accounts.Send(ctx, alice, []trading.Command{{TxNum: 1000, Name: trading.DisplaySummary, User: alice}}); err != nil {
		t.Fatal(err)
	}
	sent := append(slices.Clone(signalled), 1000)
	if c := waitForAudit(ctx, t, dev.DB, sent, len(sent), time.Minute); c.Processed != len(sent) || c.Duplicated != 0 {
		t.Fatalf("the signalled commands and the next good one were not all audited once: %s", c)
	}
	if after := summaries(ctx, t, accounts, []string{alice})[alice]; after != before {
		t.Errorf("hostile commands changed the account: before %s, after %s", before, after)
	}
	for _, tx := range signalled {
		recs := recordsOf(ctx, t, dev.DB, tx)
		if len(recs) != 2 || recs[0].typ != "userCommand" || recs[1].typ != "errorEvent" ||
			recs[0].user != alice || recs[1].user != alice || !strings.Contains(recs[1].msg, userIDRule) || len(recs[1].msg) > 200 {
			t.Errorf("transaction %d: records %+v, want alice's userCommand and a short errorEvent saying what a user id must be", tx, recs)
		}
	}
	for _, tx := range updated {
		if recs := recordsOf(ctx, t, dev.DB, tx); len(recs) != 0 {
			t.Errorf("the refused update %d left records: %+v", tx, recs)
		}
	}
}

// sendHostileCommands sends, for each hostile user id, a QUOTE by the
// command signal, an ADD by the commands signal and an ADD by the execute
// update into user's account, and checks each update is refused. It returns
// the transaction numbers signalled and those sent as updates.
func sendHostileCommands(ctx context.Context, t *testing.T, c client.Client, user string) (signalled, updated []int64) {
	t.Helper()
	id := workflows.AccountWorkflowID(user)
	for i, bad := range hostileUsers {
		tx := int64(10 + 3*i)
		quote := trading.Command{TxNum: tx, Name: trading.QuoteCmd, User: bad, Symbol: "ABC"}
		if err := c.SignalWorkflow(ctx, id, "", workflows.SignalCommand, quote); err != nil {
			t.Fatal(err)
		}
		add := []trading.Command{{TxNum: tx + 1, Name: trading.Add, User: bad, Amount: "1000000.00"}}
		if err := c.SignalWorkflow(ctx, id, "", workflows.SignalCommands, add); err != nil {
			t.Fatal(err)
		}
		handle, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID: id, UpdateID: fmt.Sprintf("tx-%d", tx+2), UpdateName: workflows.UpdateExecute,
			WaitForStage: client.WorkflowUpdateStageCompleted,
			Args:         []any{trading.Command{TxNum: tx + 2, Name: trading.Add, User: bad, Amount: "1000000.00"}},
		})
		if err == nil {
			err = handle.Get(ctx, nil) // a rejection comes back as the update's outcome
		}
		if err == nil || !strings.Contains(err.Error(), userIDRule) || len(err.Error()) > 300 {
			t.Errorf("execute update for user %.20q: err = %v, want it rejected saying what a user id must be", bad, err)
		}
		signalled = append(signalled, tx, tx+1)
		updated = append(updated, tx+2)
	}
	return signalled, updated
}

// TestSecurityHostileWorkflowStarts starts Account and Trigger workflows
// directly, as any Temporal client can, with a hostile user id in their
// input. Each must fail at once with workflows.InvalidInputError, not wait
// or re-check a price for ever.
func TestSecurityHostileWorkflowStarts(t *testing.T) {
	dev := stacktest.Start(t, stacktest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for i, bad := range hostileUsers {
		for _, start := range []struct {
			typ   string
			input any
		}{
			{workflows.AccountWorkflowType, workflows.AccountInput{User: bad}},
			{workflows.TriggerWorkflowType, workflows.TriggerInput{User: bad, Price: decimal.NewFromInt(5),
				Key: trading.TriggerKey{Side: trading.BuySide, Symbol: "ABC"}, CheckEvery: time.Second}},
		} {
			run, err := dev.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
				ID: fmt.Sprintf("hostile-%s-%d", start.typ, i), TaskQueue: dev.Config.TaskQueue,
			}, start.typ, start.input)
			if err != nil {
				t.Fatal(err)
			}
			wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
			err = run.Get(wctx, nil)
			wcancel()
			var appErr *temporal.ApplicationError
			if !errors.As(err, &appErr) || appErr.Type() != workflows.InvalidInputError || !strings.Contains(err.Error(), userIDRule) {
				t.Errorf("%s started for user %.20q: %v, want it failed at once with %s", start.typ, bad, err, workflows.InvalidInputError)
			}
		}
	}
}

// TestSecurityClientRefusesHostileUserIDs calls every method of the
// accounts client that takes a user id with each hostile id: each must
// return the user id rule before anything reaches Temporal (the SDK cannot
// address a non-ASCII id, and "" or "../x" would start a workflow that can
// only fail while the caller believes its commands were recorded).
func TestSecurityClientRefusesHostileUserIDs(t *testing.T) {
	dev := stacktest.Start(t, stacktest.Options{})
	accounts := workflows.NewAccounts(dev.Client)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, bad := range hostileUsers {
		cmd := trading.Command{TxNum: 1, Name: trading.Add, User: bad, Amount: "10"}
		_, sumErr := accounts.Summary(ctx, bad)
		_, hasErr := accounts.HasAccount(ctx, bad)
		_, progErr := accounts.Progress(ctx, bad)
		_, execErr := accounts.Execute(ctx, cmd)
		for name, err := range map[string]error{"Send": accounts.Send(ctx, bad, []trading.Command{cmd}),
			"Summary": sumErr, "HasAccount": hasErr, "Progress": progErr, "Execute": execErr} {
			if err == nil || !strings.Contains(err.Error(), userIDRule) || len(err.Error()) > 300 {
				t.Errorf("%s(%.20q): %.300v; want a short error saying the user id rule", name, bad, err)
			}
		}
		if _, err := dev.Client.DescribeWorkflowExecution(ctx, workflows.AccountWorkflowID(bad), ""); err == nil {
			t.Errorf("a workflow %.40q was started for a hostile user id", workflows.AccountWorkflowID(bad))
		}
	}
}
