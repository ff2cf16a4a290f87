package web

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/internal/testdb"
	"github.com/daytradinginc/daytrader/trading"
)

// testPool is a fresh, migrated database (internal/testdb) shared by the
// package's tests (each test uses its own user names).
var testPool *pgxpool.Pool

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	ctx := context.Background()
	dbURL, drop, err := testdb.New(ctx, testdb.Name("web"), true)
	if err != nil {
		fmt.Fprintln(os.Stderr, "web tests:", err)
		return 1
	}
	defer func() { _ = drop(context.Background()) }()
	testPool, err = pgxpool.New(ctx, dbURL)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer testPool.Close()
	return m.Run()
}

// queryValue is the one value the one row of sql holds in the test
// database, for tests that look at the tables behind the pages.
func queryValue[T any](t *testing.T, sql string, args ...any) T {
	t.Helper()
	var v T
	if err := testPool.QueryRow(context.Background(), sql, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}

// fakeAccounts is a tiny in-memory account model: enough DayTrading for
// the web layer's tests (ADD, QUOTE, BUY, COMMIT_BUY, CANCEL_BUY) and a
// record of every call, so tests can assert who asked for what.
type fakeAccounts struct {
	mu        sync.Mutex
	executed  []trading.Command
	summaries []string        // users whose summary was read
	checked   []string        // users HasAccount was asked about
	workflows map[string]bool // account workflows without money (e.g. a typo's, closed)
	accounts  map[string]*trading.Summary
	price     decimal.Decimal
	failWith  error // Execute and HasAccount return this error when set
	now       func() time.Time
	took      time.Duration // how long Execute takes
}

func newFakeAccounts() *fakeAccounts {
	return &fakeAccounts{accounts: map[string]*trading.Summary{}, workflows: map[string]bool{},
		price: decimal.RequireFromString("12.34"), now: time.Now}
}

func (f *fakeAccounts) Execute(ctx context.Context, cmd trading.Command) (trading.Result, error) {
	f.mu.Lock()
	took := f.took
	f.mu.Unlock()
	time.Sleep(took)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.executed = append(f.executed, cmd)
	if f.failWith != nil {
		return trading.Result{}, f.failWith
	}
	res := trading.Result{TxNum: cmd.TxNum, Command: cmd.Name}
	acct := f.accounts[cmd.User]
	if acct == nil && cmd.Name != trading.Add {
		res.Message = "user " + cmd.User + " has no account"
		return res, nil
	}
	now := f.now()
	switch cmd.Name {
	case trading.Add:
		amount := decimal.RequireFromString(cmd.Amount)
		if acct == nil {
			acct = &trading.Summary{User: cmd.User, Exists: true}
			f.accounts[cmd.User] = acct
		}
		acct.Cash = acct.Cash.Add(amount)
		res.OK, res.Message = true, "added "+money(amount)
	case trading.QuoteCmd:
		res.OK, res.Message = true, "quoted"
		res.Quote = &trading.Quote{Symbol: cmd.Symbol, User: cmd.User, Price: f.price, FetchedAt: now}
	case trading.Buy:
		amount := decimal.RequireFromString(cmd.Amount)
		shares := amount.Div(f.price).Floor().IntPart()
		if acct.Cash.LessThan(amount) {
			res.Message = "not enough cash"
			return res, nil
		}
		if shares < 1 {
			res.Message = "amount buys no share"
			return res, nil
		}
		acct.PendingBuys = append(acct.PendingBuys, trading.PendingView{
			Symbol: cmd.Symbol, Shares: shares, Price: f.price, Total: f.price.Mul(decimal.NewFromInt(shares)),
			CreatedAt: now, ExpiresAt: now.Add(trading.PendingValidity), TxNum: cmd.TxNum,
		})
		res.OK, res.Message = true, fmt.Sprintf("buy %d %s pending", shares, cmd.Symbol)
	case trading.CommitBuy, trading.CancelBuy:
		if len(acct.PendingBuys) == 0 {
			res.Message = "no pending buy"
			return res, nil
		}
		p := acct.PendingBuys[len(acct.PendingBuys)-1]
		acct.PendingBuys = acct.PendingBuys[:len(acct.PendingBuys)-1]
		if cmd.Name == trading.CommitBuy {
			acct.Cash = acct.Cash.Sub(p.Total)
			acct.Holdings = append(acct.Holdings, trading.Holding{Symbol: p.Symbol, Shares: p.Shares,
				LastPrice: decimal.NewNullDecimal(p.Price), LastPriceAt: now})
			res.OK, res.Message = true, fmt.Sprintf("bought %d %s", p.Shares, p.Symbol)
		} else {
			res.OK, res.Message = true, "buy cancelled"
		}
	default:
		res.OK, res.Message = true, "done"
	}
	acct.AsOf = now
	return res, nil
}

func (f *fakeAccounts) Summary(ctx context.Context, user string) (trading.Summary, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.summaries = append(f.summaries, user)
	if a := f.accounts[user]; a != nil {
		s := *a
		s.PendingBuys = append([]trading.PendingView(nil), a.PendingBuys...)
		s.Holdings = append([]trading.Holding(nil), a.Holdings...)
		return s, nil
	}
	return trading.Summary{User: user}, nil
}

// HasAccount is true for a user with an account (ADD or set) or with a
// workflow that holds no money (startWorkflow), as Temporal would know them.
func (f *fakeAccounts) HasAccount(ctx context.Context, user string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checked = append(f.checked, user)
	if f.failWith != nil {
		return false, f.failWith
	}
	return f.accounts[user] != nil || f.workflows[user], nil
}

// startWorkflow plays a workflow for user that never opened an account,
// such as the closed one a workload's typo leaves.
func (f *fakeAccounts) startWorkflow(user string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.workflows[user] = true
}

func (f *fakeAccounts) checkedUsers() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.checked...)
}

// set makes s the account of s.User.
func (f *fakeAccounts) set(s trading.Summary) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.accounts[s.User] = &s
}

// update changes user's account in place.
func (f *fakeAccounts) update(user string, change func(*trading.Summary)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f.accounts[user])
}

// takeLonger makes Execute take d.
func (f *fakeAccounts) takeLonger(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.took = d
}

func (f *fakeAccounts) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failWith = err
}

func (f *fakeAccounts) executedCommands() []trading.Command {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]trading.Command(nil), f.executed...)
}

func (f *fakeAccounts) summaryUsers() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.summaries...)
}

// fakeAudit records queries and dumps, hands out transaction numbers and
// lets a test play the audit store's notifications.
type fakeAudit struct {
	mu        sync.Mutex
	next      int64
	txCalls   int
	queries   []audit.HistoryQuery
	dumps     []string
	page      audit.HistoryPage
	listeners []func(string)
	listening chan struct{} // closed when the first Listen starts
	once      sync.Once
	priced    map[string][]audit.PricedEvent // the charts' records, by user
	waits     []time.Duration                // RecordTraderWait's
}

func newFakeAudit() *fakeAudit {
	return &fakeAudit{next: 1_000_000_000, listening: make(chan struct{})}
}

func (f *fakeAudit) History(ctx context.Context, q audit.HistoryQuery) (audit.HistoryPage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, q)
	// Like the store, a query for one user sees only that user's records.
	page := audit.HistoryPage{NextBeforeID: f.page.NextBeforeID}
	for _, e := range f.page.Events {
		if q.User == "" || e.User == q.User {
			page.Events = append(page.Events, e)
		}
	}
	return page, nil
}

func (f *fakeAudit) EachHistory(ctx context.Context, q audit.HistoryQuery, fn func(audit.StoredEvent) error) error {
	page, err := f.History(ctx, q)
	if err != nil {
		return err
	}
	for _, e := range page.Events {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeAudit) DumpXML(ctx context.Context, w io.Writer, user string) (int64, error) {
	f.mu.Lock()
	f.dumps = append(f.dumps, user)
	f.mu.Unlock()
	_, err := fmt.Fprintf(w, "<?xml version=\"1.0\"?>\n<log><!-- dump of %q --></log>\n", user)
	return 0, err
}

func (f *fakeAudit) NextTxNum(ctx context.Context) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.txCalls++
	f.next++
	return f.next, nil
}

func (f *fakeAudit) RecordTraderWait(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waits = append(f.waits, d)
	return nil
}

func (f *fakeAudit) Listen(ctx context.Context, fn func(string)) error {
	f.mu.Lock()
	f.listeners = append(f.listeners, fn)
	f.mu.Unlock()
	f.once.Do(func() { close(f.listening) })
	<-ctx.Done()
	return nil
}

// EachPricedEvent hands out the records setPriced gave user.
func (f *fakeAudit) EachPricedEvent(ctx context.Context, user string, fn func(audit.PricedEvent) error) error {
	f.mu.Lock()
	evs := f.priced[user]
	f.mu.Unlock()
	for _, e := range evs {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// setPriced makes evs user's records for the charts.
func (f *fakeAudit) setPriced(user string, evs []audit.PricedEvent) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.priced == nil {
		f.priced = map[string][]audit.PricedEvent{}
	}
	f.priced[user] = evs
}

// write plays an audit write for user: every running listener hears it.
func (f *fakeAudit) write(user string) {
	f.mu.Lock()
	ls := append([](func(string)){}, f.listeners...)
	f.mu.Unlock()
	for _, fn := range ls {
		fn(user)
	}
}

func (f *fakeAudit) setPage(p audit.HistoryPage) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.page = p
}

func (f *fakeAudit) historyQueries() []audit.HistoryQuery {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]audit.HistoryQuery(nil), f.queries...)
}

func (f *fakeAudit) dumpUsers() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.dumps...)
}

func (f *fakeAudit) traderWaits() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.waits)
}

func (f *fakeAudit) txNumCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.txCalls
}

// testServer is a web.Server over fakes and the test database, behind a
// real HTTP listener.
type testServer struct {
	*httptest.Server
	web      *Server
	accounts *fakeAccounts
	audit    *fakeAudit
}

func newTestServer(t *testing.T, configure ...func(*Config)) *testServer {
	t.Helper()
	accounts, aud := newFakeAccounts(), newFakeAudit()
	cfg := Config{
		Accounts:          accounts,
		Audit:             aud,
		DB:                testPool,
		Logger:            slog.New(slog.NewTextHandler(io.Discard, nil)),
		TemporalUIURL:     "http://temporal.test:8233",
		TemporalNamespace: "daytrader",
	}
	if testing.Verbose() {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	for _, c := range configure {
		c(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(func() {
		s.Close()
		ts.Close()
	})
	return &testServer{Server: ts, web: s, accounts: accounts, audit: aud}
}

// uniqueUser returns a fresh user id, so tests sharing the database do not
// meet each other's accounts.
func uniqueUser(prefix string) string {
	return prefix + strings.ToLower(rand.Text()[:8])
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so tests see every 303.
type browser struct {
	t      *testing.T
	ts     *testServer
	client *http.Client
}

func (ts *testServer) newBrowser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, ts: ts, client: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}}
}

type response struct {
	*http.Response
	body string
}

func (b *browser) do(req *http.Request) response {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return response{Response: resp, body: string(body)}
}

func (b *browser) get(path string) response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.ts.URL+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// post sends a form; headers are name, value pairs.
func (b *browser) post(path string, form url.Values, headers ...string) response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.ts.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return b.do(req)
}

// htmxPost is post as HTMX sends it from a page: with the CSRF header.
func (b *browser) htmxPost(path string, form url.Values) response {
	b.t.Helper()
	return b.post(path, form, "HX-Request", "true", csrfHeader, b.csrf())
}

func (b *browser) sessionCookie() *http.Cookie {
	u, _ := url.Parse(b.ts.URL)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == "daytrader_session" {
			return c
		}
	}
	return nil
}

var csrfPattern = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// csrf reads the CSRF token from the dashboard, as a page would have it.
func (b *browser) csrf() string {
	b.t.Helper()
	page := b.get("/")
	m := csrfPattern.FindStringSubmatch(page.body)
	if m == nil {
		b.t.Fatalf("no CSRF token on the dashboard (status %d)", page.StatusCode)
	}
	return m[1]
}

func (b *browser) register(user, password string) response {
	b.t.Helper()
	return b.post("/register", url.Values{"username": {user}, "password": {password}, "confirm": {password}})
}

func (b *browser) login(user, password string) response {
	b.t.Helper()
	return b.post("/login", url.Values{"username": {user}, "password": {password}})
}

// registered returns a browser signed in as a new trader.
func (ts *testServer) registered(t *testing.T, user string) *browser {
	t.Helper()
	b := ts.newBrowser(t)
	if r := b.register(user, "correct horse"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("register %s: status %d, body %s", user, r.StatusCode, r.body)
	}
	return b
}

func wantStatus(t *testing.T, r response, want int) {
	t.Helper()
	if r.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d; body:\n%s", r.Request.Method, r.Request.URL.Path, r.StatusCode, want, r.body)
	}
}

func wantContains(t *testing.T, r response, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(r.body, p) {
			t.Errorf("%s %s: body lacks %q; body:\n%s", r.Request.Method, r.Request.URL.Path, p, r.body)
		}
	}
}
