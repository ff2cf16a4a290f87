package web

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/internal/browsertest"
	"github.com/daytradinginc/daytrader/internal/htmltest"
	"github.com/daytradinginc/daytrader/trading"
)

// The instants the time zone tests show, chosen so the local date differs
// from UTC's in one zone (A in Kolkata), daylight saving time is in force
// (B in New York) and the local time of day wraps past midnight (C).
var (
	instantA = time.Date(2026, 3, 2, 23, 45, 10, 0, time.UTC)
	instantB = time.Date(2026, 7, 4, 12, 0, 0, 0, time.UTC)
	instantC = time.Date(2026, 12, 31, 20, 10, 5, 0, time.UTC)
)

// timesFixture is a server whose trader's account and history show known
// times (instantA), and an administrator; the fake accounts' clock is
// instantC, so a QUOTE is stamped with it.
func timesFixture(t *testing.T) (ts *testServer, admin string) {
	t.Helper()
	admin = uniqueUser("admin")
	ts = newTestServer(t, func(c *Config) { c.AdminUser, c.AdminPassword = admin, "admin password" })
	ts.accounts.now = func() time.Time { return instantC }
	return ts, admin
}

// giveKnownTimes sets user's account and history to show instantA: the
// holding's last price, the recent activity, "As of" and a history record;
// a pending buy expires 50 s from now.
func giveKnownTimes(ts *testServer, user string) {
	d := decimal.RequireFromString
	ts.accounts.set(trading.Summary{
		User: user, Exists: true, AsOf: instantA, Cash: d("100"),
		Holdings: []trading.Holding{{Symbol: "ABC", Shares: 8, LastPrice: decimal.NewNullDecimal(d("12.34")), LastPriceAt: instantA}},
		PendingBuys: []trading.PendingView{{Symbol: "XYZ", Shares: 1, Price: d("2"), Total: d("2"),
			CreatedAt: time.Now(), ExpiresAt: time.Now().Add(50 * time.Second)}},
		Recent: []trading.RecentCommand{{TxNum: 3, Command: trading.Add, OK: true, Message: "added $100.00", At: instantA}},
	})
	ts.audit.setPage(audit.HistoryPage{Events: []audit.StoredEvent{{ID: 1, Event: trading.Event{
		Type: trading.UserCommandEvent, Time: instantA, TxNum: 3, Command: trading.Add, User: user,
		Funds: decimal.NewNullDecimal(d("100"))}}}})
}

// shownTime is one <time> element as the page has it.
type shownTime struct {
	Datetime string `json:"datetime"`
	Title    string `json:"title"`
	Text     string `json:"text"`
	Kind     string `json:"kind"`
}

// TestTimesAreUTCWithoutJavaScript: every time the pages send is a <time>
// with its instant in datetime and, as text and title, the UTC time
// labelled "UTC": what a browser without JavaScript shows.
func TestTimesAreUTCWithoutJavaScript(t *testing.T) {
	ts, admin := timesFixture(t)
	user := uniqueUser("utc")
	b := ts.registered(t, user)
	giveKnownTimes(ts, user)
	adm := ts.newBrowser(t)
	wantStatus(t, adm.login(admin, "admin password"), http.StatusSeeOther)

	for _, c := range []struct {
		b     *browser
		path  string
		exact []shownTime // must be among the page's times
		min   int
	}{
		{b, "/", []shownTime{
			{"2026-03-02T23:45:10.000Z", "2026-03-02 23:45:10 UTC", "23:45:10 UTC", "clock"},
			{"2026-03-02T23:45:10.000Z", "2026-03-02 23:45:10 UTC", "2026-03-02 23:45:10 UTC", "stamp"},
		}, 4}, // last price, pending buy's end, recent activity, as of
		{b, "/history", []shownTime{{"2026-03-02T23:45:10.000Z", "2026-03-02 23:45:10 UTC", "2026-03-02 23:45:10 UTC", "stamp"}}, 1},
		{adm, "/admin", nil, 2},
		{adm, "/admin/users/" + user, []shownTime{{"2026-03-02T23:45:10.000Z", "2026-03-02 23:45:10 UTC", "2026-03-02 23:45:10 UTC", "stamp"}}, 6},
	} {
		r := c.b.get(c.path)
		wantStatus(t, r, http.StatusOK)
		times := parseTimes(t, r.body)
		if len(times) < c.min {
			t.Errorf("%s shows %d times, want at least %d: %+v", c.path, len(times), c.min, times)
		}
		for _, st := range times {
			at, err := time.Parse(time.RFC3339, st.Datetime)
			if err != nil {
				t.Errorf("%s: datetime %q: %v", c.path, st.Datetime, err)
				continue
			}
			wantText := at.UTC().Format("15:04:05 UTC")
			if st.Kind == "stamp" {
				wantText = at.UTC().Format("2006-01-02 15:04:05 UTC")
			}
			if st.Text != wantText || st.Title != at.UTC().Format("2006-01-02 15:04:05 UTC") {
				t.Errorf("%s: %+v, want the text %q and the UTC time as title", c.path, st, wantText)
			}
		}
		for _, want := range c.exact {
			if !containsTime(times, want) {
				t.Errorf("%s lacks %+v; it shows %+v", c.path, want, times)
			}
		}
	}
}

func containsTime(times []shownTime, want shownTime) bool {
	for _, st := range times {
		if st == want {
			return true
		}
	}
	return false
}

// parseTimes finds every <time> element of an HTML page.
func parseTimes(t *testing.T, page string) []shownTime {
	t.Helper()
	var times []shownTime
	for _, n := range htmltest.Find(htmltest.Parse(t, strings.NewReader(page)), htmltest.Tag("time")) {
		times = append(times, shownTime{Datetime: htmltest.Attr(n, "datetime"), Title: htmltest.Attr(n, "title"),
			Text: htmltest.Text(n), Kind: htmltest.Attr(n, "data-local")})
	}
	return times
}

// zoneCase is a time zone the browser test runs in, with the times it
// must show there, worked out by hand.
type zoneCase struct {
	zone string
	// icuName is the zone's name as Chromium reports it (ICU keeps
	// Kolkata's older name, Calcutta).
	icuName string
	// label is the zone's short name as Chromium's en-US Intl writes it
	// for t (Go's own abbreviation for Kolkata is "IST", ICU's "GMT+5:30").
	label          func(t time.Time) string
	stampA, clockA string
	stampB         string // after a server-sent event
	clockC         string // a QUOTE's time, after an HTMX reply
}

var zoneCases = []zoneCase{
	{zone: "America/New_York", icuName: "America/New_York", label: func(t time.Time) string { return t.Format("MST") },
		stampA: "2026-03-02 18:45:10 EST", clockA: "18:45:10 EST",
		stampB: "2026-07-04 08:00:00 EDT", clockC: "15:10:05 EST"},
	{zone: "Asia/Kolkata", icuName: "Asia/Calcutta", label: func(time.Time) string { return "GMT+5:30" },
		stampA: "2026-03-03 05:15:10 GMT+5:30", clockA: "05:15:10 GMT+5:30",
		stampB: "2026-07-04 17:30:00 GMT+5:30", clockC: "01:40:05 GMT+5:30"},
}

// TestBrowserShowsTimesInTheBrowsersZone runs Chromium in New York's and
// Kolkata's time zones: every time on the dashboard (pending trades
// included), the history and the admin pages reads in that zone with its
// name, the title keeps UTC, and times that arrive later (a summary an
// audit write refreshes over server-sent events, a command's HTMX reply) are
// converted too.
func TestBrowserShowsTimesInTheBrowsersZone(t *testing.T) {
	for _, zc := range zoneCases {
		t.Run(strings.ReplaceAll(zc.zone, "/", "-"), func(t *testing.T) {
			ts, admin := timesFixture(t)
			ui := browsertest.New(t, ts.URL)
			ui.EmulateZone(zc.zone, "en_US")
			user := uniqueUser("tz")
			ui.SignUp(user, "correct horse")
			giveKnownTimes(ts, user)
			ui.Open("/")
			name := strings.ToLower(zc.zone[strings.Index(zc.zone, "/")+1:])
			wantLocalTimes(t, ui, zc, "dashboard", 4, zc.clockA, zc.stampA)
			if got := ui.Text(".as-of"); got != "As of "+zc.stampA {
				t.Errorf("the dashboard says %q, want %q", got, "As of "+zc.stampA)
			}
			ui.WaitText("#tz-note", "times in "+zc.icuName+" (UTC on hover)")
			// A longer zone name must not push the holdings table past its
			// card (it did while times never wrapped).
			if browsertest.Eval[bool](ui, "measure the holdings table", `(() => {
				const w = document.querySelector("section[aria-labelledby=holdings-title] .table-wrap");
				return w.scrollWidth > w.clientWidth; })()`) {
				t.Error("the holdings table is wider than its card")
			}
			ui.Screenshot("tz-01-dashboard-" + name)

			// A summary refreshed by a server-sent event, then a QUOTE's reply.
			ts.accounts.update(user, func(s *trading.Summary) { s.AsOf = instantB })
			ts.audit.write(user)
			ui.WaitText(".as-of time", zc.stampB)
			wantLocalTimes(t, ui, zc, "dashboard after an event", 4, zc.stampB)
			ui.Fill("#quote-symbol", "ABC")
			ui.Click("#form-quote button")
			ui.WaitText("#result .quote time", zc.clockC)
			wantLocalTimes(t, ui, zc, "dashboard after a QUOTE", 5, zc.clockC)
			if got := ui.Text("#result .quote"); got != "ABC is $12.34 (quoted "+zc.clockC+")" {
				t.Errorf("the result banner says %q", got)
			}

			ui.ClickNav(".nav a[href='/history']")
			wantLocalTimes(t, ui, zc, "history", 1, zc.stampA)
			ui.Screenshot("tz-02-history-" + name)

			ui.ClickNav(".whoami button")
			ui.SignIn(admin, "admin password")
			ui.Open("/admin")
			wantLocalTimes(t, ui, zc, "admin", 2)
			ui.Open("/admin/users/" + user)
			wantLocalTimes(t, ui, zc, "admin account page", 6, zc.stampA)
		})
	}
}

// wantLocalTimes checks every <time> on the page (at least min of them):
// its text is its instant in zc's zone, in the page's YYYY-MM-DD HH:MM:SS
// (or HH:MM:SS) shape with the zone's name, its title the instant in UTC;
// and the texts exact, worked out by hand, are among them.
func wantLocalTimes(t *testing.T, ui *browsertest.Browser, zc zoneCase, page string, min int, exact ...string) {
	t.Helper()
	loc, err := time.LoadLocation(zc.zone)
	if err != nil {
		t.Fatal(err)
	}
	// The script runs once the page has loaded (DOMContentLoaded).
	ui.WaitFor("the page's times to be converted", `document.readyState === "complete" && `+
		`Array.from(document.querySelectorAll("time")).every(el => !el.textContent.endsWith(" UTC"))`)
	times := browsertest.Eval[[]shownTime](ui, "read the times", `Array.from(document.querySelectorAll("time")).map(el => `+
		`({datetime: el.getAttribute("datetime"), title: el.title, text: el.textContent, kind: el.dataset.local}))`)
	if len(times) < min {
		t.Errorf("%s shows %d times, want at least %d: %+v", page, len(times), min, times)
	}
	shown := map[string]bool{}
	for _, st := range times {
		shown[st.Text] = true
		at, err := time.Parse(time.RFC3339, st.Datetime)
		if err != nil {
			t.Errorf("%s: datetime %q: %v", page, st.Datetime, err)
			continue
		}
		layout := "15:04:05"
		if st.Kind == "stamp" {
			layout = "2006-01-02 15:04:05"
		}
		want := at.In(loc).Format(layout) + " " + zc.label(at.In(loc))
		if st.Text != want || st.Title != at.UTC().Format("2006-01-02 15:04:05 UTC") {
			t.Errorf("%s: %+v, want the text %q and the title in UTC", page, st, want)
		}
	}
	for _, e := range exact {
		if !shown[e] {
			t.Errorf("%s does not show %q; it shows %+v", page, e, times)
		}
	}
}
