package quotes

import (
	"bufio"
	"context"
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
)

var (
	// ErrUnavailable is wrapped by every error of a fetch that got no usable
	// reply before giving up.
	ErrUnavailable = errors.New("quote server unreachable")
	// ErrRejected is wrapped when the server answered with an error line:
	// asking again would get the same answer, so the fetch stops at once.
	ErrRejected = errors.New("quote server rejected the request")
)

// The hedging schedule, from the 2017 study of the real server: asking again
// after 20 ms, then after 5 ms more each time, resolved 89 % of quotes within
// 50 ms, and no reply in 4 s means the server is down.
const (
	DefaultFirstTimeout    = 20 * time.Millisecond
	DefaultTimeoutStep     = 5 * time.Millisecond
	DefaultGiveUpAfter     = 4 * time.Second
	DefaultMaxOpenAttempts = 8
)

// ClientOptions is the hedging schedule of a Client. Zero fields take the
// defaults above.
type ClientOptions struct {
	// FirstTimeout is how long the first attempt runs alone before a second
	// one is started.
	FirstTimeout time.Duration
	// TimeoutStep is added to the wait before each further attempt: 20 ms,
	// 25 ms, 30 ms, ... with the defaults.
	TimeoutStep time.Duration
	// GiveUpAfter is the whole budget of one fetch.
	GiveUpAfter time.Duration
	// MaxOpenAttempts caps the connections one fetch keeps open at once, so
	// a server that accepts but never answers does not get a connection
	// storm; when the cap is reached the fetch waits for the open ones.
	MaxOpenAttempts int
	// Now is the clock that stamps FetchedAt; nil means time.Now.
	Now func() time.Time
	// Logger gets failed attempts at Debug and give-ups at Warn; nil
	// discards.
	Logger *slog.Logger
	// Observe, when set, is told how each fetch went once it is over
	// (answered, rejected, given up or abandoned by its caller): the
	// worker's metrics of legacy latency and hedging.
	Observe func(FetchInfo, error)
}

// FetchInfo says how one fetch went.
type FetchInfo struct {
	Attempts int           // connections started
	Winner   int           // which attempt answered, 1-based; 0 if none did
	Elapsed  time.Duration // from the call to the reply (or the give-up)
}

// ClientStats are a client's counters since it was made.
type ClientStats struct {
	Fetches     int64 // Fetch calls that returned a quote
	Hedged      int64 // of those, answered by an attempt after the first
	Attempts    int64 // connections started
	Unavailable int64 // fetches that gave up with ErrUnavailable
}

// Client fetches quotes from the legacy quote server, hedging slow requests:
// when an attempt has not answered within its timeout a new connection asks
// again while the earlier ones stay open, and the first reply wins. The
// server delays replies by whole seconds about a third of the time, and those
// delays are independent per request, so a second or third ask nearly always
// answers within tens of milliseconds. A Client is safe for concurrent use.
type Client struct {
	addr   string
	opts   ClientOptions
	now    func() time.Time
	log    *slog.Logger
	dialer net.Dialer

	fetches, hedged, attempts, unavailable atomic.Int64
}

// NewClient returns a client for the server at addr (host:port).
func NewClient(addr string, opts ClientOptions) (*Client, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("quote server address %q: %w", addr, err)
	}
	if opts.FirstTimeout < 0 || opts.TimeoutStep < 0 || opts.GiveUpAfter < 0 || opts.MaxOpenAttempts < 0 {
		return nil, errors.New("quote client options must not be negative")
	}
	if opts.FirstTimeout == 0 {
		opts.FirstTimeout = DefaultFirstTimeout
	}
	if opts.TimeoutStep == 0 {
		opts.TimeoutStep = DefaultTimeoutStep
	}
	if opts.GiveUpAfter == 0 {
		opts.GiveUpAfter = DefaultGiveUpAfter
	}
	if opts.MaxOpenAttempts == 0 {
		opts.MaxOpenAttempts = DefaultMaxOpenAttempts
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Client{addr: addr, opts: opts, now: now, log: log.With("component", "quoteclient", "addr", addr)}, nil
}

// Stats returns the counters.
func (c *Client) Stats() ClientStats {
	return ClientStats{
		Fetches:     c.fetches.Load(),
		Hedged:      c.hedged.Load(),
		Attempts:    c.attempts.Load(),
		Unavailable: c.unavailable.Load(),
	}
}

// Fetch asks the quote server for symbol's price on behalf of user. The quote
// is exactly as the server returned it, with FetchedAt the local time its
// reply arrived.
func (c *Client) Fetch(ctx context.Context, symbol, user string) (trading.Quote, error) {
	q, _, err := c.FetchWithInfo(ctx, symbol, user)
	return q, err
}

type attemptResult struct {
	n     int
	quote trading.Quote
	err   error
}

// FetchWithInfo is Fetch, also saying how many attempts it took.
func (c *Client) FetchWithInfo(ctx context.Context, symbol, user string) (trading.Quote, FetchInfo, error) {
	if !trading.ValidSymbol(symbol) {
		return trading.Quote{}, FetchInfo{}, fmt.Errorf("stock symbol %q must be 1 to 3 upper-case letters", symbol)
	}
	if err := trading.CheckUser(user); err != nil {
		return trading.Quote{}, FetchInfo{}, err
	}
	// Cancelling attemptCtx closes every attempt still open.
	attemptCtx, cancel := context.WithTimeout(ctx, c.opts.GiveUpAfter)
	f := &fetch{c: c, ctx: ctx, attemptCtx: attemptCtx, symbol: symbol, user: user, start: time.Now(),
		results: make(chan attemptResult)}
	defer f.wg.Wait()
	defer cancel()
	q, info, err := f.run()
	if c.opts.Observe != nil {
		c.opts.Observe(info, err)
	}
	return q, info, err
}

// fetch is one FetchWithInfo in progress: its attempts and what they said.
type fetch struct {
	c            *Client
	ctx          context.Context // the caller's
	attemptCtx   context.Context // ends at the give-up, or with ctx
	symbol, user string
	start        time.Time
	results      chan attemptResult
	wg           sync.WaitGroup
	info         FetchInfo
	open         int
	lastErr      error // the last attempt that failed on its own
}

// run hedges: a new attempt whenever the wait since the last one runs out,
// until one answers, the server rejects the request, or time is up.
func (f *fetch) run() (trading.Quote, FetchInfo, error) {
	f.launch()
	wait := f.c.opts.FirstTimeout
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case r := <-f.results:
			if q, done, err := f.settle(r); done {
				return q, f.info, err
			}
		case <-timer.C:
			if f.open < f.c.opts.MaxOpenAttempts {
				f.launch()
			}
			wait += f.c.opts.TimeoutStep
			timer.Reset(wait)
		case <-f.attemptCtx.Done():
			return trading.Quote{}, f.info, f.giveUp()
		}
	}
}

// launch starts one more attempt.
func (f *fetch) launch() {
	f.info.Attempts++
	f.open++
	f.c.attempts.Add(1)
	n := f.info.Attempts
	f.wg.Go(func() {
		q, err := f.c.attempt(f.attemptCtx, f.symbol, f.user)
		if err != nil && f.cutOff() {
			// Its error says only that time ran out, not what is wrong
			// with the server: the give-up reports the attempts that failed
			// on their own.
			return
		}
		select {
		case f.results <- attemptResult{n: n, quote: q, err: err}:
		case <-f.attemptCtx.Done():
		}
	})
}

// cutOff reports whether the fetch's time is up (or its caller gone), even
// if the attempt context has not said so yet: a dial can time out on the
// deadline a moment before the context's own timer fires.
func (f *fetch) cutOff() bool {
	deadline, _ := f.attemptCtx.Deadline()
	return f.attemptCtx.Err() != nil || !time.Now().Before(deadline)
}

// settle takes one attempt's outcome; done says the fetch is over.
func (f *fetch) settle(r attemptResult) (q trading.Quote, done bool, err error) {
	f.open--
	if r.err == nil {
		f.info.Winner = r.n
		f.info.Elapsed = time.Since(f.start)
		f.c.fetches.Add(1)
		if r.n > 1 {
			f.c.hedged.Add(1)
		}
		return r.quote, true, nil
	}
	if errors.Is(r.err, ErrRejected) {
		f.info.Elapsed = time.Since(f.start)
		return trading.Quote{}, true, r.err
	}
	// A failed attempt is not retried at once: the next one starts on
	// schedule, so a refused port is not hammered in a loop.
	f.lastErr = r.err
	f.c.log.Debug("quote attempt failed", "symbol", f.symbol, "user", f.user, "attempt", r.n, "err", r.err)
	return trading.Quote{}, false, nil
}

// giveUp is the error of a fetch whose time ran out (or whose caller left).
func (f *fetch) giveUp() error {
	f.info.Elapsed = time.Since(f.start)
	if err := f.ctx.Err(); err != nil {
		return fmt.Errorf("quote for %s: %w", f.symbol, context.Cause(f.ctx))
	}
	f.c.unavailable.Add(1)
	detail := "none answered"
	if f.lastErr != nil {
		detail = "last error: " + f.lastErr.Error()
	}
	err := fmt.Errorf("%w for %s after %s (%d attempts, %s)", ErrUnavailable, f.symbol, f.c.opts.GiveUpAfter, f.info.Attempts, detail)
	f.c.log.Warn("quote server unreachable", "symbol", f.symbol, "user", f.user, "attempts", f.info.Attempts, "err", err)
	return err
}

// attempt asks once on a fresh connection and waits for the reply until ctx
// is done.
func (c *Client) attempt(ctx context.Context, symbol, user string) (trading.Quote, error) {
	conn, err := c.dialer.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return trading.Quote{}, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	if _, err := io.WriteString(conn, FormatRequest(symbol, user)); err != nil {
		return trading.Quote{}, err
	}
	r := bufio.NewReaderSize(conn, MaxReplyLine)
	line, err := r.ReadSlice('\n')
	arrived := c.now()
	switch {
	case err == nil:
	case errors.Is(err, bufio.ErrBufferFull):
		return trading.Quote{}, fmt.Errorf("reply longer than %d bytes", MaxReplyLine)
	case errors.Is(err, io.EOF) && len(line) == 0:
		return trading.Quote{}, errors.New("connection closed without a reply")
	case errors.Is(err, io.EOF):
		return trading.Quote{}, fmt.Errorf("reply %q cut short", truncate(string(line), 80))
	default:
		return trading.Quote{}, err
	}
	text := string(line)
	if msg, ok := strings.CutPrefix(text, "ERROR"); ok {
		msg = strings.TrimSpace(strings.TrimPrefix(msg, ":"))
		return trading.Quote{}, fmt.Errorf("%w %s,%s: %s", ErrRejected, symbol, user, truncate(msg, 200))
	}
	q, err := ParseReply(text)
	if err != nil {
		return trading.Quote{}, err
	}
	if q.Symbol != symbol || q.User != user {
		return trading.Quote{}, fmt.Errorf("reply is for %s,%s, asked for %s,%s", q.Symbol, q.User, symbol, user)
	}
	q.FetchedAt = arrived
	return q, nil
}
