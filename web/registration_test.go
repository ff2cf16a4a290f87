package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/trading"
)

// webUsers is how many web logins name has (0 or 1).
func webUsers(t *testing.T, name string) int {
	t.Helper()
	return queryValue[int](t, `SELECT count(*) FROM web_users WHERE username = $1`, name)
}

// Registering the name of an existing trading account used to create the
// login and show that account's cash to whoever registered it.
func TestRegisterRefusesAnExistingAccount(t *testing.T) {
	ts := newTestServer(t)
	withMoney, typo, recordsOnly := uniqueUser("rich"), uniqueUser("typo"), uniqueUser("gone")
	ts.accounts.set(trading.Summary{User: withMoney, Exists: true, Cash: decimal.RequireFromString("390413.63")})
	ts.accounts.startWorkflow(typo)
	ts.audit.setPage(audit.HistoryPage{Events: []audit.StoredEvent{{ID: 5, Event: trading.Event{
		Type: trading.AccountTransactionEvent, Time: time.Now(), TxNum: 1, Command: trading.Add, User: recordsOnly,
		Action: "add", Funds: decimal.NewNullDecimal(decimal.NewFromInt(10))}}}})

	for _, name := range []string{withMoney, typo, recordsOnly} {
		t.Run(name, func(t *testing.T) {
			r := ts.newBrowser(t).register(name, "any password")
			wantStatus(t, r, http.StatusConflict)
			wantContains(t, r, "The name "+name+" belongs to an existing trading account.",
				"An administrator gives that account its web login")
			if len(r.Cookies()) != 0 {
				t.Errorf("refused registration set cookies %v", r.Cookies())
			}
			if n := webUsers(t, name); n != 0 {
				t.Errorf("refused registration left %d web logins for %s", n, name)
			}
			wantStatus(t, ts.newBrowser(t).login(name, "any password"), http.StatusUnauthorized)
		})
	}
	if got := ts.accounts.summaryUsers(); len(got) != 0 {
		t.Errorf("refused registrations read the summaries of %q", got)
	}
	if got := ts.accounts.executedCommands(); len(got) != 0 {
		t.Errorf("refused registrations ran %v", got)
	}

	// A fresh name is checked, then registered.
	fresh := uniqueUser("fresh")
	ts.registered(t, fresh)
	if got := ts.accounts.checkedUsers(); !slices.Contains(got, fresh) {
		t.Errorf("HasAccount was asked about %q, not the new name %s", got, fresh)
	}
}

// When the account service cannot say whether the name has an account, the
// registration is refused and leaves nothing behind.
func TestRegisterFailsClosedWhenTheAccountCheckFails(t *testing.T) {
	ts := newTestServer(t)
	ts.accounts.fail(errors.New("temporal unreachable"))
	name := uniqueUser("unsure")
	r := ts.newBrowser(t).register(name, "correct horse")
	wantStatus(t, r, http.StatusServiceUnavailable)
	wantContains(t, r, "Registration is unavailable right now.")
	if n := webUsers(t, name); n != 0 {
		t.Errorf("registration with a failed account check left %d web logins", n)
	}
}

// The administrator gives an existing trading account its web login, on the
// account's admin page, with the password they chose.
func TestAdminCreatesAWebLoginForAnAccount(t *testing.T) {
	admin := uniqueUser("root")
	ts := newTestServer(t, func(c *Config) { c.AdminUser, c.AdminPassword = admin, "admin password" })
	acct := uniqueUser("wl")
	ts.accounts.set(trading.Summary{User: acct, Exists: true, Cash: decimal.RequireFromString("390413.63")})
	b := ts.newBrowser(t)
	wantStatus(t, b.login(admin, "admin password"), http.StatusSeeOther)
	path := "/admin/users/" + acct

	page := b.get(path)
	wantStatus(t, page, http.StatusOK)
	wantContains(t, page, acct+" has no web login", `action="`+path+`/login"`, "Create web login")
	token := b.csrf()
	form := func(password, confirm, csrf string) url.Values {
		return url.Values{"password": {password}, "confirm": {confirm}, csrfField: {csrf}}
	}

	wantStatus(t, b.post(path+"/login", form("trader password", "trader password", "")), http.StatusForbidden)
	r := b.post(path+"/login", form("trader password", "trader passwort", token))
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantContains(t, r, "The two passwords differ.")
	r = b.post(path+"/login", form("short", "short", token))
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantContains(t, r, "Password must be at least 8 characters.")
	if n := webUsers(t, acct); n != 0 {
		t.Fatalf("refused login creations left %d web logins", n)
	}

	r = b.post(path+"/login", form("trader password", "trader password", token))
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != path {
		t.Errorf("login creation redirects to %q, want %s", loc, path)
	}
	wantContains(t, b.get(path), "signs in on the web as a trader")

	trader := ts.newBrowser(t)
	wantStatus(t, trader.login(acct, "trader password"), http.StatusSeeOther)
	wantContains(t, trader.get("/"), `data-testid="cash">$390,413.63<`)

	// A second creation changes nothing: the login keeps its password.
	r = b.post(path+"/login", form("another password", "another password", token))
	wantStatus(t, r, http.StatusConflict)
	wantContains(t, r, acct+" already has a web login.")
	wantStatus(t, ts.newBrowser(t).login(acct, "another password"), http.StatusUnauthorized)

	// Traders cannot create logins, not even with their own CSRF token.
	other := uniqueUser("nologin")
	wantStatus(t, trader.post("/admin/users/"+other+"/login", form("trader password", "trader password", trader.csrf())),
		http.StatusForbidden)
	if n := webUsers(t, other); n != 0 {
		t.Errorf("a trader created a web login for %s", other)
	}
	if got := ts.accounts.executedCommands(); len(got) != 0 {
		t.Errorf("creating a web login ran %v", got)
	}
	if strings.Contains(b.get("/admin/users/"+acct).body, "form-create-login") {
		t.Error("the admin page still offers to create a login that exists")
	}
}
