package chaos

import (
	"bufio"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/internal/stack"
	"github.com/daytradinginc/daytrader/internal/testdb"
	"github.com/daytradinginc/daytrader/quotes"
	"github.com/daytradinginc/daytrader/trading"
	"github.com/daytradinginc/daytrader/workflows"
	"github.com/shopspring/decimal"
)

// slowQuoteServer speaks the legacy protocol but answers every request only
// after delay, like the legacy server on a bad day (its replies take 4 s or
// more).
type slowQuoteServer struct {
	ln    net.Listener
	delay time.Duration
	done  chan struct{}
	wg    sync.WaitGroup
}

func startSlowQuoteServer(t testing.TB, delay time.Duration) *slowQuoteServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &slowQuoteServer{ln: ln, delay: delay, done: make(chan struct{})}
	s.wg.Go(s.serve)
	t.Cleanup(func() {
		close(s.done)
		ln.Close()
		s.wg.Wait()
	})
	return s
}

func (s *slowQuoteServer) serve() {
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Go(func() {
			defer conn.Close()
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			line, err := bufio.NewReader(conn).ReadString('\n')
			if err != nil {
				return
			}
			sym, user, err := quotes.ParseRequest(line)
			if err != nil {
				return
			}
			select {
			case <-time.After(s.delay):
			case <-s.done:
				return
			}
			_, _ = conn.Write([]byte(quotes.FormatReply(trading.Quote{Symbol: sym, User: user,
				Price: decimal.RequireFromString("12.34"), QuoteServerTime: time.Now().UnixMilli(), Cryptokey: "slow"})))
		})
	}
}

// startStackWithQuoteServer runs the stack in the test process (embedded
// Temporal, worker) against the quote server at addr instead of the
// emulator.
func startStackWithQuoteServer(t *testing.T, addr string) *stack.Dev {
	t.Helper()
	cfg := stack.FromEnv()
	cfg.TemporalAddress = ""
	cfg.EmbeddedFrontend = "127.0.0.1:0"
	cfg.TemporalUIAddr = ""
	cfg.TemporalHTTPAddr = ""
	cfg.QuoteServerAddr = addr
	cfg.DataDir = t.TempDir()
	cfg.DatabaseURL = testdb.URL(t)
	cfg.LogLevel = "error"
	cfg.ServerName = "chaos"
	cfg.MetricsAddr = ""
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dev, err := stack.StartDev(ctx, cfg, stack.DevOptions{NoWeb: true, NoQuoteServer: true})
	if err != nil {
		t.Fatalf("starting the stack: %v", err)
	}
	t.Cleanup(func() { _ = dev.Close() })
	return dev
}

// quoteFaultBound is how long a small batch may take when the quote server
// does not answer: the quote client gives up after 4 s, so anything near
// this bound means something hangs.
const quoteFaultBound = 30 * time.Second

// TestFaultQuoteServer makes the legacy quote server slow (every reply
// after 5 s, past the client's 4 s budget) or down (nothing listens). An
// account's batch of commands that need a quote must complete in bounded
// time with a clear errorEvent for each command that could not be priced,
// the rest of the batch applied, and another account's commands that need
// no quote must not wait for it. The interactive path (the execute update)
// must answer too.
func TestFaultQuoteServer(t *testing.T) {
	t.Run("slow", func(t *testing.T) {
		testQuoteFault(t, startSlowQuoteServer(t, 5*time.Second).ln.Addr().String(), "replies after 5 s")
	})
	t.Run("down", func(t *testing.T) {
		testQuoteFault(t, freeAddrs(t, 1)[0], "nothing listens")
	})
}

func testQuoteFault(t *testing.T, quoteAddr, fault string) {
	dev := startStackWithQuoteServer(t, quoteAddr)
	accounts := workflows.NewAccounts(dev.Client)
	store := audit.NewStore(dev.DB)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	const alice, bob = "quoteAlice", "quoteBob"
	aliceCmds := []trading.Command{
		{TxNum: 1, Name: trading.Add, User: alice, Amount: "1000.00"},
		{TxNum: 2, Name: trading.QuoteCmd, User: alice, Symbol: "ABC"},
		{TxNum: 3, Name: trading.Buy, User: alice, Symbol: "ABC", Amount: "100.00"},
		{TxNum: 4, Name: trading.SetBuyAmount, User: alice, Symbol: "ABC", Amount: "50.00"},
		{TxNum: 5, Name: trading.SetBuyTrigger, User: alice, Symbol: "ABC", Price: "10.00"},
		{TxNum: 6, Name: trading.DisplaySummary, User: alice},
	}
	bobCmds := []trading.Command{
		{TxNum: 11, Name: trading.Add, User: bob, Amount: "500.00"},
		{TxNum: 12, Name: trading.SetBuyAmount, User: bob, Symbol: "XYZ", Amount: "100.00"},
		{TxNum: 13, Name: trading.CancelSetBuy, User: bob, Symbol: "XYZ"},
		{TxNum: 14, Name: trading.CommitBuy, User: bob},
		{TxNum: 15, Name: trading.DisplaySummary, User: bob},
	}
	start := time.Now()
	if err := accounts.Send(ctx, alice, aliceCmds); err != nil {
		t.Fatal(err)
	}
	if err := accounts.Send(ctx, bob, bobCmds); err != nil {
		t.Fatal(err)
	}
	// Poll both accounts' audit until each has all its records.
	var aliceDone, bobDone time.Duration
	txs := func(cmds []trading.Command) []int64 {
		var out []int64
		for _, c := range cmds {
			out = append(out, c.TxNum)
		}
		return out
	}
	for aliceDone == 0 || bobDone == 0 {
		if time.Since(start) > quoteFaultBound {
			t.Fatalf("quote server %s: after %s alice's batch done=%v, bob's done=%v: something hangs", fault, quoteFaultBound, aliceDone, bobDone)
		}
		for _, acct := range []struct {
			cmds []trading.Command
			done *time.Duration
		}{{aliceCmds, &aliceDone}, {bobCmds, &bobDone}} {
			if *acct.done != 0 {
				continue
			}
			c, err := countAudit(ctx, dev.DB, txs(acct.cmds))
			if err != nil {
				t.Fatal(err)
			}
			if c.Processed == c.Sent {
				*acct.done = time.Since(start)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	all := append(txs(aliceCmds), txs(bobCmds)...)
	c, err := countAudit(ctx, dev.DB, all)
	if err != nil {
		t.Fatal(err)
	}
	if c.StateProcessed, err = stateProcessed(ctx, accounts, []string{alice, bob}); err != nil {
		t.Fatal(err)
	}
	t.Logf("quote server %s: faults=[quote server %s] %s alice's batch took %s, bob's %s",
		fault, fault, c, aliceDone.Round(time.Millisecond), bobDone.Round(time.Millisecond))
	if c.Lost != 0 || c.Duplicated != 0 || c.StateProcessed != int64(c.Sent) {
		t.Errorf("lost=%d duplicated=%d state-processed=%d, want 0, 0 and %d", c.Lost, c.Duplicated, c.StateProcessed, c.Sent)
	}
	if bobDone >= aliceDone {
		t.Errorf("bob's commands (no quote needed) finished after %s, only after alice's batch waiting for quotes (%s)", bobDone, aliceDone)
	}

	// Alice's QUOTE and BUY failed with a message saying why; everything
	// else of her batch was applied.
	page, err := store.History(ctx, audit.HistoryQuery{User: alice, Type: trading.ErrorEvent})
	if err != nil {
		t.Fatal(err)
	}
	failed := map[int64]string{}
	for _, ev := range page.Events {
		failed[ev.TxNum] = ev.Message
	}
	for _, tx := range []int64{2, 3} {
		msg := failed[tx]
		if !strings.Contains(msg, "could not get a quote for ABC") || !strings.Contains(msg, "unreachable") {
			t.Errorf("transaction %d: errorEvent %q, want a clear 'could not get a quote for ABC: quote server unreachable ...'", tx, msg)
		}
	}
	if len(failed) != 2 {
		t.Errorf("alice's errorEvents: %v, want only the QUOTE's and the BUY's", failed)
	}
	sum, err := accounts.Summary(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if got := summaryText(sum); got != "exists=true cash=950.00 reserved=50.00 border:ABC:50.00@10.00" {
		t.Errorf("alice: %s, want cash 950, a $50 buy order on ABC with its trigger at $10 (set; its price check deferred)", got)
	}
	sum, err = accounts.Summary(ctx, bob)
	if err != nil {
		t.Fatal(err)
	}
	if got := summaryText(sum); got != "exists=true cash=500.00 reserved=0.00" {
		t.Errorf("bob: %s, want cash 500 and nothing else", got)
	}

	// The interactive path answers in bounded time too.
	uctx, ucancel := context.WithTimeout(ctx, quoteFaultBound)
	defer ucancel()
	res, err := accounts.Execute(uctx, trading.Command{TxNum: 7, Name: trading.QuoteCmd, User: alice, Symbol: "XYZ"})
	if err != nil {
		t.Fatalf("QUOTE through the execute update: %v", err)
	}
	if res.OK || !strings.Contains(res.Message, "could not get a quote for XYZ") {
		t.Errorf("QUOTE through the execute update: %+v, want a failure saying no quote could be had", res)
	}
}
