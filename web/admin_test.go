package web

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/trading"
)

func TestHistoryIsTheSessionUsers(t *testing.T) {
	ts := newTestServer(t)
	alice := uniqueUser("alice")
	b := ts.registered(t, alice)
	registration := len(ts.audit.historyQueries()) // its check for records of the name
	ts.audit.setPage(audit.HistoryPage{
		Events: []audit.StoredEvent{
			{ID: 77, Event: trading.Event{Type: trading.AccountTransactionEvent, Time: time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC),
				TxNum: 12, Command: trading.Add, User: alice, Action: "add", Funds: decimal.NewNullDecimal(decimal.NewFromInt(100))}},
			{ID: 76, Event: trading.Event{Type: trading.ErrorEvent, Time: time.Date(2025, 3, 4, 5, 6, 0, 0, time.UTC),
				TxNum: 11, Command: trading.Buy, User: alice, Symbol: "ABC", Message: "not enough cash"}},
		},
		NextBeforeID: 76,
	})

	r := b.get("/history?user=bob&command=BUY&type=errorEvent&from=2025-03-01&to=2025-03-04&before=90")
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r, "2025-03-04 05:06:07 UTC", "$100.00", "not enough cash", "tag-errorEvent",
		`href="/history?before=76&amp;command=BUY&amp;from=2025-03-01&amp;to=2025-03-04&amp;type=errorEvent"`, // older page keeps the filters
		`href="/dumplog"`)
	qs := ts.audit.historyQueries()[registration:]
	if len(qs) != 1 {
		t.Fatalf("History called %d times, want 1", len(qs))
	}
	want := audit.HistoryQuery{
		User: alice, Command: trading.Buy, Type: trading.ErrorEvent,
		From: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 3, 5, 0, 0, 0, 0, time.UTC),
		BeforeID: 90, Limit: historyPageSize,
	}
	if qs[0] != want {
		t.Errorf("History query %+v, want %+v", qs[0], want)
	}

	for _, bad := range []string{"command=FLY", "type=rumour", "from=yesterday", "to=2025-13-01",
		"from=2025-03-05&to=2025-03-04", "before=-1", "before=x"} {
		r := b.get("/history?" + bad)
		if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.body, `class="alert alert-error"`) {
			t.Errorf("/history?%s: status %d, want 400 with an error", bad, r.StatusCode)
		}
	}
	if n := len(ts.audit.historyQueries()) - registration; n != 1 {
		t.Errorf("bad filters reached History (%d calls)", n-1)
	}
}

func TestDumpLogDownloadsOwnLog(t *testing.T) {
	ts := newTestServer(t)
	alice := uniqueUser("alice")
	b := ts.registered(t, alice)
	r := b.get("/dumplog?user=")
	wantStatus(t, r, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); ct != "application/xml; charset=utf-8" {
		t.Errorf("content type %q", ct)
	}
	if cd := r.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment; filename=daytrader-"+alice+"-") || !strings.HasSuffix(cd, ".xml") {
		t.Errorf("Content-Disposition %q, want an attachment named after the user", cd)
	}
	wantContains(t, r, `<!-- dump of "`+alice+`" -->`)
	if got := ts.audit.dumpUsers(); len(got) != 1 || got[0] != alice {
		t.Errorf("dumped %q, want only %q", got, alice)
	}
}

func TestTraderCannotUseAdminPages(t *testing.T) {
	ts := newTestServer(t)
	alice, bob := uniqueUser("alice"), uniqueUser("bob")
	a := ts.registered(t, alice)
	ts.registered(t, bob)
	registrations := len(ts.audit.historyQueries()) // their checks for records of the names
	for _, path := range []string{"/admin", "/admin/dumplog", "/admin/users/" + bob, "/admin/users/" + bob + "/dumplog",
		"/api/accounts/" + bob + "/summary"} {
		r := a.get(path)
		if r.StatusCode != http.StatusForbidden {
			t.Errorf("trader GET %s: status %d, want 403", path, r.StatusCode)
		}
	}
	if d := ts.audit.dumpUsers(); len(d) != 0 {
		t.Fatalf("a trader's requests dumped %q", d)
	}
	if q := ts.audit.historyQueries()[registrations:]; len(q) != 0 {
		t.Fatalf("a trader's admin requests read history %+v", q)
	}
	for _, u := range ts.accounts.summaryUsers() {
		if u == bob {
			t.Fatal("a trader read another user's summary")
		}
	}
	if r := a.get("/"); strings.Contains(r.body, `href="/admin"`) {
		t.Error("a trader's navigation links to the admin page")
	}
}

func TestAdministrator(t *testing.T) {
	admin := uniqueUser("root")
	ts := newTestServer(t, func(c *Config) { c.AdminUser, c.AdminPassword = admin, "admin password" })
	trader := uniqueUser("trader")
	ts.registered(t, trader)
	ts.accounts.set(trading.Summary{User: trader, Exists: true, Cash: decimal.NewFromInt(7)})

	b := ts.newBrowser(t)
	wantStatus(t, b.login(admin, "admin password"), http.StatusSeeOther)

	r := b.get("/admin")
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r, trader, admin, `href="/admin/users/`+trader+`"`,
		`href="http://temporal.test:8233/namespaces/daytrader/workflows/account-`+trader+`"`, `href="/admin/dumplog"`)

	r = b.get("/admin/dumplog")
	wantStatus(t, r, http.StatusOK)
	if cd := r.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment; filename=daytrader-all-") {
		t.Errorf("global dump Content-Disposition %q", cd)
	}
	r = b.get("/admin/users/" + trader + "/dumplog")
	wantStatus(t, r, http.StatusOK)
	if got := ts.audit.dumpUsers(); len(got) != 2 || got[0] != "" || got[1] != trader {
		t.Errorf("dumps %q, want everyone then %q", got, trader)
	}

	r = b.get("/admin/users/" + trader + "?type=userCommand")
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r, "Account <span class=\"mono\">"+trader, `data-testid="cash">$7.00<`, "Workflow in Temporal UI",
		`href="/admin/users/`+trader+`/dumplog"`)
	// The first query is the registration's check for records of the name.
	if q := ts.audit.historyQueries(); len(q) != 2 || q[0].User != trader || q[0].Limit != 1 ||
		q[1].User != trader || q[1].Type != trading.UserCommandEvent {
		t.Errorf("history queries %+v, want the registration's check then the admin's for %s", q, trader)
	}

	// Also users without a web login (workload traders) can be opened.
	r = b.get("/admin?user=" + url.QueryEscape("workload1"))
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/admin/users/workload1" {
		t.Errorf("lookup redirects to %q", loc)
	}
	r = b.get("/admin?user=" + url.QueryEscape("no such!"))
	wantStatus(t, r, http.StatusBadRequest)
	wantContains(t, r, "A user id is 1 to 64 letters or digits.")
	wantStatus(t, b.get("/admin/users/bad%21name"), http.StatusBadRequest)

	r = b.get("/api/accounts/" + trader + "/summary")
	wantStatus(t, r, http.StatusOK)
	var sum trading.Summary
	if err := json.Unmarshal([]byte(r.body), &sum); err != nil || sum.User != trader || !sum.Cash.Equal(decimal.NewFromInt(7)) {
		t.Errorf("admin API summary = %+v (%v)", sum, err)
	}
	r = b.get("/api/accounts/bad%21name/summary")
	wantStatus(t, r, http.StatusBadRequest)
}

func TestNewValidatesConfig(t *testing.T) {
	base := Config{Accounts: newFakeAccounts(), Audit: newFakeAudit(), DB: testPool}
	for name, mutate := range map[string]func(*Config){
		"no accounts":            func(c *Config) { c.Accounts = nil },
		"no audit":               func(c *Config) { c.Audit = nil },
		"no database":            func(c *Config) { c.DB = nil },
		"bad temporal URL":       func(c *Config) { c.TemporalUIURL = "temporal:8233" },
		"admin without password": func(c *Config) { c.AdminUser = "root" },
		"admin short password":   func(c *Config) { c.AdminUser, c.AdminPassword = "root", "short" },
		"negative session TTL":   func(c *Config) { c.SessionTTL = -time.Hour },
		"session TTL below 1s":   func(c *Config) { c.SessionTTL = time.Millisecond },
		"negative login burst":   func(c *Config) { c.LoginLimit.UserBurst = -1 },
		"negative address rate":  func(c *Config) { c.LoginLimit.PerIP = -1 },
		"invalid proxy prefix":   func(c *Config) { c.TrustedProxies = []netip.Prefix{{}} },
	} {
		cfg := base
		mutate(&cfg)
		if s, err := New(cfg); err == nil {
			s.Close()
			t.Errorf("%s: New accepted the config", name)
		}
	}
}
