package quotes

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/trading"
	"github.com/shopspring/decimal"
)

// TestClientHedgesLegacyLatency fetches quotes from an emulator with the
// legacy latency model. About a third of requests stall for whole seconds;
// the hedged client asks again after 20 ms, 45 ms, ... so nearly every quote
// is answered by its first or second attempt (1 - 0.3425² = 88 % expected).
// The assertion is on which attempt answered, not on time; the times are
// logged for the record.
func TestClientHedgesLegacyLatency(t *testing.T) {
	const fetches, parallel = 300, 30
	s := startServer(t, ServerOptions{Latency: LatencyLegacy, Seed: 2017})
	c, err := NewClient(s.Addr(), ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	infos := make([]FetchInfo, fetches)
	errs := make([]error, fetches)
	slots := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i := range fetches {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			symbol := string(rune('A'+i%26)) + string(rune('A'+i/26%26))
			var q trading.Quote
			q, infos[i], errs[i] = c.FetchWithInfo(context.Background(), symbol, "hedger")
			if errs[i] == nil && (q.Symbol != symbol || q.User != "hedger" || !q.Price.IsPositive() || q.FetchedAt.IsZero()) {
				errs[i] = errors.New("bad quote " + FormatReply(q))
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("fetch %d: %v", i, err)
		}
	}

	byFirstTwo, hedgeWon := 0, 0
	var under50, under100 int
	elapsed := make([]time.Duration, 0, fetches)
	for _, info := range infos {
		if info.Winner < 1 || info.Winner > info.Attempts {
			t.Fatalf("info %+v: winner is not one of the attempts", info)
		}
		if info.Winner <= 2 {
			byFirstTwo++
		}
		if info.Winner > 1 {
			hedgeWon++
		}
		if info.Elapsed < 50*time.Millisecond {
			under50++
		}
		if info.Elapsed < 100*time.Millisecond {
			under100++
		}
		elapsed = append(elapsed, info.Elapsed)
	}
	if share := float64(byFirstTwo) / fetches; share < 0.80 {
		t.Errorf("%.1f%% of quotes answered by attempt 1 or 2, want >= 80%%", 100*share)
	}
	if hedgeWon == 0 {
		t.Error("no quote was answered by a hedge: hedging never helped")
	}
	st := c.Stats()
	if st.Fetches != fetches || st.Hedged != int64(hedgeWon) || st.Unavailable != 0 {
		t.Errorf("client stats = %+v", st)
	}
	slices.Sort(elapsed)
	t.Logf("legacy latency, %d hedged fetches (%d at a time): %.1f%% by attempt 1-2, %.1f%% won by a hedge, "+
		"%.1f%% under 50ms, %.1f%% under 100ms, median %v, p95 %v, max %v, %.2f connections per fetch",
		fetches, parallel, 100*float64(byFirstTwo)/fetches, 100*float64(hedgeWon)/fetches,
		100*float64(under50)/fetches, 100*float64(under100)/fetches,
		elapsed[fetches/2].Round(time.Millisecond/10), elapsed[fetches*95/100].Round(time.Millisecond/10),
		elapsed[fetches-1].Round(time.Millisecond/10), float64(st.Attempts)/fetches)
}

// fakeServer accepts connections and hands each to handle, counting how many
// are open at once.
type fakeServer struct {
	addr           string
	accepted, open atomic.Int64
	mu             sync.Mutex
	maxOpen        int64
}

func startFake(t *testing.T, handle func(net.Conn)) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeServer{addr: ln.Addr().String()}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			f.accepted.Add(1)
			n := f.open.Add(1)
			f.mu.Lock()
			f.maxOpen = max(f.maxOpen, n)
			f.mu.Unlock()
			wg.Go(func() {
				defer f.open.Add(-1)
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(10 * time.Second))
				handle(conn)
			})
		}
	})
	return f
}

// silent reads the request and never answers, until the client hangs up.
func silent(conn net.Conn) { io.Copy(io.Discard, conn) }

func TestClientGivesUpOnSilentServer(t *testing.T) {
	f := startFake(t, silent)
	c, err := NewClient(f.addr, ClientOptions{GiveUpAfter: 300 * time.Millisecond, MaxOpenAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	_, info, err := c.FetchWithInfo(context.Background(), "ABC", "bob")
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if want := "quote server unreachable for ABC after 300ms (3 attempts, none answered)"; err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
	// Hedges at 0, 20 and 45 ms, then the cap of 3 open connections holds.
	f.mu.Lock()
	maxOpen := f.maxOpen
	f.mu.Unlock()
	if info.Attempts != 3 || f.accepted.Load() != 3 || maxOpen != 3 {
		t.Errorf("attempts %d, accepted %d, at most %d open at once; want 3 each", info.Attempts, f.accepted.Load(), maxOpen)
	}
	waitFor(t, "the give-up to close every connection", func() bool { return f.open.Load() == 0 })
	if st := c.Stats(); st.Unavailable != 1 || st.Fetches != 0 {
		t.Errorf("stats = %+v", st)
	}
}

func TestClientGivesUpOnClosedPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, err := NewClient(addr, ClientOptions{GiveUpAfter: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, info, err := c.FetchWithInfo(context.Background(), "XYZ", "bob")
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "quote server unreachable for XYZ after 200ms") ||
		!strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("err = %v, want ErrUnavailable naming XYZ and the refused connection", err)
	}
	// Refused attempts are retried on the schedule (0, 20, 45, 75, 110,
	// 150, 195 ms), not in a tight loop.
	if info.Attempts < 2 || info.Attempts > 7 {
		t.Errorf("%d attempts in 200ms, want 2..7", info.Attempts)
	}
}

func TestClientStopsOnErrorLine(t *testing.T) {
	f := startFake(t, func(conn net.Conn) {
		io.WriteString(conn, "ERROR: account suspended\n")
	})
	// A first timeout far above the fake's answer, so that no hedge goes
	// out before it on a loaded machine (TestClientObserveSeesEachFetch saw
	// an answer take 25 ms): a second attempt can only come from the error
	// line not being taken as final.
	c, _ := NewClient(f.addr, ClientOptions{FirstTimeout: time.Second})
	_, info, err := c.FetchWithInfo(context.Background(), "ABC", "bob")
	if !errors.Is(err, ErrRejected) || errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "account suspended") {
		t.Fatalf("err = %v, want ErrRejected with the server's reason", err)
	}
	if info.Attempts != 1 {
		t.Errorf("%d attempts, want 1: an error line is final", info.Attempts)
	}
}

func TestClientRefusesMismatchedReply(t *testing.T) {
	f := startFake(t, func(conn net.Conn) {
		io.WriteString(conn, "5.00,XYZ,bob,1700000000000,key\n")
	})
	c, _ := NewClient(f.addr, ClientOptions{GiveUpAfter: 100 * time.Millisecond})
	_, err := c.Fetch(context.Background(), "ABC", "bob")
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "reply is for XYZ,bob, asked for ABC,bob") {
		t.Fatalf("err = %v, want ErrUnavailable naming the mismatch", err)
	}
}

// TestClientGiveUpNamesTheRealFailure: the first attempt of each fetch gets
// a wrong reply and the hedged ones get no reply at all. The give-up must
// name the wrong reply, not the error of an attempt the give-up itself cut
// off (it used to, now and then: "use of closed network connection").
func TestClientGiveUpNamesTheRealFailure(t *testing.T) {
	var mu sync.Mutex
	answered := map[string]bool{}
	f := startFake(t, func(conn net.Conn) {
		line, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil {
			return
		}
		mu.Lock()
		first := !answered[line]
		answered[line] = true
		mu.Unlock()
		if first {
			io.WriteString(conn, "5.00,XYZ,nobody,1700000000000,key\n")
			return
		}
		io.Copy(io.Discard, conn) // until the client hangs up
	})
	c, _ := NewClient(f.addr, ClientOptions{GiveUpAfter: 100 * time.Millisecond})
	for i := range 10 {
		user := fmt.Sprintf("user%d", i)
		_, info, err := c.FetchWithInfo(context.Background(), "ABC", user)
		if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "last error: reply is for XYZ,nobody") {
			t.Fatalf("fetch %d (%d attempts): err = %v, want the wrong reply named", i, info.Attempts, err)
		}
	}
}

func TestClientFetchDetails(t *testing.T) {
	s := startServer(t, ServerOptions{FixedPrices: map[string]decimal.Decimal{"ABC": decimal.RequireFromString("3.1")}})
	arrived := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c, err := NewClient(s.Addr(), ClientOptions{Now: func() time.Time { return arrived }})
	if err != nil {
		t.Fatal(err)
	}
	q, err := c.Fetch(context.Background(), "ABC", "bob")
	if err != nil {
		t.Fatal(err)
	}
	if q.Price.StringFixed(2) != "3.10" || !q.FetchedAt.Equal(arrived) || len(q.Cryptokey) != 44 {
		t.Errorf("quote = %+v", q)
	}
	for _, bad := range [][2]string{{"abc", "bob"}, {"ABC", ""}, {"ABCD", "bob"}} {
		if _, err := c.Fetch(context.Background(), bad[0], bad[1]); err == nil || errors.Is(err, ErrUnavailable) {
			t.Errorf("Fetch(%q, %q) = %v, want an input error", bad[0], bad[1], err)
		}
	}
	waitFor(t, "the emulator to count its reply", func() bool { return s.Stats().Served == 1 })
	if st := s.Stats(); st.Served != 1 || st.Malformed != 0 {
		t.Errorf("server stats = %+v: bad input must not reach the server", st)
	}
	if _, err := NewClient("no-port", ClientOptions{}); err == nil {
		t.Error("NewClient accepted an address without a port")
	}
}

func TestClientCancelledContext(t *testing.T) {
	f := startFake(t, silent)
	c, _ := NewClient(f.addr, ClientOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Fetch(ctx, "ABC", "bob")
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want the caller's deadline, not ErrUnavailable", err)
	}
}

// TestClientObserveSeesEachFetch: Observe is told of every fetch once it
// is over, with what the worker's metrics need: a fetch answered by its
// hedge (the first connection stays silent), a rejected one, and none for
// input refused before anything was sent.
func TestClientObserveSeesEachFetch(t *testing.T) {
	var conns atomic.Int64
	f := startFake(t, func(conn net.Conn) {
		if conns.Add(1) == 1 {
			silent(conn)
			return
		}
		line, _ := bufio.NewReader(conn).ReadString('\n')
		if strings.HasPrefix(line, "REJ") {
			// Later than the first timeout, so a hedge goes out first:
			// a loaded machine did that by itself (CI: 25 ms).
			time.Sleep(2 * DefaultFirstTimeout)
			io.WriteString(conn, "ERROR: no such symbol\n")
			return
		}
		io.WriteString(conn, "5.00,ABC,bob,1700000000000,key\n")
	})
	type seen struct {
		info FetchInfo
		err  error
	}
	var mu sync.Mutex
	var got []seen
	c, err := NewClient(f.addr, ClientOptions{Observe: func(info FetchInfo, err error) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, seen{info, err})
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Fetch(context.Background(), "ABC", "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Fetch(context.Background(), "REJ", "bob"); !errors.Is(err, ErrRejected) {
		t.Fatalf("err = %v, want ErrRejected", err)
	}
	if _, err := c.Fetch(context.Background(), "toolong", "bob"); err == nil {
		t.Fatal("a bad symbol was fetched")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 {
		t.Fatalf("observed %d fetches, want 2 (the refused input is not a fetch): %+v", len(got), got)
	}
	// The first connection never answers, so a hedge wins: the second as a
	// rule, a later one if the second's answer took longer than the next
	// wait (25 ms) on a loaded machine.
	if h := got[0]; h.err != nil || h.info.Attempts < 2 || h.info.Winner < 2 || h.info.Winner > h.info.Attempts ||
		h.info.Elapsed < DefaultFirstTimeout {
		t.Errorf("hedged fetch observed as %+v, want a hedge (attempt 2 or later) to win after >= 20 ms", h)
	}
	// A rejection is no attempt's win, however many attempts were out: two
	// here as a rule, one if the client was too starved to hedge before the
	// answer, three if the answer came after the second wait too (seen
	// under load).
	if r := got[1]; !errors.Is(r.err, ErrRejected) || r.info.Attempts < 1 || r.info.Winner != 0 {
		t.Errorf("rejected fetch observed as %+v, want ErrRejected, at least one attempt and no winner", r)
	}
}
