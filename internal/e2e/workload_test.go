// Package e2e runs the course workloads through the real system: the
// embedded Temporal server, the worker, the quote server emulator and
// Postgres, and checks the result against the pure rules package.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/internal/stack"
	"github.com/daytradinginc/daytrader/internal/stacktest"
	"github.com/daytradinginc/daytrader/internal/testenv"
	"github.com/daytradinginc/daytrader/trading"
	"github.com/daytradinginc/daytrader/workflows"
	"github.com/daytradinginc/daytrader/workloads"
	"github.com/shopspring/decimal"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/encoding/protojson"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.Cleanup()
	os.Exit(code)
}

// fixedPrice is a deterministic price per symbol, so the rules package can
// be run over the same input with the same quotes.
func fixedPrice(sym string) decimal.Decimal {
	h := fnv.New32a()
	h.Write([]byte(sym))
	return decimal.New(int64(100+h.Sum32()%49900), -2) // $1.00 .. $499.99
}

func writePrices(t *testing.T, wl *workloads.Workload) string {
	syms := map[string]bool{}
	for _, l := range wl.Lines {
		if l.Cmd.Symbol != "" {
			syms[l.Cmd.Symbol] = true
		}
	}
	path := filepath.Join(t.TempDir(), "prices.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for s := range syms {
		if trading.ValidSymbol(s) {
			fmt.Fprintf(f, "%s,%s\n", s, fixedPrice(s).StringFixed(2))
		}
	}
	return path
}

func TestCourseWorkloadsEndToEnd(t *testing.T) {
	for _, name := range []string{"1userWorkLoad", "10User_testWorkLoad"} {
		t.Run(name, func(t *testing.T) { runCourseWorkload(t, name) })
	}
}

func runCourseWorkload(t *testing.T, name string) {
	shared := testenv.SharedDir(t)
	wl, perrs, err := workloads.ParseFile(filepath.Join(shared, "workloads", name), true)
	if err != nil || len(perrs) > 0 {
		t.Fatalf("parsing %s: %v %v", name, err, perrs)
	}
	dev := stacktest.Start(t, stacktest.Options{QuotePrices: writePrices(t, wl)})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	accounts := workflows.NewAccounts(dev.Client)
	store := audit.NewStore(dev.DB)

	sendAll(ctx, t, accounts, wl, 100)
	want := int64(0)
	for _, u := range wl.Users {
		want += int64(len(wl.ByUser[u]))
	}
	waitForUserCommands(ctx, t, store, want)

	// The file's last line is the administrator's global DUMPLOG.
	if len(wl.Global) != 1 {
		t.Fatalf("global lines = %d, want the final DUMPLOG", len(wl.Global))
	}
	g := wl.Global[0].Cmd
	dump, err := accounts.RunGlobalDumpLog(ctx, g.TxNum, g.Filename)
	if err != nil {
		t.Fatalf("global DUMPLOG: %v", err)
	}
	xmllint(t, dump.Path, filepath.Join(shared, "spec", "logfile.xsd"))

	// Every command yields exactly one userCommand record, and the dump
	// contains them all (plus the DUMPLOG's own).
	counts, err := store.CountByType(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if counts[trading.UserCommandEvent] != want+1 {
		t.Errorf("userCommand records = %d, want %d (one per command + the DUMPLOG)", counts[trading.UserCommandEvent], want+1)
	}
	var txNums []int64
	for _, l := range wl.Lines {
		txNums = append(txNums, l.Cmd.TxNum)
	}
	times, err := store.UserCommandTimes(ctx, txNums)
	if err != nil {
		t.Fatal(err)
	}
	if len(times) != len(txNums) {
		t.Errorf("transactions with a userCommand record = %d, want all %d", len(times), len(txNums))
	}
	if dump.Events != counts[trading.UserCommandEvent]+counts[trading.QuoteServerEvent]+counts[trading.AccountTransactionEvent]+
		counts[trading.SystemEvent]+counts[trading.ErrorEvent]+counts[trading.DebugEvent] {
		t.Errorf("the dump holds %d records, the audit %v", dump.Events, counts)
	}

	// Each account's state equals the rules package run over the same
	// commands, at the times the workflow ran them, with the same quotes.
	for _, u := range wl.Users {
		got, err := accounts.Summary(ctx, u)
		if err != nil {
			t.Fatalf("summary of %s: %v", u, err)
		}
		local := trading.NewAccount(u)
		for _, c := range wl.ByUser[u] {
			at := times[c.TxNum]
			local.Execute(c, trading.Env{Now: at, Quote: func(sym string) (trading.Quote, bool, error) {
				return trading.Quote{Symbol: sym, User: u, Price: fixedPrice(sym), FetchedAt: at}, false, nil
			}})
		}
		want := local.Summary(got.AsOf)
		compareSummaries(t, u, got, want)
	}

	replayHistories(ctx, t, dev, wl.Users)
}

func sendAll(ctx context.Context, t *testing.T, accounts *workflows.Accounts, wl *workloads.Workload, batch int) {
	var wg sync.WaitGroup
	errs := make(chan error, len(wl.Users))
	for _, u := range wl.Users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmds := wl.ByUser[u]
			for i := 0; i < len(cmds); i += batch {
				if err := accounts.Send(ctx, u, cmds[i:min(i+batch, len(cmds))]); err != nil {
					errs <- fmt.Errorf("sending %s's commands: %w", u, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func waitForUserCommands(ctx context.Context, t *testing.T, store *audit.Store, want int64) {
	for {
		counts, err := store.CountByType(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if counts[trading.UserCommandEvent] >= want {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("only %d of %d commands processed before the deadline", counts[trading.UserCommandEvent], want)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func xmllint(t *testing.T, file, xsd string) {
	t.Helper()
	if _, err := exec.LookPath("xmllint"); err != nil {
		t.Fatal("xmllint is needed to validate DUMPLOG files: apt-get install -y libxml2-utils")
	}
	out, err := exec.Command("xmllint", "--noout", "--schema", xsd, file).CombinedOutput()
	if err != nil {
		t.Fatalf("%s does not validate against logfile.xsd: %v\n%s", file, err, tail(out))
	}
}

func tail(b []byte) []byte {
	if len(b) > 2000 {
		return b[len(b)-2000:]
	}
	return b
}

func compareSummaries(t *testing.T, user string, got, want trading.Summary) {
	t.Helper()
	if !got.Cash.Equal(want.Cash) || !got.ReservedCash.Equal(want.ReservedCash) {
		t.Errorf("%s: cash %s reserved %s, rules say %s and %s", user, got.Cash, got.ReservedCash, want.Cash, want.ReservedCash)
	}
	key := func(hs []trading.Holding) string {
		s := ""
		for _, h := range hs {
			s += fmt.Sprintf("%s:%d+%d ", h.Symbol, h.Shares, h.ReservedShares)
		}
		return s
	}
	if key(got.Holdings) != key(want.Holdings) {
		t.Errorf("%s: holdings %s, rules say %s", user, key(got.Holdings), key(want.Holdings))
	}
	if len(got.PendingBuys) != len(want.PendingBuys) || len(got.PendingSells) != len(want.PendingSells) {
		t.Errorf("%s: pending %d/%d, rules say %d/%d", user, len(got.PendingBuys), len(got.PendingSells), len(want.PendingBuys), len(want.PendingSells))
	}
	orders := func(s trading.Summary) string {
		out := ""
		for _, o := range s.BuyOrders {
			out += fmt.Sprintf("B%s:%s:%v ", o.Symbol, o.Reserve.StringFixed(2), o.Trigger.Decimal.StringFixed(2))
		}
		for _, o := range s.SellOrders {
			out += fmt.Sprintf("S%s:%s:%d:%v ", o.Symbol, o.Amount.StringFixed(2), o.ReservedShares, o.Trigger.Decimal.StringFixed(2))
		}
		return out
	}
	if orders(got) != orders(want) {
		t.Errorf("%s: orders %s, rules say %s", user, orders(got), orders(want))
	}
}

// replayHistories replays real account histories against the current
// workflow code: a non-deterministic change fails here. With
// DAYTRADER_RECORD_HISTORIES=dir it also saves them, for the replay test
// in package workflows that guards later changes.
func replayHistories(ctx context.Context, t *testing.T, dev *stack.Dev, users []string) {
	sort.Strings(users)
	fetches := 0
	for _, u := range users[:min(3, len(users))] {
		fetches += replayRun(ctx, t, dev, u, "")
	}
	if fetches == 0 {
		t.Error("no quote fetch in the replayed histories: their form is not checked")
	}
}

// replayRun replays one run of user's account (runID "": the current one)
// and, with DAYTRADER_RECORD_HISTORIES=dir, saves its history there. It
// returns how many quote fetches the history records (checkQuoteMarkers).
func replayRun(ctx context.Context, t *testing.T, dev *stack.Dev, user, runID string) int {
	t.Helper()
	replayer := worker.NewWorkflowReplayer()
	replayer.RegisterWorkflow(workflows.Account)
	replayer.RegisterWorkflow(workflows.Trigger)
	hist := fetchHistory(ctx, t, dev.Client, workflows.AccountWorkflowID(user), runID)
	// Replayed under its own ID: the account checks it against its input.
	opts := worker.ReplayWorkflowHistoryOptions{OriginalExecution: workflow.Execution{ID: workflows.AccountWorkflowID(user), RunID: "replay"}}
	if err := replayer.ReplayWorkflowHistoryWithOptions(nil, hist, opts); err != nil {
		t.Errorf("replaying %s's account history: %v", user, err)
	}
	if dir := os.Getenv("DAYTRADER_RECORD_HISTORIES"); dir != "" {
		b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(hist)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "account-"+user+".json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return checkQuoteMarkers(t, hist)
}

// checkQuoteMarkers checks that the history's quote fetches are recorded
// as GetQuotesV2, every result in the compact form (one-letter names), and
// none as GetQuotes: an older worker fails on the new name instead of
// reading the compact results as empty quotes. It returns how many it saw.
func checkQuoteMarkers(t *testing.T, hist *historypb.History) int {
	t.Helper()
	n := 0
	for _, ev := range hist.Events {
		m := ev.GetMarkerRecordedEventAttributes()
		if m.GetMarkerName() != "LocalActivity" {
			continue
		}
		var data struct{ ActivityType string }
		if err := json.Unmarshal(m.GetDetails()["data"].GetPayloads()[0].GetData(), &data); err != nil {
			t.Fatalf("local activity marker %d: %v", ev.GetEventId(), err)
		}
		switch data.ActivityType {
		case "GetQuotes":
			t.Errorf("event %d: quotes fetched as GetQuotes, which older workers read in the form before", ev.GetEventId())
		case "GetQuotesV2":
			n++
			result := m.GetDetails()["result"].GetPayloads()
			if len(result) == 0 {
				continue // a failed fetch records its failure, no result
			}
			var results map[string]map[string]json.RawMessage
			if err := json.Unmarshal(result[0].GetData(), &results); err != nil {
				t.Fatalf("event %d: GetQuotesV2's result: %v", ev.GetEventId(), err)
			}
			for sym, r := range results {
				if _, compact := r["s"]; !compact || r["quote"] != nil {
					t.Errorf("event %d: %s's result is not in the compact form: %v", ev.GetEventId(), sym, r)
				}
			}
		}
	}
	return n
}

func fetchHistory(ctx context.Context, t *testing.T, c client.Client, id, runID string) *historypb.History {
	it := c.GetWorkflowHistory(ctx, id, runID, false, 0)
	hist := &historypb.History{}
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatalf("history of %s: %v", id, err)
		}
		hist.Events = append(hist.Events, ev)
	}
	return hist
}

// TestManyCommandsAtOnceForOneAccount sends one account 12,000 commands as
// fast as signals go: while its first batch runs, the rest arrive, and an
// account that ran all it had received in one workflow task gave Temporal
// an audit payload over its 2 MB limit, a task failed on every retry, and
// the acknowledged commands never ran (workflows.MaxBatchCommands).
func TestManyCommandsAtOnceForOneAccount(t *testing.T) {
	var buf bytes.Buffer
	if err := workloads.Generate(&buf, workloads.GenOptions{Users: 1, Lines: 12001, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "one-user.txt")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	wl, _, err := workloads.ParseFile(file, true)
	if err != nil {
		t.Fatal(err)
	}
	dev := stacktest.Start(t, stacktest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sendAll(ctx, t, workflows.NewAccounts(dev.Client), wl, 1000)
	want := int64(len(wl.ByUser[wl.Users[0]]))
	waitForUserCommands(ctx, t, audit.NewStore(dev.DB), want)
}
