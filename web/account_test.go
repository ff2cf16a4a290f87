package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
	"golang.org/x/time/rate"

	"github.com/daytradinginc/daytrader/internal/browsertest"
	"github.com/daytradinginc/daytrader/internal/htmltest"
)

// storedPasswordHash is user's password hash as web_users holds it.
func storedPasswordHash(t *testing.T, user string) string {
	t.Helper()
	return queryValue[string](t, `SELECT password_hash FROM web_users WHERE username = $1`, user)
}

// sessionsOf is how many sessions web_sessions holds for user.
func sessionsOf(t *testing.T, user string) int {
	t.Helper()
	return queryValue[int](t, `SELECT count(*) FROM web_sessions WHERE username = $1`, user)
}

// signedIn reports whether b's session still opens the dashboard (a
// signed-out browser is sent to /login).
func (b *browser) signedIn() bool {
	b.t.Helper()
	r := b.get("/")
	switch {
	case r.StatusCode == http.StatusOK:
		return true
	case r.StatusCode == http.StatusSeeOther && r.Header.Get("Location") == "/login":
		return false
	}
	b.t.Fatalf("GET /: status %d, Location %q", r.StatusCode, r.Header.Get("Location"))
	return false
}

// changePassword posts the account page's password form with the session's
// CSRF token.
func (b *browser) changePassword(current, next, confirm string) response {
	b.t.Helper()
	return b.post("/account/password", url.Values{csrfField: {b.csrf()}, "current": {current}, "password": {next}, "confirm": {confirm}})
}

// accountAlert is the account page's message and the inputs it marks
// invalid.
func accountAlert(t *testing.T, page string) (msg string, invalid []string) {
	t.Helper()
	doc := htmltest.Parse(t, strings.NewReader(page))
	for _, n := range htmltest.Find(doc, func(n *html.Node) bool { return strings.HasPrefix(htmltest.Attr(n, "class"), "alert ") }) {
		msg += htmltest.Text(n)
	}
	for _, n := range htmltest.Find(doc, htmltest.HasAttr("aria-invalid", "true")) {
		invalid = append(invalid, htmltest.Attr(n, "id"))
	}
	return msg, invalid
}

// TestChangePassword: a refused change (wrong current password, the
// registration's rules, no CSRF token) says why and changes nothing, the
// other session included; a change keeps the session that made it, signs
// out the user's other one (not other users') and the new password signs in.
func TestChangePassword(t *testing.T) {
	ts := newTestServer(t)
	user := uniqueUser("pw")
	b := ts.registered(t, user)
	other := ts.newBrowser(t)
	wantStatus(t, other.login(user, "correct horse"), http.StatusSeeOther)
	bystander := ts.registered(t, uniqueUser("by"))
	page := b.get("/account")
	wantStatus(t, page, http.StatusOK)
	if got := textByTestID(t, page.body, "session-count"); got != "You are signed in in 2 browsers or devices, this one included." {
		t.Errorf("the account page says %q", got)
	}
	before := storedPasswordHash(t, user)

	for _, c := range []struct {
		name, current, next, confirm string
		status                       int
		field, msg                   string
	}{
		{"wrong current password", "wrong horse", "battery staple", "battery staple", http.StatusForbidden, "current",
			"Your current password is not right. Nothing was changed."},
		{"no current password", "", "battery staple", "battery staple", http.StatusUnprocessableEntity, "current", "Enter your current password."},
		{"too short", "correct horse", "short", "short", http.StatusUnprocessableEntity, "password", "Password must be at least 8 characters."},
		{"too long", "correct horse", strings.Repeat("x", 257), strings.Repeat("x", 257), http.StatusUnprocessableEntity, "password",
			"Password must be at most 256 characters."},
		{"confirmation differs", "correct horse", "battery staple", "battery stapler", http.StatusUnprocessableEntity, "confirm", "The two passwords differ."},
		{"the current one again", "correct horse", "correct horse", "correct horse", http.StatusUnprocessableEntity, "password",
			"The new password is your current one. Choose another."},
	} {
		r := b.changePassword(c.current, c.next, c.confirm)
		wantStatus(t, r, c.status)
		if msg, invalid := accountAlert(t, r.body); msg != c.msg || len(invalid) != 1 || invalid[0] != c.field {
			t.Errorf("%s: the page says %q and marks %v, want %q on %s", c.name, msg, invalid, c.msg, c.field)
		}
		if storedPasswordHash(t, user) != before || sessionsOf(t, user) != 2 {
			t.Fatalf("%s: the refused change changed the password or the sessions", c.name)
		}
	}
	noToken := b.post("/account/password", url.Values{"current": {"correct horse"}, "password": {"battery staple"}, "confirm": {"battery staple"}})
	wantStatus(t, noToken, http.StatusForbidden)
	if storedPasswordHash(t, user) != before || !other.signedIn() {
		t.Fatal("a change without the CSRF token changed something")
	}

	r := b.changePassword("correct horse", "battery staple", "battery staple")
	wantStatus(t, r, http.StatusOK)
	if msg, _ := accountAlert(t, r.body); msg != "Your password was changed, and your 1 other session was signed out." {
		t.Errorf("after the change the page says %q", msg)
	}
	if !b.signedIn() || other.signedIn() || !bystander.signedIn() {
		t.Errorf("after the change: this session %v (want kept), the other %v (want out), another user's %v (want kept)",
			b.signedIn(), other.signedIn(), bystander.signedIn())
	}
	if n := sessionsOf(t, user); n != 1 {
		t.Errorf("%d sessions left, want this one", n)
	}
	wantStatus(t, ts.newBrowser(t).login(user, "correct horse"), http.StatusUnauthorized)
	wantStatus(t, ts.newBrowser(t).login(user, "battery staple"), http.StatusSeeOther)
}

// textByTestID is the text of the element with that data-testid.
func textByTestID(t *testing.T, page, id string) string {
	t.Helper()
	found := htmltest.Find(htmltest.Parse(t, strings.NewReader(page)), htmltest.HasAttr("data-testid", id))
	if len(found) != 1 {
		t.Fatalf("%d elements with data-testid %q", len(found), id)
	}
	return htmltest.Text(found[0])
}

// TestChangePasswordIsRateLimited: checking the current password takes a
// sign-in attempt from the same limits, so a stolen session cannot guess
// the password faster than the sign-in page allows; once they are spent
// even the right password changes nothing.
func TestChangePasswordIsRateLimited(t *testing.T) {
	ts := newTestServer(t, func(c *Config) {
		c.LoginLimit = LoginLimit{PerUser: rate.Every(time.Hour), UserBurst: 3, PerIP: rate.Every(time.Hour), IPBurst: 100}
	})
	user := uniqueUser("guess")
	b := ts.registered(t, user)
	before := storedPasswordHash(t, user)
	for i := range 3 {
		if r := b.changePassword("guess "+string(rune('a'+i)), "battery staple", "battery staple"); r.StatusCode != http.StatusForbidden {
			t.Fatalf("guess %d: status %d, want 403", i+1, r.StatusCode)
		}
	}
	r := b.changePassword("correct horse", "battery staple", "battery staple")
	wantRetryAfter(t, r, 3500, 3600)
	wantContains(t, r, "Nothing was changed.")
	if storedPasswordHash(t, user) != before {
		t.Fatal("a rate-limited change changed the password")
	}
	// Bad input is answered before the limit and takes nothing from it.
	wantStatus(t, b.changePassword("correct horse", "short", "short"), http.StatusUnprocessableEntity)
}

// TestSignOutEverywhere: every session of the user ends, this one
// included, on real Postgres; other users' sessions stay. Without the CSRF
// token, or from another site, nothing ends.
func TestSignOutEverywhere(t *testing.T) {
	ts := newTestServer(t)
	user := uniqueUser("every")
	b := ts.registered(t, user)
	second, third := ts.newBrowser(t), ts.newBrowser(t)
	wantStatus(t, second.login(user, "correct horse"), http.StatusSeeOther)
	wantStatus(t, third.login(user, "correct horse"), http.StatusSeeOther)
	bystander := ts.registered(t, uniqueUser("by"))

	wantStatus(t, b.post("/account/sign-out-everywhere", nil), http.StatusForbidden)
	wantStatus(t, b.post("/account/sign-out-everywhere", url.Values{csrfField: {"not the token"}}), http.StatusForbidden)
	crossSite := b.post("/account/sign-out-everywhere", url.Values{csrfField: {b.csrf()}}, "Sec-Fetch-Site", "cross-site")
	wantStatus(t, crossSite, http.StatusForbidden)
	if n := sessionsOf(t, user); n != 3 || !second.signedIn() {
		t.Fatalf("refused requests ended sessions: %d left", n)
	}

	r := b.post("/account/sign-out-everywhere", url.Values{csrfField: {b.csrf()}})
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/login" {
		t.Errorf("redirects to %q, want /login", loc)
	}
	if b.sessionCookie() != nil {
		t.Error("the session cookie is still set")
	}
	if b.signedIn() || second.signedIn() || third.signedIn() {
		t.Error("a session of the user still works after signing out everywhere")
	}
	if n := sessionsOf(t, user); n != 0 {
		t.Errorf("%d sessions of the user left in web_sessions", n)
	}
	if !bystander.signedIn() {
		t.Error("another user's session ended")
	}
	wantStatus(t, b.login(user, "correct horse"), http.StatusSeeOther) // the password still works
}

// TestBrowserAccountPage: in Chromium, a trader signed in twice changes
// the password on the account page (a wrong current password first), which
// signs the other browser out; after signing in again there with the new
// password, "Sign out everywhere" ends both.
func TestBrowserAccountPage(t *testing.T) {
	ts := newTestServer(t)
	user := uniqueUser("acct")
	ui := browsertest.New(t, ts.URL)
	ui.SignUp(user, "correct horse")
	other := browsertest.New(t, ts.URL)
	other.SignIn(user, "correct horse")

	ui.ClickNav(".nav a[href='/account']")
	ui.WaitText("[data-testid=session-count]", "signed in in 2 browsers")
	ui.Screenshot("account-01")
	fillPasswordForm := func(current, next string) {
		ui.Fill("#current", current)
		ui.Fill("#password", next)
		ui.Fill("#confirm", next)
		ui.ClickNav("#form-password button[type=submit]")
	}
	fillPasswordForm("wrong horse", "battery staple")
	ui.WaitText("#form-password .alert-error", "Your current password is not right. Nothing was changed.")
	ui.Screenshot("account-02-wrong-password")
	fillPasswordForm("correct horse", "battery staple")
	ui.WaitText("#form-password .alert-ok", "your 1 other session was signed out")
	ui.WaitText("[data-testid=session-count]", "in this browser only")
	ui.Screenshot("account-03-password-changed")

	other.Open("/")
	other.WaitText("#login-title", "Sign in")
	other.SignIn(user, "battery staple")

	ui.Open("/account")
	ui.ClickNav("#form-sign-out-everywhere button")
	ui.WaitText("#login-title", "Sign in")
	other.Open("/history")
	other.WaitText("#login-title", "Sign in")
}
