package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"golang.org/x/net/html"

	"github.com/daytradinginc/daytrader/trading"
)

func TestCommandRunsForTheSessionUser(t *testing.T) {
	ts := newTestServer(t)
	alice := uniqueUser("alice")
	b := ts.registered(t, alice)

	// A "user" field in the form is ignored: the account is the session's.
	r := b.htmxPost("/commands", url.Values{"command": {"ADD"}, "amount": {"250.50"}, "user": {"mallory"}})
	wantStatus(t, r, http.StatusOK)
	cmds := ts.accounts.executedCommands()
	if len(cmds) != 1 {
		t.Fatalf("executed %v, want one ADD", cmds)
	}
	want := trading.Command{TxNum: 1_000_000_001, Name: trading.Add, User: alice, Amount: "250.50"}
	if cmds[0] != want {
		t.Errorf("executed %+v, want %+v", cmds[0], want)
	}
	// The reply: the form again (cleared) and the result out of band; the
	// summary comes after, by the refresh the reply asks for.
	wantContains(t, r, `id="form-add"`, `id="result" hx-swap-oob="innerHTML"`, "added $250.50", "tx 1000000001")
	if strings.Contains(r.body, `value="250.50"`) {
		t.Error("the form still holds the amount after a successful command")
	}
	wantContains(t, b.refreshedSummary(r), `data-testid="cash">$250.50<`)

	r = b.htmxPost("/commands", url.Values{"command": {"QUOTE"}, "symbol": {"ABC"}})
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r, "ABC is <strong>$12.34</strong>")
	r = b.htmxPost("/commands", url.Values{"command": {"BUY"}, "symbol": {"ABC"}, "amount": {"100"}})
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r, "buy 8 ABC pending")
	wantContains(t, b.refreshedSummary(r), "Pending buys", `class="countdown" data-expires-in="`)
	r = b.htmxPost("/commands", url.Values{"command": {"COMMIT_BUY"}})
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r, "bought 8 ABC")
	wantContains(t, b.refreshedSummary(r), "Holdings", `data-testid="cash">$151.78<`)

	cmds = ts.accounts.executedCommands()
	for i, c := range cmds {
		if c.User != alice {
			t.Errorf("command %d ran for %q, want %q", i, c.User, alice)
		}
		if i > 0 && c.TxNum <= cmds[i-1].TxNum {
			t.Errorf("transaction numbers not increasing: %d after %d", c.TxNum, cmds[i-1].TxNum)
		}
	}
}

func TestBusinessFailureIsShown(t *testing.T) {
	ts := newTestServer(t)
	b := ts.registered(t, uniqueUser("poor"))
	r := b.htmxPost("/commands", url.Values{"command": {"BUY"}, "symbol": {"ABC"}, "amount": {"100"}})
	wantStatus(t, r, http.StatusOK)
	// The message is in the result banner, and the typed values stay for a retry.
	wantContains(t, r, "BUY failed", "has no account", `value="ABC"`, `value="100"`)
}

func TestCommandNotAccepted(t *testing.T) {
	ts := newTestServer(t)
	b := ts.registered(t, uniqueUser("refused"))
	ts.accounts.fail(errors.New("account is busy"))
	r := b.htmxPost("/commands", url.Values{"command": {"ADD"}, "amount": {"5"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantContains(t, r, "The command was not accepted: account is busy", `value="5"`)
}

// TestCommandRecordsTheTradersWait: a command sent to the account records
// how long the trader waited for it (what the workload starter sizes its
// backlog by), also when the account did not accept it; input refused
// before the account records nothing.
func TestCommandRecordsTheTradersWait(t *testing.T) {
	ts := newTestServer(t)
	b := ts.registered(t, uniqueUser("waits"))
	const took = 30 * time.Millisecond
	ts.accounts.takeLonger(took)
	wantStatus(t, b.htmxPost("/commands", url.Values{"command": {"ADD"}, "amount": {"5"}}), http.StatusOK)
	wantStatus(t, b.htmxPost("/commands", url.Values{"command": {"ADD"}, "amount": {"-5"}}), http.StatusUnprocessableEntity)
	ts.accounts.fail(errors.New("account is busy"))
	wantStatus(t, b.htmxPost("/commands", url.Values{"command": {"ADD"}, "amount": {"5"}}), http.StatusUnprocessableEntity)
	// The wait is recorded once the reply has gone out.
	waitFor(t, "two waits recorded", func() bool { return len(ts.audit.traderWaits()) >= 2 })
	waits := ts.audit.traderWaits()
	if len(waits) != 2 {
		t.Fatalf("recorded %d waits (%v), want 2: the accepted command and the one the account refused", len(waits), waits)
	}
	for _, w := range waits {
		if w < took || w > 10*time.Second {
			t.Errorf("recorded a wait of %v, want at least the account's %v", w, took)
		}
	}
}

func TestBadInputIsRefusedBeforeTheAccount(t *testing.T) {
	ts := newTestServer(t)
	b := ts.registered(t, uniqueUser("typo"))
	cases := []struct {
		form    url.Values
		field   string // the input marked invalid
		message string
	}{
		{url.Values{"command": {"ADD"}, "amount": {"1.234"}}, "add-amount", `Amount &#34;1.234&#34; is not a dollar amount like 12 or 12.50`},
		{url.Values{"command": {"ADD"}, "amount": {"-5"}}, "add-amount", "is not a dollar amount"},
		{url.Values{"command": {"ADD"}, "amount": {"0"}}, "add-amount", "Amount must be greater than 0"},
		{url.Values{"command": {"ADD"}, "amount": {""}}, "add-amount", "Enter the amount."},
		{url.Values{"command": {"ADD"}, "amount": {"1e3"}}, "add-amount", "is not a dollar amount"},
		{url.Values{"command": {"QUOTE"}, "symbol": {"abc"}}, "quote-symbol", "A stock symbol is 1 to 3 upper-case letters"},
		{url.Values{"command": {"QUOTE"}, "symbol": {"ABCD"}}, "quote-symbol", "A stock symbol is 1 to 3 upper-case letters"},
		{url.Values{"command": {"BUY"}, "symbol": {"ABC"}}, "buy-amount", "Enter the amount."},
		{url.Values{"command": {"BUY"}, "symbol": {""}, "amount": {"10"}}, "buy-symbol", "Enter a stock symbol."},
		{url.Values{"command": {"SET_BUY_TRIGGER"}, "symbol": {"ABC"}, "price": {"12.345"}}, "set-buy-trigger-price", "Trigger price &#34;12.345&#34;"},
		{url.Values{"command": {"SET_SELL_TRIGGER"}, "symbol": {"AB1"}, "price": {"5"}}, "set-sell-trigger-symbol", "upper-case letters"},
	}
	for _, c := range cases {
		r := b.htmxPost("/commands", c.form)
		if r.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%v: status %d, want 422", c.form, r.StatusCode)
			continue
		}
		wantContains(t, r, c.message, `id="`+c.field+`"`)
		// The bad field is marked for assistive technology and focused.
		i := strings.Index(r.body, `id="`+c.field+`"`)
		tag := r.body[i : i+strings.Index(r.body[i:], ">")]
		if !strings.Contains(tag, `aria-invalid`) || !strings.Contains(tag, "autofocus") || !strings.Contains(tag, "aria-describedby") {
			t.Errorf("%v: invalid input not marked: %s", c.form, tag)
		}
	}
	for _, form := range []url.Values{{"command": {"DUMPLOG"}}, {"command": {"DISPLAY_SUMMARY"}}, {"command": {"NOPE"}}, {}} {
		r := b.htmxPost("/commands", form)
		if r.StatusCode != http.StatusBadRequest {
			t.Errorf("%v: status %d, want 400", form, r.StatusCode)
		}
	}
	if cmds := ts.accounts.executedCommands(); len(cmds) != 0 {
		t.Fatalf("bad input reached the account: %v", cmds)
	}
	if n := ts.audit.txNumCalls(); n != 0 {
		t.Fatalf("bad input spent %d transaction numbers", n)
	}
}

func TestCommandWithoutJavaScript(t *testing.T) {
	ts := newTestServer(t)
	user := uniqueUser("nojs")
	b := ts.registered(t, user)
	token := b.csrf()
	r := b.post("/commands", url.Values{"command": {"ADD"}, "amount": {"42"}, csrfField: {token}})
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r, "<!doctype html>", "added $42.00", `data-testid="cash">$42.00<`)
	r = b.post("/commands", url.Values{"command": {"ADD"}, "amount": {"x"}, csrfField: {token}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantContains(t, r, "<!doctype html>", `Amount &#34;x&#34; is not a dollar amount`)
}

func TestDashboardShowsTheSummary(t *testing.T) {
	ts := newTestServer(t)
	user := uniqueUser("sum")
	b := ts.registered(t, user)
	r := b.get("/")
	wantContains(t, r, "You have no trading account yet")

	d := decimal.RequireFromString
	ts.accounts.set(trading.Summary{
		User: user, Exists: true, Cash: d("1234.5"), ReservedCash: d("100"),
		Holdings: []trading.Holding{{Symbol: "XYZ", Shares: 10, ReservedShares: 2, LastPrice: decimal.NewNullDecimal(d("3.25")),
			MarketValue: decimal.NewNullDecimal(d("39"))}},
		BuyOrders:  []trading.BuyOrderView{{Symbol: "ABC", Reserve: d("100"), Trigger: decimal.NewNullDecimal(d("9.5"))}},
		SellOrders: []trading.SellOrderView{{Symbol: "XYZ", Amount: d("50"), ReservedShares: 2}},
		Recent:     []trading.RecentCommand{{TxNum: 3, Command: trading.Add, OK: true, Message: "added $1,234.50"}},
	})
	r = b.get("/fragments/summary")
	wantStatus(t, r, http.StatusOK)
	if strings.Contains(r.body, "<html") {
		t.Error("the summary fragment is a whole page")
	}
	wantContains(t, r, `data-testid="cash">$1,234.50<`, `data-testid="reserved-cash">$100.00<`,
		"XYZ", "$39.00", // 12 shares (10 free + 2 reserved) at $3.25
		"at or below $9.50", "not set", "Recent activity", "$1,373.50") // total: cash + reserve + holdings
}

// TestDashboardShowsProfitAndLoss parses the holdings table rendered from a
// known summary: each holding's average cost, market value and unrealized
// P&L with its sign and colour, and the totals with the realized P&L.
func TestDashboardShowsProfitAndLoss(t *testing.T) {
	ts := newTestServer(t)
	user := uniqueUser("pl")
	b := ts.registered(t, user)
	d := decimal.RequireFromString
	nd := func(s string) decimal.NullDecimal { return decimal.NewNullDecimal(d(s)) }
	ts.accounts.set(trading.Summary{
		User: user, Exists: true, Cash: d("10"),
		Holdings: []trading.Holding{
			{Symbol: "ABC", Shares: 8, ReservedShares: 2, LastPrice: nd("15"), CostBasis: d("120"), AvgCost: d("12"),
				MarketValue: nd("150"), UnrealizedPL: nd("30"), UnrealizedPct: nd("25")},
			{Symbol: "DEF", Shares: 4, LastPrice: nd("2.5"), CostBasis: d("12"), AvgCost: d("3"),
				MarketValue: nd("10"), UnrealizedPL: nd("-2"), UnrealizedPct: nd("-16.67")},
			{Symbol: "GHI", Shares: 1, CostBasis: d("7"), AvgCost: d("7")},
		},
		CostBasis: d("139"), RealizedPL: d("-4.5"),
	})
	r := b.get("/fragments/summary")
	wantStatus(t, r, http.StatusOK)
	rows := tableRows(t, r.body, "data-symbol")
	for _, c := range []struct{ row, col, text, class string }{
		{"ABC", "avg-cost", "$12.00", "num"},
		{"ABC", "market-value", "$150.00", "num"},
		{"ABC", "unrealized", "+$30.00 +25.00 %", "num pl-up"},
		{"DEF", "avg-cost", "$3.00", "num"},
		{"DEF", "unrealized", "-$2.00 -16.67 %", "num pl-down"},
		{"GHI", "market-value", "—", "num"},
		{"GHI", "unrealized", "—", "num"},
		{"total", "cost", "$139.00 cost", "num"},
		{"total", "market-value", "—", "num"}, // GHI has no price: no total
		{"realized", "realized", "-$4.50", "num pl-down"},
	} {
		cell, ok := rows[c.row][c.col]
		if !ok {
			t.Errorf("row %s has no %s cell (rows: %v)", c.row, c.col, rows)
			continue
		}
		if cell.text != c.text || cell.class != c.class {
			t.Errorf("%s %s = %q class %q, want %q class %q", c.row, c.col, cell.text, cell.class, c.text, c.class)
		}
	}
	// GET /api/summary carries the same figures as JSON.
	r = b.get("/api/summary")
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r, `"realizedPL":"-4.5"`, `"costBasis":"139"`, `"avgCost":"12"`, `"unrealizedPL":"-2"`, `"unrealizedPct":"25"`)
}

func TestAPISummaryIsTheSessionUsers(t *testing.T) {
	ts := newTestServer(t)
	alice, bob := uniqueUser("alice"), uniqueUser("bob")
	a := ts.registered(t, alice)
	ts.registered(t, bob)
	ts.accounts.set(trading.Summary{User: bob, Exists: true, Cash: decimal.NewFromInt(99)})

	r := a.get("/api/summary?user=" + bob)
	wantStatus(t, r, http.StatusOK)
	var got trading.Summary
	if err := json.Unmarshal([]byte(r.body), &got); err != nil {
		t.Fatal(err)
	}
	if got.User != alice || got.Exists {
		t.Errorf("/api/summary = %+v, want alice's (empty) summary", got)
	}
	for _, u := range ts.accounts.summaryUsers() {
		if u == bob {
			t.Fatal("a trader's request read bob's summary")
		}
	}
}

func TestMoney(t *testing.T) {
	for in, want := range map[string]string{
		"0": "$0.00", "5": "$5.00", "12.5": "$12.50", "999.99": "$999.99", "1000": "$1,000.00",
		"1234567.891": "$1,234,567.89", "-42.1": "-$42.10", "100000": "$100,000.00",
	} {
		if got := money(decimal.RequireFromString(in)); got != want {
			t.Errorf("money(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestStaticAndHealth(t *testing.T) {
	ts := newTestServer(t)
	b := ts.newBrowser(t)
	for path, want := range map[string]string{
		"/static/htmx.min.js": "text/javascript",
		"/static/sse.min.js":  "text/javascript",
		"/static/app.js":      "text/javascript",
		"/static/app.css":     "text/css",
	} {
		r := b.get(path)
		wantStatus(t, r, http.StatusOK)
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, want) {
			t.Errorf("%s: content type %q, want %s", path, ct, want)
		}
	}
	r := b.get("/healthz")
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r, "ok")
	r = b.get("/login")
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("login page CSP %q", csp)
	}
	for _, name := range []string{"htmx.min.js", "sse.min.js", "app.js", "app.css"} {
		wantContains(t, r, "/static/"+name)
	}
}

// refreshedSummary does what HTMX does with a command's reply r: r asks
// (HX-Trigger) for the event on which the dashboard's summary element
// reloads, and carries no summary itself; the summary element's hx-get is
// then fetched, and returned.
func (b *browser) refreshedSummary(r response) response {
	b.t.Helper()
	if got := r.Header.Get("HX-Trigger"); got != summaryRefreshEvent {
		b.t.Fatalf("the command's reply triggers %q, want %q", got, summaryRefreshEvent)
	}
	reply, err := html.Parse(strings.NewReader(r.body))
	if err != nil {
		b.t.Fatal(err)
	}
	if n := findAll(reply, func(n *html.Node) bool { return attr(n, "id") == "summary" }); len(n) != 0 {
		b.t.Error("the command's reply carries the summary: the result waits for it")
	}
	page, err := html.Parse(strings.NewReader(b.get("/").body))
	if err != nil {
		b.t.Fatal(err)
	}
	sum := findAll(page, func(n *html.Node) bool { return attr(n, "id") == "summary" })
	if len(sum) != 1 {
		b.t.Fatalf("the dashboard has %d #summary elements, want 1", len(sum))
	}
	if trig := attr(sum[0], "hx-trigger"); !strings.Contains(trig, summaryRefreshEvent+" from:body") {
		b.t.Fatalf("#summary reloads on %q, not on %s", trig, summaryRefreshEvent)
	}
	req, err := http.NewRequest(http.MethodGet, b.ts.URL+attr(sum[0], "hx-get"), nil)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("HX-Request", "true")
	got := b.do(req)
	wantStatus(b.t, got, http.StatusOK)
	return got
}
