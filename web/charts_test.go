package web

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/internal/portfolio/portfoliotest"
	"github.com/daytradinginc/daytrader/trading"
)

// chartStart is when the charts' known sequence begins.
var chartStart = time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)

// knownTrader registers a trader whose account went through
// portfoliotest.KnownSequence: its audit records (with the market's quotes
// around them) and the summary its account ends with.
func knownTrader(t *testing.T, ts *testServer) (string, *browser) {
	t.Helper()
	user := uniqueUser("chart")
	b := ts.registered(t, user)
	m, err := portfoliotest.KnownSequence(chartStart, user, uniqueUser("other"))
	if err != nil {
		t.Fatal(err)
	}
	ts.audit.setPriced(user, m.Priced(user))
	ts.accounts.set(m.Account(user).Summary(chartStart.Add(9 * time.Minute)))
	return user, b
}

func parsePage(t *testing.T, page string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// inside is the single element with data-testid id, and the elements named
// tag within it.
func inside(t *testing.T, doc *html.Node, id, tag string) (*html.Node, []*html.Node) {
	t.Helper()
	found := findAll(doc, func(n *html.Node) bool { return attr(n, "data-testid") == id })
	if len(found) != 1 {
		t.Fatalf("%d elements with data-testid %q", len(found), id)
	}
	return found[0], findAll(found[0], func(n *html.Node) bool { return n.Data == tag })
}

// markValues are the values of a chart's point markers, in order.
func markValues(marks []*html.Node) string {
	var vs []string
	for _, c := range marks {
		vs = append(vs, attr(c, "data-v"))
	}
	return strings.Join(vs, " ")
}

// TestDashboardChartsFollowTheAuditHistory: the portfolio chart's points
// are the known sequence's values, the chart is labelled for screen
// readers, each holding has its price sparkline and links to its page.
func TestDashboardChartsFollowTheAuditHistory(t *testing.T) {
	ts := newTestServer(t)
	_, b := knownTrader(t, ts)
	r := b.get("/")
	wantStatus(t, r, http.StatusOK)
	doc := parsePage(t, r.body)
	_, svgs := inside(t, doc, "portfolio-chart", "svg")
	if len(svgs) != 1 || attr(svgs[0], "role") != "img" || attr(svgs[0], "viewBox") != "0 0 400 220" {
		t.Fatalf("portfolio chart: %d svgs", len(svgs))
	}
	marks := findAll(svgs[0], func(n *html.Node) bool { return n.Data == "circle" })
	if got, want := markValues(marks), "1000 1000.01 1020.01 1038.01 1538.01 1544.01"; got != want {
		t.Errorf("portfolio points %q, want %q", got, want)
	}
	if at := attr(marks[2], "data-t"); at != "2026-03-02T14:02:30Z" {
		t.Errorf("the ABC price rise is plotted at %s, want the SELL that saw it (14:02:30)", at)
	}
	desc := findAll(svgs[0], func(n *html.Node) bool { return n.Data == "desc" })
	if len(desc) != 1 || !strings.Contains(textOf(desc[0]), "6 points from $1,000.00") || !strings.Contains(textOf(desc[0]), "high $1,544.01") {
		t.Errorf("chart description %q", textOf(desc[0]))
	}

	rows := findAll(doc, func(n *html.Node) bool { return n.Data == "tr" && attr(n, "data-symbol") != "" })
	spark := map[string]string{}
	links := map[string]string{}
	for _, row := range rows {
		sym := attr(row, "data-symbol")
		for _, s := range findAll(row, func(n *html.Node) bool { return n.Data == "svg" }) {
			spark[sym] = attr(s, "aria-label")
		}
		for _, a := range findAll(row, func(n *html.Node) bool { return n.Data == "a" }) {
			links[sym] = attr(a, "href")
		}
	}
	if !strings.HasPrefix(spark["ABC"], "ABC price: 4 points from $10.00") || !strings.Contains(spark["ABC"], "to $16.00") {
		t.Errorf("ABC sparkline %q", spark["ABC"])
	}
	if !strings.HasPrefix(spark["XYZ"], "XYZ price: 2 points from $20.00") {
		t.Errorf("XYZ sparkline %q", spark["XYZ"])
	}
	if links["ABC"] != "/symbols/ABC" || links["XYZ"] != "/symbols/XYZ" {
		t.Errorf("holding links %v", links)
	}
}

// TestSymbolPage: the position and its P&L, the price chart of the quotes
// the trader received, and the trades newest first; what is not a symbol is
// a 400, a symbol never seen a 404.
func TestSymbolPage(t *testing.T) {
	ts := newTestServer(t)
	user, b := knownTrader(t, ts)
	// History links each record's symbol to the symbol page.
	ts.audit.setPage(audit.HistoryPage{Events: []audit.StoredEvent{{ID: 1, Event: trading.Event{Type: trading.UserCommandEvent,
		Time: chartStart, TxNum: 3, Command: trading.Buy, User: user, Symbol: "ABC"}}}})
	hist := parsePage(t, b.get("/history").body)
	if links := findAll(hist, func(n *html.Node) bool { return attr(n, "href") == "/symbols/ABC" }); len(links) != 1 {
		t.Errorf("History links ABC %d times, want once", len(links))
	}
	r := b.get("/symbols/ABC")
	wantStatus(t, r, http.StatusOK)
	doc := parsePage(t, r.body)
	_, stats := inside(t, doc, "symbol-position", "span")
	got := map[string]string{}
	for _, s := range stats {
		if k := attr(s, "data-stat"); k != "" {
			got[k] = strings.TrimSpace(textOf(s))
		}
	}
	want := map[string]string{"shares": "6", "avg-cost": "$10.00", "last-price": "$16.00", "market-value": "$96.00",
		"unrealized": "+$36.00", "realized": "+$8.00"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("position %s = %q, want %q", k, got[k], v)
		}
	}
	_, marks := inside(t, doc, "price-chart", "circle")
	if v := markValues(marks); v != "10 12 15 16" {
		t.Errorf("price points %q, want 10 12 15 16", v)
	}
	trades := tableRows(t, r.body, "data-tx")
	if len(trades) != 2 {
		t.Fatalf("%d trades listed, want 2: %v", len(trades), trades)
	}
	var order []string
	for _, row := range findAll(doc, func(n *html.Node) bool { return n.Data == "tr" && attr(n, "data-tx") != "" }) {
		c := trades[attr(row, "data-tx")]
		order = append(order, c["side"].text+" "+c["shares"].text+" at "+c["price"].text+" = "+c["total"].text)
	}
	if got := strings.Join(order, "; "); got != "Sell 4 at $12.00 = $48.00; Buy 10 at $10.00 = $100.00" {
		t.Errorf("trades %q", got)
	}
	xyz := tableRows(t, b.get("/symbols/XYZ").body, "data-tx")
	for _, c := range xyz {
		if c["side"].text != "Buy (automatic)" {
			t.Errorf("XYZ trade %q, want the trigger's automatic buy", c["side"].text)
		}
	}

	for _, bad := range []string{"abc", "ABCD", "A1", "%3Cb%3E", "A%20B"} {
		r := b.get("/symbols/" + bad)
		wantStatus(t, r, http.StatusBadRequest)
		wantContains(t, r, "a symbol is 1 to 3 upper-case letters")
	}
	r = b.get("/symbols/QQ")
	wantStatus(t, r, http.StatusNotFound)
	wantContains(t, r, "You have not quoted or traded QQ yet")
	if r := ts.newBrowser(t).get("/symbols/ABC"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("signed out: status %d, want a redirect to sign in", r.StatusCode)
	}
}

// TestAdminSeesChartsWithoutSymbolLinks: an administrator's view of an
// account shows its charts, but its symbols do not link to the symbol
// page, which is always the signed-in trader's own.
func TestAdminSeesChartsWithoutSymbolLinks(t *testing.T) {
	admin := uniqueUser("admin")
	ts := newTestServer(t, func(c *Config) { c.AdminUser, c.AdminPassword = admin, "admin password" })
	user, _ := knownTrader(t, ts)
	b := ts.newBrowser(t)
	wantStatus(t, b.login(admin, "admin password"), http.StatusSeeOther)
	r := b.get("/admin/users/" + user)
	wantStatus(t, r, http.StatusOK)
	doc := parsePage(t, r.body)
	_, marks := inside(t, doc, "portfolio-chart", "circle")
	if len(marks) != 6 {
		t.Errorf("the admin's view has %d portfolio points, want 6", len(marks))
	}
	if links := findAll(doc, func(n *html.Node) bool { return strings.HasPrefix(attr(n, "href"), "/symbols/") }); len(links) != 0 {
		t.Errorf("the admin's view links %d symbols to the admin's own symbol pages", len(links))
	}
}
