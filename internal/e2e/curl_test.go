package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/internal/stack"
	"github.com/daytradinginc/daytrader/internal/stacktest"
	"github.com/daytradinginc/daytrader/temporal"
	"github.com/daytradinginc/daytrader/trading"
	"github.com/daytradinginc/daytrader/workflows"
	"github.com/shopspring/decimal"
)

const (
	curlHeading = "### With curl"
	cliHeading  = "### With the Temporal CLI"
	curlUser    = "curly1"
)

// TestREADMECurl runs the README's curl lines verbatim with the real curl
// binary against the real stack: the only change is $TEMPORAL_HTTP, which
// points at this stack's HTTP API instead of the README's 127.0.0.1:7243.
// Each line's answer must carry the status and fields the README shows
// under it; then the account and its audit are checked. The first block
// is the happy path, the second sends bad payloads, which must get the
// documented errors and change nothing.
func TestREADMECurl(t *testing.T) {
	blocks := shBlocks(readmeSection(t, curlHeading))
	if len(blocks) != 3 {
		t.Fatalf("README %q: %d sh blocks, want 3: $TEMPORAL_HTTP, the happy path, bad payloads", curlHeading, len(blocks))
	}
	checkHTTPDefinition(t, blocks[0])
	happy, bad := curlSteps(t, blocks[1]), curlSteps(t, blocks[2])

	dev := stacktest.Start(t, stacktest.Options{QuotePrices: pricesFile(t, "ABC,20.00\n")})
	if dev.TemporalHTTPURL() == "" {
		t.Fatal("the stack serves no Temporal HTTP API (TEMPORAL_HTTP_ADDR is not wired to temporal.Options.HTTPAddr)")
	}
	sh := newCurlShell(t, dev.TemporalHTTPURL())
	for _, step := range happy {
		sh.check(t, step)
	}
	before := checkREADMEHappyPath(t, dev)
	for _, step := range bad {
		sh.check(t, step)
	}
	checkBadPayloadsChangedNothing(t, dev, before)
}

// checkHTTPDefinition: the block that defines $TEMPORAL_HTTP names the
// address `make run` really serves, so it is the one line not run.
func checkHTTPDefinition(t *testing.T, block []string) {
	t.Helper()
	want := "TEMPORAL_HTTP=http://" + temporal.DefaultHTTPAddr
	if len(block) != 1 || block[0] != want {
		t.Fatalf("README %q: first block is %q, want %q", curlHeading, block, want)
	}
	if def := stack.Defaults().TemporalHTTPAddr; def != temporal.DefaultHTTPAddr {
		t.Fatalf("TEMPORAL_HTTP_ADDR defaults to %q, the README says %s", def, temporal.DefaultHTTPAddr)
	}
}

// curlShell runs README steps with sh and the real curl. A .curlrc in
// CURL_HOME makes curl print the HTTP status after the body, so the README
// lines stay untouched and the test still sees the status.
type curlShell struct {
	env []string
}

func newCurlShell(t *testing.T, httpURL string) *curlShell {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatalf("this test runs the README's lines with curl: %v (apt-get install curl)", err)
	}
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, ".curlrc"), []byte("write-out = \"\\n%{http_code}\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return &curlShell{env: append(os.Environ(), "TEMPORAL_HTTP="+httpURL, "CURL_HOME="+home)}
}

func (s *curlShell) check(t *testing.T, step curlStep) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", step.script)
	cmd.Env = s.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s\n%v: %s", step.script, err, stderr.String())
	}
	out := stdout.String()
	i := strings.LastIndex(out, "\n") // the .curlrc's write-out: body, newline, status
	if i < 0 {
		t.Fatalf("%s\nno HTTP status after the body: %q", step.script, out)
	}
	body, statusText := out[:i], out[i+1:]
	t.Logf("$ %s\n%s %s", step.script, statusText, body)
	if status, _ := strconv.Atoi(statusText); status != step.status {
		t.Fatalf("%s\nHTTP status %q, the README says %d; body: %s", step.script, statusText, step.status, body)
	}
	if step.want == nil {
		return
	}
	var got any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("%s\nanswer is not JSON: %v: %s", step.script, err, body)
	}
	if err := jsonSubset("answer", step.want, got); err != nil {
		t.Fatalf("%s\nthe answer differs from the README: %v\nanswer: %s", step.script, err, body)
	}
}

// checkREADMEHappyPath: ADD 1000.00, BUY $100.00 of ABC at $20.00 and its
// COMMIT_BUY leave $900.00 and 5 ABC; the QUOTE and DISPLAY_SUMMARY change
// nothing; each of the five commands is audited once and none failed.
func checkREADMEHappyPath(t *testing.T, dev *stack.Dev) trading.Summary {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	accounts := workflows.NewAccounts(dev.Client)
	sum, err := accounts.Summary(ctx, curlUser)
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Cash.Equal(decimal.RequireFromString("900")) || !sum.ReservedCash.IsZero() ||
		len(sum.Holdings) != 1 || sum.Holdings[0].Symbol != "ABC" || sum.Holdings[0].Shares != 5 ||
		len(sum.PendingBuys)+len(sum.PendingSells)+len(sum.BuyOrders)+len(sum.SellOrders) != 0 {
		t.Fatalf("after the README's curl lines: %+v, want $900.00 and 5 ABC, nothing pending", sum)
	}
	records := auditByType(t, dev, curlUser)
	if want := []int64{1, 2, 3, 4, 5}; !slices.Equal(records[trading.UserCommandEvent], want) || len(records[trading.ErrorEvent]) != 0 {
		t.Fatalf("audit after the README's curl lines: %v, want userCommand %v and no errorEvent", records, want)
	}
	return sum
}

// checkBadPayloadsChangedNothing: after the bad payloads the account holds
// what it held. Only the two commands the README says are applied as
// failures (COMMIT_SELL through the update, bob's ADD through a signal)
// left records, an errorEvent each; the rejected updates (7, 8), the
// unknown command (11) and the undecodable signal (txNum "12") left none,
// and nothing was recorded for bob.
func checkBadPayloadsChangedNothing(t *testing.T, dev *stack.Dev, before trading.Summary) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	accounts := workflows.NewAccounts(dev.Client)
	// An update is applied after every signal sent before it: once it
	// answers, the README's signals have all been handled.
	if _, err := accounts.Execute(ctx, trading.Command{TxNum: 13, Name: trading.DisplaySummary, User: curlUser}); err != nil {
		t.Fatal(err)
	}
	after, err := accounts.Summary(ctx, curlUser)
	if err != nil {
		t.Fatal(err)
	}
	if !sameHoldings(before, after) {
		t.Errorf("bad payloads changed the account:\nbefore %+v\nafter  %+v", before, after)
	}
	records := auditByType(t, dev, curlUser)
	wantCommands, wantErrors := []int64{1, 2, 3, 4, 5, 9, 10, 13}, []int64{9, 10}
	if !slices.Equal(records[trading.UserCommandEvent], wantCommands) || !slices.Equal(records[trading.ErrorEvent], wantErrors) {
		t.Errorf("audit after the bad payloads: %v, want userCommand %v and errorEvent %v", records, wantCommands, wantErrors)
	}
	if bob := auditByType(t, dev, "bob"); len(bob) != 0 {
		t.Errorf("bob has audit records: %v", bob)
	}
	if p, err := accounts.Progress(ctx, curlUser); err != nil || p.Processed != 8 {
		t.Errorf("progress %+v (%v), want 8 commands processed: 5, COMMIT_SELL, bob's ADD, the check's own", p, err)
	}
}

func sameHoldings(a, b trading.Summary) bool {
	return a.Cash.Equal(b.Cash) && a.ReservedCash.Equal(b.ReservedCash) &&
		reflect.DeepEqual(a.Holdings, b.Holdings) && reflect.DeepEqual(a.PendingBuys, b.PendingBuys) &&
		reflect.DeepEqual(a.PendingSells, b.PendingSells) && reflect.DeepEqual(a.BuyOrders, b.BuyOrders) &&
		reflect.DeepEqual(a.SellOrders, b.SellOrders)
}

// auditByType returns the user's audited transaction numbers by record
// type, ascending, quote records aside (they depend on the quote cache).
func auditByType(t *testing.T, dev *stack.Dev, user string) map[trading.EventType][]int64 {
	t.Helper()
	page, err := audit.NewStore(dev.DB).History(context.Background(), audit.HistoryQuery{User: user, Limit: audit.MaxHistoryLimit})
	if err != nil {
		t.Fatal(err)
	}
	out := map[trading.EventType][]int64{}
	for _, ev := range page.Events {
		if ev.Type == trading.UserCommandEvent || ev.Type == trading.ErrorEvent {
			out[ev.Type] = append(out[ev.Type], ev.TxNum)
		}
	}
	for _, nums := range out {
		slices.Sort(nums)
	}
	return out
}

// TestREADMECLIMatchesCurl: the Temporal CLI cannot be installed here, so
// its README lines cannot run; they must at least send the commands the
// curl lines send (and TestREADMECurl runs), in the same order, for
// another user.
func TestREADMECLIMatchesCurl(t *testing.T) {
	cliBlocks := shBlocks(readmeSection(t, cliHeading))
	curlBlocks := shBlocks(readmeSection(t, curlHeading))
	if len(cliBlocks) != 1 || len(curlBlocks) < 2 {
		t.Fatalf("README: %d CLI blocks (want 1), %d curl blocks (want the happy path second)", len(cliBlocks), len(curlBlocks))
	}
	cli := commandsIn(jsonArgs(t, cliBlocks[0]))
	curl := commandsIn(jsonArgs(t, curlBlocks[1]))
	if len(curl) == 0 {
		t.Fatal("README: the curl happy path sends no commands")
	}
	for _, c := range cli {
		if c["user"] == "alice" {
			c["user"] = curlUser
		}
	}
	if !reflect.DeepEqual(cli, curl) {
		t.Errorf("README: the CLI lines send\n%v\nthe curl lines send\n%v", cli, curl)
	}
}

// TestStackBesideRunningDev: a test stack must not take the fixed ports a
// `make run` on the same machine uses (nor those of another test package
// running at the same time); its Temporal HTTP API, like its gRPC, goes on
// a free port. Here 7243 is held (by this test, or by a running dev).
func TestStackBesideRunningDev(t *testing.T) {
	if ln, err := net.Listen("tcp", temporal.DefaultHTTPAddr); err == nil {
		defer ln.Close()
	}
	dev := stacktest.Start(t, stacktest.Options{})
	if got := dev.TemporalHTTPURL(); got == "" || got == "http://"+temporal.DefaultHTTPAddr {
		t.Fatalf("test stack's HTTP API at %q, want a free port", got)
	}
}
