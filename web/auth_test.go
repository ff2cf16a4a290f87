package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestRegisterSignsInAndLogoutEndsTheSession(t *testing.T) {
	ts := newTestServer(t)
	user := uniqueUser("reg")
	b := ts.newBrowser(t)

	r := b.register(user, "correct horse")
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/" {
		t.Errorf("register redirects to %q, want /", loc)
	}
	cookie := r.Cookies()
	if len(cookie) != 1 || cookie[0].Name != "daytrader_session" || !cookie[0].HttpOnly ||
		cookie[0].SameSite != http.SameSiteLaxMode || cookie[0].Path != "/" || cookie[0].Secure {
		t.Fatalf("session cookie = %+v, want one HttpOnly SameSite=Lax Path=/ cookie (not Secure on http)", cookie)
	}
	var role string
	if err := testPool.QueryRow(context.Background(), `SELECT role FROM web_users WHERE username = $1`, user).Scan(&role); err != nil || role != RoleTrader {
		t.Fatalf("registered user role = %q, %v; want trader", role, err)
	}

	page := b.get("/")
	wantStatus(t, page, http.StatusOK)
	wantContains(t, page, user, "Add funds", "sse-connect=\"/events\"")

	token := b.csrf()
	wantStatus(t, b.post("/logout", url.Values{csrfField: {token}}), http.StatusSeeOther)
	if c := b.sessionCookie(); c != nil {
		t.Errorf("session cookie still set after logout: %v", c)
	}
	// The old token is dead on the server too, not just forgotten by the browser.
	replay := ts.newBrowser(t)
	u, _ := url.Parse(ts.URL)
	replay.client.Jar.SetCookies(u, cookie)
	r = replay.get("/")
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/login" {
		t.Errorf("replayed cookie after logout goes to %q, want /login", loc)
	}
}

func TestRegisterRefusesBadInputAndCreatesNothing(t *testing.T) {
	ts := newTestServer(t)
	taken := uniqueUser("taken")
	ts.registered(t, taken)
	cases := []struct {
		name, user, password, confirm string
		status                        int
		message                       string
	}{
		{"empty name", "", "correct horse", "correct horse", http.StatusUnprocessableEntity, "User name must be 1 to 64 letters or digits"},
		{"name with a dash", "bad-name", "correct horse", "correct horse", http.StatusUnprocessableEntity, "User name must be 1 to 64 letters or digits"},
		{"name too long", strings.Repeat("a", 65), "correct horse", "correct horse", http.StatusUnprocessableEntity, "User name must be 1 to 64"},
		{"short password", uniqueUser("short"), "1234567", "1234567", http.StatusUnprocessableEntity, "Password must be at least 8 characters"},
		{"passwords differ", uniqueUser("differ"), "correct horse", "correct hose", http.StatusUnprocessableEntity, "The two passwords differ"},
		{"name taken", taken, "another password", "another password", http.StatusConflict, "That user name is taken"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := ts.newBrowser(t)
			r := b.post("/register", url.Values{"username": {c.user}, "password": {c.password}, "confirm": {c.confirm}})
			wantStatus(t, r, c.status)
			wantContains(t, r, c.message)
			if len(r.Cookies()) != 0 {
				t.Errorf("refused registration set cookies %v", r.Cookies())
			}
			if c.user != taken {
				var n int
				testPool.QueryRow(context.Background(), `SELECT count(*) FROM web_users WHERE username = $1`, c.user).Scan(&n)
				if n != 0 {
					t.Errorf("refused registration created user %q", c.user)
				}
			}
		})
	}
	// The taken name still has its first password.
	if r := ts.newBrowser(t).login(taken, "another password"); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("login with the refused registration's password: status %d, want 401", r.StatusCode)
	}
}

// With registration closed the page says so, a registration posted anyway
// creates nothing, and the sign-in page stops offering it.
func TestRegistrationClosed(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.RegistrationClosed = true })
	b := ts.newBrowser(t)
	r := b.get("/register")
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r, "Registration is closed", "Ask an administrator", `data-testid="registration-closed"`)
	if strings.Contains(r.body, `action="/register"`) {
		t.Error("the closed registration page still has the form")
	}
	user := uniqueUser("closed")
	r = b.register(user, "correct horse")
	wantStatus(t, r, http.StatusForbidden)
	wantContains(t, r, "Registration is closed")
	if n := webUsers(t, user); n != 0 || b.sessionCookie() != nil {
		t.Errorf("a registration while closed left %d web logins (session %v)", n, b.sessionCookie())
	}
	if got := ts.accounts.checkedUsers(); len(got) != 0 {
		t.Errorf("a registration while closed asked about accounts %q", got)
	}
	if r := b.get("/login"); strings.Contains(r.body, `href="/register"`) {
		t.Error("login page links to registration while it is closed")
	}
	// Open (the default), the sign-in page offers it.
	wantContains(t, newTestServer(t).newBrowser(t).get("/login"), `href="/register"`)
}

// SessionTTL is how long a sign-in lasts: the cookie's lifetime and the
// server's, which refuses the session afterwards even to a kept cookie.
func TestSessionTTL(t *testing.T) {
	t.Run("default 12 hours", func(t *testing.T) {
		ts := newTestServer(t)
		wantSessionLifetime(t, ts.newBrowser(t).register(uniqueUser("ttl"), "correct horse"), 12*time.Hour)
	})
	t.Run("configured", func(t *testing.T) {
		ttl := 2 * time.Second
		ts := newTestServer(t, func(c *Config) { c.SessionTTL = ttl })
		b := ts.newBrowser(t)
		cookie := wantSessionLifetime(t, b.register(uniqueUser("ttl"), "correct horse"), ttl)
		wantStatus(t, b.get("/"), http.StatusOK)
		time.Sleep(ttl + 200*time.Millisecond)
		kept := ts.newBrowser(t)
		u, _ := url.Parse(ts.URL)
		kept.client.Jar.SetCookies(u, []*http.Cookie{{Name: cookie.Name, Value: cookie.Value, Path: "/"}})
		r := kept.get("/")
		wantStatus(t, r, http.StatusSeeOther)
		if loc := r.Header.Get("Location"); loc != "/login" {
			t.Errorf("an expired session goes to %q, want /login", loc)
		}
	})
}

// wantSessionLifetime checks that the session r started lasts ttl, in its
// cookie and in the session table, and returns the cookie.
func wantSessionLifetime(t *testing.T, r response, ttl time.Duration) *http.Cookie {
	t.Helper()
	wantStatus(t, r, http.StatusSeeOther)
	cookies := r.Cookies()
	if len(cookies) != 1 {
		t.Fatalf("sign-in set cookies %v, want the session cookie", cookies)
	}
	c := cookies[0]
	if got := time.Duration(c.MaxAge) * time.Second; got > ttl || got < ttl-2*time.Second {
		t.Errorf("session cookie Max-Age %v, want about %v", got, ttl)
	}
	var lifetime time.Duration
	err := testPool.QueryRow(context.Background(), `SELECT expires_at - created_at FROM web_sessions WHERE token_hash = $1`,
		hashToken(c.Value)).Scan(&lifetime)
	if err != nil || lifetime < ttl-time.Second || lifetime > ttl+time.Second {
		t.Errorf("stored session lifetime %v (%v), want about %v", lifetime, err, ttl)
	}
	return c
}

func TestLoginChecksPassword(t *testing.T) {
	ts := newTestServer(t)
	user := uniqueUser("login")
	ts.registered(t, user)

	b := ts.newBrowser(t)
	r := b.login(user, "wrong password")
	wantStatus(t, r, http.StatusUnauthorized)
	wantContains(t, r, "Wrong user name or password.")
	if len(r.Cookies()) != 0 {
		t.Errorf("failed login set cookies %v", r.Cookies())
	}
	r = b.login(uniqueUser("nobody"), "correct horse")
	wantStatus(t, r, http.StatusUnauthorized)
	wantContains(t, r, "Wrong user name or password.") // same words: no hint which names exist

	r = b.login(user, "correct horse")
	wantStatus(t, r, http.StatusSeeOther)
	wantStatus(t, b.get("/"), http.StatusOK)
}

func TestSessionTableHoldsOnlyTheTokenHash(t *testing.T) {
	ts := newTestServer(t)
	user := uniqueUser("hash")
	b := ts.registered(t, user)
	token := b.sessionCookie().Value
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) != 32 {
		t.Fatalf("session token %q is not 32 random bytes in base64url (%v)", token, err)
	}
	var stored []byte
	var csrf string
	err = testPool.QueryRow(context.Background(),
		`SELECT token_hash, csrf_token FROM web_sessions WHERE username = $1`, user).Scan(&stored, &csrf)
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256([]byte(token))
	if !bytes.Equal(stored, want[:]) {
		t.Errorf("stored token_hash %x, want SHA-256 of the cookie %x", stored, want)
	}
	if bytes.Contains(stored, []byte(token)) || csrf == token {
		t.Error("the cookie's token is stored in clear")
	}
}

// A session token that an attacker planted in the victim's browser before
// login must not become the victim's session.
func TestLoginStartsANewSession(t *testing.T) {
	ts := newTestServer(t)
	user := uniqueUser("fix")
	ts.registered(t, user)
	u, _ := url.Parse(ts.URL)

	t.Run("planted unknown token", func(t *testing.T) {
		b := ts.newBrowser(t)
		planted := &http.Cookie{Name: "daytrader_session", Value: randomToken(), Path: "/"}
		b.client.Jar.SetCookies(u, []*http.Cookie{planted})
		wantStatus(t, b.login(user, "correct horse"), http.StatusSeeOther)
		if got := b.sessionCookie().Value; got == planted.Value {
			t.Fatal("login kept the planted session token")
		}
		attacker := ts.newBrowser(t)
		attacker.client.Jar.SetCookies(u, []*http.Cookie{planted})
		wantStatus(t, attacker.get("/"), http.StatusSeeOther) // to /login
	})

	t.Run("attacker's own valid session", func(t *testing.T) {
		attacker := ts.registered(t, uniqueUser("attacker"))
		planted := attacker.sessionCookie()
		victim := ts.newBrowser(t)
		victim.client.Jar.SetCookies(u, []*http.Cookie{{Name: planted.Name, Value: planted.Value, Path: "/"}})
		wantStatus(t, victim.login(user, "correct horse"), http.StatusSeeOther)
		if victim.sessionCookie().Value == planted.Value {
			t.Fatal("login kept the session token the browser came with")
		}
		// The session the browser came with is gone, not upgraded.
		wantStatus(t, attacker.get("/"), http.StatusSeeOther)
		page := victim.get("/")
		wantStatus(t, page, http.StatusOK)
		wantContains(t, page, user)
	})
}

func TestCSRFTokenRequired(t *testing.T) {
	ts := newTestServer(t)
	user := uniqueUser("csrf")
	b := ts.registered(t, user)
	token := b.csrf()
	add := url.Values{"command": {"ADD"}, "amount": {"100"}}

	withField := func(v url.Values, token string) url.Values {
		out := url.Values{}
		for k, vs := range v {
			out[k] = vs
		}
		out.Set(csrfField, token)
		return out
	}
	refused := []struct {
		name    string
		form    url.Values
		headers []string
	}{
		{"no token", add, nil},
		{"no token (HTMX)", add, []string{"HX-Request", "true"}},
		{"wrong field", withField(add, randomToken()), nil},
		{"wrong header", add, []string{csrfHeader, randomToken()}},
		{"token with a byte changed", withField(add, token[:len(token)-1]+"x"), nil},
	}
	for _, c := range refused {
		r := b.post("/commands", c.form, c.headers...)
		if r.StatusCode != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", c.name, r.StatusCode)
		}
	}
	// Another session's token is no good either.
	other := ts.registered(t, uniqueUser("csrfother"))
	if r := b.post("/commands", withField(add, other.csrf())); r.StatusCode != http.StatusForbidden {
		t.Errorf("another session's token: status %d, want 403", r.StatusCode)
	}
	// Logout is state-changing too.
	wantStatus(t, b.post("/logout", url.Values{}), http.StatusForbidden)
	wantStatus(t, b.get("/"), http.StatusOK)

	if n := len(ts.accounts.executedCommands()); n != 0 {
		t.Fatalf("%d commands executed without a valid CSRF token", n)
	}
	if ts.audit.txNumCalls() != 0 {
		t.Fatal("transaction numbers were spent on refused requests")
	}

	wantStatus(t, b.post("/commands", withField(add, token)), http.StatusOK)
	wantStatus(t, b.post("/commands", add, csrfHeader, token, "HX-Request", "true"), http.StatusOK)
	if n := len(ts.accounts.executedCommands()); n != 2 {
		t.Fatalf("%d commands executed with the right token, want 2", n)
	}
}

func TestCrossSiteRequestsRefused(t *testing.T) {
	ts := newTestServer(t)
	user := uniqueUser("xsite")
	ts.registered(t, user)
	b := ts.newBrowser(t)
	// A browser marks a form posted from another site; even a login is refused.
	r := b.post("/login", url.Values{"username": {user}, "password": {"correct horse"}}, "Sec-Fetch-Site", "cross-site")
	wantStatus(t, r, http.StatusForbidden)
	r = b.post("/login", url.Values{"username": {user}, "password": {"correct horse"}}, "Origin", "https://evil.example")
	wantStatus(t, r, http.StatusForbidden)
	if b.sessionCookie() != nil {
		t.Fatal("a cross-site login set a session")
	}
	wantStatus(t, b.post("/login", url.Values{"username": {user}, "password": {"correct horse"}}, "Sec-Fetch-Site", "same-origin"), http.StatusSeeOther)
}

func TestUnauthenticatedRequests(t *testing.T) {
	ts := newTestServer(t)
	b := ts.newBrowser(t)
	for _, path := range []string{"/", "/history", "/dumplog", "/admin", "/admin/dumplog"} {
		r := b.get(path)
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/login" {
			t.Errorf("GET %s signed out: status %d Location %q, want 303 to /login", path, r.StatusCode, r.Header.Get("Location"))
		}
	}
	r := b.get("/api/summary")
	wantStatus(t, r, http.StatusUnauthorized)
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("API 401 content type %q", ct)
	}
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/fragments/summary", nil)
	req.Header.Set("HX-Request", "true")
	r = b.do(req)
	wantStatus(t, r, http.StatusUnauthorized)
	if r.Header.Get("HX-Redirect") != "/login" {
		t.Error("HTMX request without a session is not sent to /login")
	}
	wantStatus(t, b.post("/commands", url.Values{"command": {"ADD"}, "amount": {"5"}}), http.StatusUnauthorized)
	if len(ts.accounts.executedCommands()) != 0 || len(ts.accounts.summaryUsers()) != 0 {
		t.Fatal("a signed-out request reached the accounts")
	}
}

func TestCreateUser(t *testing.T) {
	ctx := context.Background()
	user := uniqueUser("cli")
	for _, c := range []struct{ user, password, role string }{
		{"bad name!", "correct horse", RoleTrader},
		{user, "short", RoleTrader},
		{user, "correct horse", "root"},
	} {
		if err := CreateUser(ctx, testPool, c.user, c.password, c.role); err == nil {
			t.Errorf("CreateUser(%q, %q, %q) accepted bad input", c.user, c.password, c.role)
		}
	}
	if err := CreateUser(ctx, testPool, user, "first password", RoleTrader); err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t)
	b := ts.newBrowser(t)
	wantStatus(t, b.login(user, "first password"), http.StatusSeeOther)

	// Same password, new role: the session stays and sees the new role.
	if err := CreateUser(ctx, testPool, user, "first password", RoleAdmin); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, b.get("/admin"), http.StatusOK)
	// A new password ends the user's sessions.
	if err := CreateUser(ctx, testPool, user, "second password", RoleAdmin); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, b.get("/"), http.StatusSeeOther)
	wantStatus(t, b.login(user, "first password"), http.StatusUnauthorized)
	wantStatus(t, b.login(user, "second password"), http.StatusSeeOther)
}

func TestPasswordHash(t *testing.T) {
	h, err := hashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q is not an argon2id PHC string with the configured parameters", h)
	}
	if !verifyPassword(h, "correct horse") || verifyPassword(h, "correct horsE") || verifyPassword("garbage", "correct horse") {
		t.Error("verifyPassword accepts a wrong password or rejects the right one")
	}
	if h2, _ := hashPassword("correct horse"); h2 == h {
		t.Error("two hashes of one password are equal: no salt")
	}
}
