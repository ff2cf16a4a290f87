package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/internal/stacktest"
	"github.com/daytradinginc/daytrader/trading"
	"github.com/daytradinginc/daytrader/workflows"
	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/client"
)

// TestREADMEJSONPayloads sends the README's plain JSON payloads, byte for
// byte, the way any Temporal client (the CLI, another language's SDK) does:
// start the workflow with {"user": ...}, signal `commands` with an array,
// query `summary`, update `execute`. Nothing here uses DayTrader's Go types
// to build a payload.
func TestREADMEJSONPayloads(t *testing.T) {
	dev := stacktest.Start(t, stacktest.Options{QuotePrices: pricesFile(t, "ABC,20.00\n")})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := dev.Client

	_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "account-alice", TaskQueue: "daytrader"},
		"Account", json.RawMessage(`{"user":"alice"}`))
	if err != nil {
		t.Fatal(err)
	}
	err = c.SignalWorkflow(ctx, "account-alice", "", "commands", json.RawMessage(
		`[{"txNum":1,"command":"ADD","user":"alice","amount":"1000.00"},{"txNum":2,"command":"BUY","user":"alice","symbol":"ABC","amount":"100.00"}]`))
	if err != nil {
		t.Fatal(err)
	}
	err = c.SignalWorkflow(ctx, "account-alice", "", "command", json.RawMessage(`{"txNum":3,"command":"QUOTE","user":"alice","symbol":"ABC"}`))
	if err != nil {
		t.Fatal(err)
	}
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: "account-alice", UpdateName: "execute",
		Args: []any{json.RawMessage(`{"txNum":4,"command":"COMMIT_BUY","user":"alice"}`)}, WaitForStage: client.WorkflowUpdateStageCompleted})
	if err != nil {
		t.Fatal(err)
	}
	var res map[string]any
	if err := h.Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	if res["ok"] != true || res["command"] != "COMMIT_BUY" {
		t.Fatalf("update result = %v, want a successful COMMIT_BUY", res)
	}
	v, err := c.QueryWorkflow(ctx, "account-alice", "", "summary")
	if err != nil {
		t.Fatal(err)
	}
	var sum map[string]any
	if err := v.Get(&sum); err != nil {
		t.Fatal(err)
	}
	if sum["cash"] != "900" || len(sum["holdings"].([]any)) != 1 {
		t.Errorf("summary = %v, want cash 900 and 5 ABC", sum)
	}

	// Bad input through the update is refused with a clear message.
	h, err = c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: "account-alice", UpdateName: "execute",
		Args: []any{json.RawMessage(`{"txNum":5,"command":"ADD","user":"alice","amount":"1.234"}`)}, WaitForStage: client.WorkflowUpdateStageCompleted})
	if err == nil {
		err = h.Get(ctx, nil)
	}
	if err == nil || !strings.Contains(err.Error(), "is not a dollar amount") {
		t.Fatalf("an ADD of 1.234: %v, want it refused as not a dollar amount", err)
	}
	// A command for bob inside alice's signal changes nothing for anyone.
	err = c.SignalWorkflow(ctx, "account-alice", "", "command", json.RawMessage(`{"txNum":6,"command":"ADD","user":"bob","amount":"5.00"}`))
	if err != nil {
		t.Fatal(err)
	}
	accounts := workflows.NewAccounts(c)
	res2, err := accounts.Execute(ctx, trading.Command{TxNum: 7, Name: trading.DisplaySummary, User: "alice"})
	if err != nil || !res2.Summary.Cash.Equal(decimal.RequireFromString("900")) {
		t.Errorf("after a foreign ADD: %v %+v, want cash still 900", err, res2.Summary)
	}
}

func pricesFile(t *testing.T, content string) string {
	path := filepath.Join(t.TempDir(), "prices.csv")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
