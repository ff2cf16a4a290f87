package web

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// behindProxy makes the test server trust its loopback connections as a
// reverse proxy, so each request's X-Forwarded-For is its client address.
func behindProxy(c *Config) {
	c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
}

func (b *browser) loginFrom(addr, user, password string) response {
	b.t.Helper()
	return b.post("/login", url.Values{"username": {user}, "password": {password}}, "X-Forwarded-For", addr)
}

// wantRetryAfter checks a 429 says how long to wait, in the header and the
// page, and that the wait is within (low, high] seconds.
func wantRetryAfter(t *testing.T, r response, low, high int) {
	t.Helper()
	wantStatus(t, r, http.StatusTooManyRequests)
	secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || secs <= low || secs > high {
		t.Fatalf("Retry-After %q, want whole seconds in (%d, %d]", r.Header.Get("Retry-After"), low, high)
	}
	wantContains(t, r, "Too many attempts: try again in "+strconv.Itoa(secs)+" s.")
}

// A stranger guessing a trader's password used to lock the trader out: the
// bucket was per user name, so after 5 wrong passwords from anywhere the
// right one got 429, and one wrong try every 12 s kept it that way.
func TestStrangerCannotLockATraderOut(t *testing.T) {
	ts := newTestServer(t, behindProxy) // the default limits
	trader := uniqueUser("victim")
	ts.registered(t, trader)
	stranger := ts.newBrowser(t)
	for i := range DefaultLoginLimit.UserBurst {
		if r := stranger.loginFrom("203.0.113.7", trader, "guess "+strconv.Itoa(i)); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("guess %d: status %d, want 401", i+1, r.StatusCode)
		}
	}
	wantRetryAfter(t, stranger.loginFrom("203.0.113.7", trader, "one more guess"), 0, 12)

	b := ts.newBrowser(t)
	wantStatus(t, b.loginFrom("198.51.100.2", trader, "correct horse"), http.StatusSeeOther)
	wantStatus(t, b.get("/"), http.StatusOK)
}

func TestSameAddressIsSlowed(t *testing.T) {
	ts := newTestServer(t, behindProxy, func(c *Config) {
		c.LoginLimit = LoginLimit{PerUser: rate.Every(time.Hour), UserBurst: 3, PerIP: rate.Every(time.Hour), IPBurst: 6}
	})
	trader, other := uniqueUser("slow"), uniqueUser("free")
	ts.registered(t, trader)
	ts.registered(t, other)
	b := ts.newBrowser(t)
	for i := range 3 {
		if r := b.loginFrom("192.0.2.1", trader, "wrong password"); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: status %d, want 401", i+1, r.StatusCode)
		}
	}
	// The right password from the guessing address waits for the name's
	// bucket at that address: an hour.
	wantRetryAfter(t, b.loginFrom("192.0.2.1", trader, "correct horse"), 3500, 3600)
	if b.sessionCookie() != nil {
		t.Fatal("a rate-limited login signed in")
	}
	// Another name from the same address still has its own tries, until
	// the address's bucket (6) is spent; refused attempts took nothing.
	wantStatus(t, b.loginFrom("192.0.2.1", other, "correct horse"), http.StatusSeeOther)
	for range 2 {
		wantStatus(t, ts.newBrowser(t).loginFrom("192.0.2.1", uniqueUser("spray"), "wrong password"), http.StatusUnauthorized)
	}
	wantRetryAfter(t, ts.newBrowser(t).loginFrom("192.0.2.1", uniqueUser("spray"), "wrong password"), 3500, 3600)
	// Registration counts against the same address.
	wantRetryAfter(t, ts.newBrowser(t).post("/register", url.Values{"username": {uniqueUser("late")},
		"password": {"correct horse"}, "confirm": {"correct horse"}}, "X-Forwarded-For", "192.0.2.1"), 3500, 3600)
	// IPv6 addresses of one /64 are one client.
	v6 := ts.newBrowser(t)
	for i := range 3 {
		wantStatus(t, v6.loginFrom("2001:db8:1:2::"+strconv.Itoa(i+1), trader, "wrong password"), http.StatusUnauthorized)
	}
	wantRetryAfter(t, v6.loginFrom("2001:db8:1:2::ff", trader, "correct horse"), 3500, 3600)
	wantStatus(t, v6.loginFrom("2001:db8:1:3::1", trader, "correct horse"), http.StatusSeeOther)
}

// Without trusted proxies, X-Forwarded-For is the client's own words: a new
// value per request must not buy a fresh bucket.
func TestUntrustedForwardedForIsIgnored(t *testing.T) {
	ts := newTestServer(t, func(c *Config) {
		c.LoginLimit = LoginLimit{PerUser: rate.Every(time.Hour), UserBurst: 2, PerIP: rate.Every(time.Hour), IPBurst: 100}
	})
	trader := uniqueUser("spoof")
	ts.registered(t, trader)
	b := ts.newBrowser(t)
	wantStatus(t, b.loginFrom("192.0.2.10", trader, "wrong password"), http.StatusUnauthorized)
	wantStatus(t, b.loginFrom("192.0.2.11", trader, "wrong password"), http.StatusUnauthorized)
	wantRetryAfter(t, b.loginFrom("192.0.2.12", trader, "correct horse"), 3500, 3600)
}

func TestClientAddr(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	cases := []struct {
		name, remote string
		xff          []string
		trusted      []netip.Prefix
		want         string
	}{
		{"no proxy trusted", "192.0.2.1:5000", []string{"203.0.113.9"}, nil, "192.0.2.1"},
		{"untrusted peer", "192.0.2.1:5000", []string{"203.0.113.9"}, proxies, "192.0.2.1"},
		{"trusted peer", "10.0.0.2:5000", []string{"203.0.113.9"}, proxies, "203.0.113.9"},
		{"spoofed left part", "10.0.0.2:5000", []string{"6.6.6.6, 203.0.113.9"}, proxies, "203.0.113.9"},
		{"chain of proxies", "10.0.0.2:5000", []string{"6.6.6.6, 203.0.113.9, 10.1.1.1"}, proxies, "203.0.113.9"},
		{"several header lines", "10.0.0.2:5000", []string{"6.6.6.6", "203.0.113.9", "10.1.1.1"}, proxies, "203.0.113.9"},
		{"trusted peer, no header", "10.0.0.2:5000", nil, proxies, "10.0.0.2"},
		{"every hop trusted", "10.0.0.2:5000", []string{"10.9.9.9, 10.1.1.1"}, proxies, "10.9.9.9"},
		{"junk ends the walk", "10.0.0.2:5000", []string{"203.0.113.9, junk, 10.1.1.1"}, proxies, "10.1.1.1"},
		{"entry with a port", "10.0.0.2:5000", []string{"203.0.113.9:4711"}, proxies, "203.0.113.9"},
		{"IPv6 client is its /64", "[fd00::1]:443", []string{"[2001:db8:1:2:3:4:5:6]:80"}, proxies, "2001:db8:1:2::/64"},
		{"IPv4-mapped peer", "[::ffff:192.0.2.1]:5000", nil, nil, "192.0.2.1"},
		{"IPv6 peer", "[2001:db8::1]:5000", []string{"203.0.113.9"}, nil, "2001:db8::/64"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/login", nil)
			r.RemoteAddr = c.remote
			for _, v := range c.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := clientAddr(r, c.trusted); got != c.want {
				t.Errorf("clientAddr = %q, want %q", got, c.want)
			}
		})
	}
}
