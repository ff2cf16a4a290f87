package quotes

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// startServer runs an emulator on a free loopback port for the test.
func startServer(t *testing.T, opts ServerOptions) *Server {
	t.Helper()
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	s, err := NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// exchange sends request on a fresh connection, closes its sending side and
// returns all the server wrote before it closed the connection.
func exchange(t *testing.T, addr, request string) string {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatalf("writing %q: %v", request, err)
	}
	conn.(*net.TCPConn).CloseWrite()
	reply, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("reading the reply to %q: %v", truncate(request, 40), err)
	}
	return string(reply)
}

func TestServerMalformedRequests(t *testing.T) {
	s := startServer(t, ServerOptions{Seed: 1})
	cases := []struct{ request, wantErr string }{
		{"garbage\n", "ERROR: request has 1 fields, want 2"},
		{"\n", "ERROR: empty request"},
		{strings.Repeat("A", 5000) + "\n", "ERROR: request longer than 128 bytes"},
		{"abc,bob\n", `ERROR: stock symbol "abc" must be 1 to 3 upper-case letters`},
		{"ABC\n", "ERROR: request has 1 fields"},
		{"ABC,\n", `ERROR: user id "" must be 1 to 64 letters or digits`},
		{"ABC,bob,x\n", "ERROR: request has 3 fields"},
		{"\x00\xff\xfe\n", "ERROR: request has 1 fields"},
		{"", "ERROR: connection closed without a request"},
	}
	for i, c := range cases {
		reply := exchange(t, s.Addr(), c.request)
		if !strings.HasPrefix(reply, c.wantErr) || !strings.HasSuffix(reply, "\n") || strings.Count(reply, "\n") != 1 {
			t.Errorf("request %q: reply %q, want one line starting %q", truncate(c.request, 40), reply, c.wantErr)
		}
		// The server keeps serving after every bad request.
		good := exchange(t, s.Addr(), "ABC,bob\n")
		q, err := ParseReply(good)
		if err != nil || q.Symbol != "ABC" || q.User != "bob" {
			t.Fatalf("valid request after %d bad ones: %q, %v", i+1, good, err)
		}
	}
	// A request whose sender half-closes without a newline is still whole.
	if q, err := ParseReply(exchange(t, s.Addr(), "S,alice")); err != nil || q.Symbol != "S" {
		t.Errorf("request without newline: %+v, %v", q, err)
	}
	st := s.Stats()
	if st.Malformed != int64(len(cases)) || st.Served != int64(len(cases))+1 {
		t.Errorf("stats = %+v, want %d malformed and %d served", st, len(cases), len(cases)+1)
	}
}

func TestServerIdleConnectionTimesOut(t *testing.T) {
	s := startServer(t, ServerOptions{ReadTimeout: 100 * time.Millisecond})
	conn, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	reply, err := io.ReadAll(conn) // we send nothing
	if err != nil {
		t.Fatal(err)
	}
	if string(reply) != "ERROR: no request line within 100ms\n" {
		t.Errorf("idle connection got %q", reply)
	}
	if st := s.Stats(); st.Malformed != 1 {
		t.Errorf("stats = %+v, want 1 malformed", st)
	}
}

func TestServerFixedPricesAndFallback(t *testing.T) {
	const seed = 99
	fixed := map[string]decimal.Decimal{
		"ABC": decimal.RequireFromString("12.5"),
		"S":   decimal.RequireFromString("7"),
	}
	s := startServer(t, ServerOptions{Seed: seed, FixedPrices: fixed, WalkStep: time.Hour})
	before := time.Now().UnixMilli()
	keys := map[string]bool{}
	for symbol, want := range map[string]string{
		"ABC": "12.50",
		"S":   "7.00",
		"XYZ": NewPriceWalk(seed).Price("XYZ", 0).StringFixed(2), // not in the file: the walk
	} {
		reply := exchange(t, s.Addr(), symbol+",oY01WVirLr\n")
		fields := strings.Split(strings.TrimSuffix(reply, "\n"), ",")
		if len(fields) != 5 || fields[0] != want || fields[1] != symbol || fields[2] != "oY01WVirLr" {
			t.Errorf("%s: reply %q, want price %s", symbol, reply, want)
			continue
		}
		q, err := ParseReply(reply)
		if err != nil {
			t.Fatal(err)
		}
		if q.QuoteServerTime < before || q.QuoteServerTime > time.Now().UnixMilli() {
			t.Errorf("%s: server time %d is not now", symbol, q.QuoteServerTime)
		}
		if len(q.Cryptokey) != 44 || keys[q.Cryptokey] {
			t.Errorf("%s: cryptokey %q is not a fresh 44-character token", symbol, q.Cryptokey)
		}
		keys[q.Cryptokey] = true
	}
}

func TestNewServerRejectsBadOptions(t *testing.T) {
	for name, opts := range map[string]ServerOptions{
		"latency":          {Latency: "fast"},
		"symbol":           {FixedPrices: map[string]decimal.Decimal{"abc": decimal.NewFromInt(1)}},
		"zero price":       {FixedPrices: map[string]decimal.Decimal{"ABC": decimal.Zero}},
		"fraction of cent": {FixedPrices: map[string]decimal.Decimal{"ABC": decimal.RequireFromString("1.001")}},
	} {
		if _, err := NewServer(opts); err == nil {
			t.Errorf("%s: NewServer accepted %+v", name, opts)
		}
	}
}

// TestServerManyConcurrentConnections holds a thousand connections open at
// once before any of them sends its request.
func TestServerManyConcurrentConnections(t *testing.T) {
	const n = 1000
	s := startServer(t, ServerOptions{Seed: 3})
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(30 * time.Second))
		conns = append(conns, c)
	}
	waitFor(t, "the server to hold all connections open", func() bool { return s.Stats().Open == n })
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i, c := range conns {
		wg.Go(func() {
			symbol := string(rune('A' + i%26))
			if _, err := io.WriteString(c, symbol+",u"+symbol+"\n"); err != nil {
				errs <- err
				return
			}
			line, err := bufio.NewReader(c).ReadString('\n')
			if err != nil {
				errs <- err
				return
			}
			if q, err := ParseReply(line); err != nil || q.Symbol != symbol {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	waitFor(t, "the server to count every reply", func() bool { return s.Stats().Served == n })
}

func TestServeStopsWithContext(t *testing.T) {
	s, err := NewServer(ServerOptions{Addr: "127.0.0.1:0", Latency: LatencyLegacy, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	for s.Addr() == "" {
		time.Sleep(time.Millisecond)
	}
	// Some requests wait for their slow (1-4 s) reply while we stop.
	for range 20 {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "ABC,bob\n")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve = %v, want nil after cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its context was cancelled")
	}
	if _, err := net.Dial("tcp", s.Addr()); err == nil {
		t.Error("server still accepts connections after Serve returned")
	}
}

// waitFor polls cond for up to 10 s, for effects that land just after the
// call that caused them returned (a counter bumped after a write, a close
// seen by the other end).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestSetPriceMovesTheMarket(t *testing.T) {
	s, err := NewServer(ServerOptions{Addr: "127.0.0.1:0", Latency: LatencyNone, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.SetPrice("abc", decimal.NewFromInt(1)); err == nil {
		t.Error("a lower-case symbol was accepted")
	}
	if err := s.SetPrice("ABC", decimal.RequireFromString("7.25")); err != nil {
		t.Fatal(err)
	}
	if q := s.quote("ABC", "alice"); !q.Price.Equal(decimal.RequireFromString("7.25")) {
		t.Errorf("price after SetPrice = %s, want 7.25", q.Price)
	}
}
