package quotes

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/daytradinginc/daytrader/trading"
	"github.com/shopspring/decimal"
)

// ServerOptions configures the legacy quote server emulator.
type ServerOptions struct {
	// Addr is the TCP address to listen on; "" means an ephemeral port on
	// 127.0.0.1 (see Server.Addr).
	Addr string
	// Latency is how long replies take; "" means LatencyNone.
	Latency LatencyModel
	// Seed drives both the latency draws and the price walk.
	Seed int64
	// FixedPrices, when set, are the prices of their symbols; any other
	// symbol falls back to the seeded walk. See LoadPrices.
	FixedPrices map[string]decimal.Decimal
	// Logger receives start/stop at Info and every request at Debug; nil
	// discards.
	Logger *slog.Logger
	// ReadTimeout is how long a connection may take to send its request
	// line before it gets an error and is closed, so idle connections cannot
	// pile up. 0 means DefaultReadTimeout.
	ReadTimeout time.Duration
	// WalkStep is how much uptime one step of the price walk takes. 0 means
	// DefaultWalkStep.
	WalkStep time.Duration
}

const (
	DefaultReadTimeout = 5 * time.Second
	DefaultWalkStep    = time.Minute
	// writeTimeout bounds writing a reply or error line to a stuck client.
	writeTimeout = 5 * time.Second
	// drainLimit and drainTimeout bound how much of a rejected request we
	// read and throw away after the error line, so that closing does not
	// reset the connection before the client has read why.
	drainLimit   = 64 << 10
	drainTimeout = time.Second
)

// ServerStats are the emulator's counters since it started.
type ServerStats struct {
	Served    int64 // replies with a quote written
	Malformed int64 // requests answered with an error line
	Open      int64 // connections open right now
}

// Server emulates the legacy quote server: one request per TCP connection,
// each answered after a delay drawn from the latency model.
type Server struct {
	opts    ServerOptions
	log     *slog.Logger
	latency *LatencySampler
	walk    *PriceWalk
	// fixed prices; SetPrice changes them while the server runs.
	fixedMu sync.RWMutex
	fixed   map[string]decimal.Decimal

	// ctx is cancelled by Close; it ends every wait and closes every
	// connection still open.
	ctx    context.Context
	cancel context.CancelFunc

	mu         sync.Mutex
	ln         net.Listener
	startedAt  time.Time
	acceptDone chan struct{}
	acceptErr  error
	closed     bool

	conns sync.WaitGroup

	served, malformed, open atomic.Int64
}

// NewServer checks opts and returns a server that is not yet listening (see
// Start and Serve).
func NewServer(opts ServerOptions) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Latency == "" {
		opts.Latency = LatencyNone
	}
	if opts.ReadTimeout <= 0 {
		opts.ReadTimeout = DefaultReadTimeout
	}
	if opts.WalkStep <= 0 {
		opts.WalkStep = DefaultWalkStep
	}
	latency, err := NewLatencySampler(opts.Latency, opts.Seed)
	if err != nil {
		return nil, err
	}
	fixed := make(map[string]decimal.Decimal, len(opts.FixedPrices))
	for symbol, price := range opts.FixedPrices {
		if !trading.ValidSymbol(symbol) {
			return nil, fmt.Errorf("fixed price for %q: stock symbol must be 1 to 3 upper-case letters", symbol)
		}
		if !price.IsPositive() || !price.Equal(price.Round(2)) {
			return nil, fmt.Errorf("fixed price %s for %s must be greater than 0 with at most 2 decimals", price, symbol)
		}
		fixed[symbol] = price
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		opts:    opts,
		log:     log.With("component", "quoteserver"),
		latency: latency,
		walk:    NewPriceWalk(opts.Seed),
		fixed:   fixed,
		ctx:     ctx,
		cancel:  cancel,
	}, nil
}

// Start listens on the configured address and serves in the background until
// Close.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("quote server emulator: already closed")
	}
	if s.ln != nil {
		return errors.New("quote server emulator: already started")
	}
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("quote server emulator: %w", err)
	}
	s.ln = ln
	s.startedAt = time.Now()
	s.acceptDone = make(chan struct{})
	go s.acceptLoop(ln)
	s.log.Info("quote server emulator listening", "addr", ln.Addr().String(),
		"latency", s.opts.Latency, "seed", s.opts.Seed, "fixedPrices", len(s.fixed))
	return nil
}

// Serve starts the server if needed and serves until ctx is done (then it
// closes the server and returns nil) or the listener fails.
func (s *Server) Serve(ctx context.Context) error {
	s.mu.Lock()
	started := s.ln != nil
	s.mu.Unlock()
	if !started {
		if err := s.Start(); err != nil {
			return err
		}
	}
	select {
	case <-ctx.Done():
		return s.Close()
	case <-s.acceptDone:
		s.Close()
		return s.acceptErr
	}
}

// Addr is the address the server listens on ("" before Start), e.g.
// "127.0.0.1:40123".
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Close stops listening, abandons the replies still waiting for their delay,
// and returns once every connection is closed. It is safe to call twice.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	ln, acceptDone := s.ln, s.acceptDone
	s.mu.Unlock()

	s.cancel()
	if ln != nil {
		ln.Close()
		<-acceptDone // no conns.Add can happen after this
	}
	s.conns.Wait()
	s.log.Info("quote server emulator stopped", "served", s.served.Load(), "malformed", s.malformed.Load())
	return nil
}

// Stats returns the counters.
func (s *Server) Stats() ServerStats {
	return ServerStats{Served: s.served.Load(), Malformed: s.malformed.Load(), Open: s.open.Load()}
}

func (s *Server) acceptLoop(ln net.Listener) {
	defer close(s.acceptDone)
	var backoff time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || s.ctx.Err() != nil {
				return
			}
			// Out of file descriptors and the like: wait, then try again,
			// as net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("quote server emulator: accept failed", "err", err, "retryIn", backoff)
			select {
			case <-time.After(backoff):
				continue
			case <-s.ctx.Done():
				return
			}
		}
		backoff = 0
		s.conns.Add(1)
		go s.handle(conn)
	}
}

// handle answers the one request of conn.
func (s *Server) handle(conn net.Conn) {
	defer s.conns.Done()
	s.open.Add(1)
	defer s.open.Add(-1)
	defer conn.Close()
	stop := context.AfterFunc(s.ctx, func() { conn.Close() })
	defer stop()

	conn.SetReadDeadline(time.Now().Add(s.opts.ReadTimeout))
	r := bufio.NewReaderSize(conn, MaxRequestLine)
	line, err := r.ReadSlice('\n')
	switch {
	case err == nil:
	case errors.Is(err, bufio.ErrBufferFull):
		s.reject(conn, fmt.Sprintf("request longer than %d bytes", MaxRequestLine))
		return
	case errors.Is(err, io.EOF) && len(line) > 0:
		// The client half-closed after a request without its newline:
		// still a complete request.
	case errors.Is(err, io.EOF):
		s.reject(conn, "connection closed without a request")
		return
	case isTimeout(err):
		s.reject(conn, fmt.Sprintf("no request line within %s", s.opts.ReadTimeout))
		return
	default:
		if s.ctx.Err() == nil {
			s.malformed.Add(1)
			s.log.Debug("quote request unreadable", "remote", conn.RemoteAddr().String(), "err", err)
		}
		return
	}
	symbol, user, err := ParseRequest(string(line))
	if err != nil {
		s.reject(conn, err.Error())
		return
	}

	delay := s.latency.Sample()
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-s.ctx.Done():
			t.Stop()
			return
		}
	}
	q := s.quote(symbol, user)
	conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err := io.WriteString(conn, FormatReply(q)); err != nil {
		// The client gave up on this request (a hedging client closes the
		// slow ones): nothing to do.
		s.log.Debug("quote reply not delivered", "symbol", symbol, "user", user, "delay", delay, "err", err)
		return
	}
	s.served.Add(1)
	s.log.Debug("quote served", "symbol", symbol, "user", user, "price", q.Price.StringFixed(2), "delay", delay)
}

// isTimeout reports whether err is a network timeout (a deadline passed).
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// reject writes an error line, stops sending, and reads (a bounded amount of)
// what the client still sends before closing, so that the client sees the
// error line instead of a connection reset.
func (s *Server) reject(conn net.Conn, why string) {
	s.malformed.Add(1)
	s.log.Debug("quote request rejected", "remote", conn.RemoteAddr().String(), "why", why)
	conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err := io.WriteString(conn, "ERROR: "+strings.ReplaceAll(why, "\n", " ")+"\n"); err != nil {
		return
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		tcp.CloseWrite()
	}
	conn.SetReadDeadline(time.Now().Add(drainTimeout))
	io.Copy(io.Discard, io.LimitReader(conn, drainLimit))
}

// quote is the reply to symbol and user now.
func (s *Server) quote(symbol, user string) trading.Quote {
	s.fixedMu.RLock()
	price, ok := s.fixed[symbol]
	s.fixedMu.RUnlock()
	if !ok {
		price = s.walk.Price(symbol, int64(time.Since(s.startedAt)/s.opts.WalkStep))
	}
	return trading.Quote{
		Symbol:          symbol,
		User:            user,
		Price:           price,
		QuoteServerTime: time.Now().UnixMilli(),
		Cryptokey:       newCryptokey(),
	}
}

// newCryptokey is an opaque 44-character token: 32 random bytes in base64.
func newCryptokey() string {
	var b [32]byte
	rand.Read(b[:]) // never fails (crypto/rand since Go 1.24)
	return base64.StdEncoding.EncodeToString(b[:])
}

// SetPrice fixes the price of symbol from now on (tests and demos move the
// market with it: a trigger fires when its watcher sees the new price).
func (s *Server) SetPrice(symbol string, price decimal.Decimal) error {
	if !trading.ValidSymbol(symbol) || !price.IsPositive() || price.Exponent() < -2 {
		return fmt.Errorf("price %s for %q: need a symbol of 1 to 3 upper-case letters and a price > 0 with at most 2 decimals", price, symbol)
	}
	s.fixedMu.Lock()
	defer s.fixedMu.Unlock()
	s.fixed[symbol] = price
	return nil
}
