package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// User ids that are not [A-Za-z0-9]{1,64}, sent to every route that takes
// one: each gets a clear 4xx, creates nothing, and reaches neither the
// accounts (Temporal) nor the audit.
func TestHostileUserIDs(t *testing.T) {
	admin := uniqueUser("root")
	ts := newTestServer(t, func(c *Config) { c.AdminUser, c.AdminPassword = admin, "admin password" })
	boss := ts.newBrowser(t)
	wantStatus(t, boss.login(admin, "admin password"), http.StatusSeeOther)
	token := boss.csrf()
	summaries := len(ts.accounts.summaryUsers()) // the admin's own dashboard
	var logins int
	if err := testPool.QueryRow(context.Background(), `SELECT count(*) FROM web_users`).Scan(&logins); err != nil {
		t.Fatal(err)
	}
	const idRule = "1 to 64 letters or digits"
	names := map[string]string{
		"non-ASCII":     "böb",
		"NUL":           "bo\x00b",
		"escape":        "bo\x1b[31mb",
		"newline":       "bo\nb",
		"tab":           "bo\tb",
		"1 KB":          strings.Repeat("b", 1024),
		"65 characters": strings.Repeat("b", 65),
		"empty":         "",
		"only spaces":   "   ",
		"path":          "../x",
		"fullwidth":     "ｂｏｂ",
	}
	for label, name := range names {
		t.Run(label, func(t *testing.T) {
			form := url.Values{"username": {name}, "password": {"correct horse"}, "confirm": {"correct horse"}}
			r := ts.newBrowser(t).post("/register", form)
			wantStatus(t, r, http.StatusUnprocessableEntity)
			wantContains(t, r, "User name must be "+idRule)
			r = ts.newBrowser(t).post("/login", form)
			wantStatus(t, r, http.StatusUnprocessableEntity)
			wantContains(t, r, "User name must be "+idRule)

			if strings.TrimSpace(name) != "" {
				r = boss.get("/admin?user=" + url.QueryEscape(name))
				wantStatus(t, r, http.StatusBadRequest)
				wantContains(t, r, "A user id is "+idRule)
			}
			for _, seg := range adminSegments(name) {
				for _, path := range []string{"/admin/users/" + seg, "/admin/users/" + seg + "/dumplog", "/api/accounts/" + seg + "/summary"} {
					wantClientError(t, boss.get(path))
				}
				wantClientError(t, boss.post("/admin/users/"+seg+"/login", url.Values{"password": {"correct horse"},
					"confirm": {"correct horse"}, csrfField: {token}}))
			}
		})
	}
	if got := ts.accounts.checkedUsers(); len(got) != 0 {
		t.Errorf("hostile ids reached HasAccount: %q", got)
	}
	var after int
	if err := testPool.QueryRow(context.Background(), `SELECT count(*) FROM web_users`).Scan(&after); err != nil || after != logins {
		t.Errorf("hostile ids changed the number of web logins from %d to %d (%v)", logins, after, err)
	}
	if got := ts.accounts.summaryUsers()[summaries:]; len(got) != 0 {
		t.Errorf("hostile ids reached Summary: %q", got)
	}
	if got := ts.accounts.executedCommands(); len(got) != 0 {
		t.Errorf("hostile ids reached Execute: %v", got)
	}
	if q, d := ts.audit.historyQueries(), ts.audit.dumpUsers(); len(q) != 0 || len(d) != 0 {
		t.Errorf("hostile ids reached the audit: history %+v, dumps %q", q, d)
	}
}

// adminSegments are user as a path segment: escaped as a browser would,
// and for a name with a slash also raw, which must not route anywhere useful.
func adminSegments(user string) []string {
	segs := []string{url.PathEscape(user)}
	if strings.Contains(user, "/") {
		segs = append(segs, user)
	}
	return segs
}

// wantClientError accepts a 4xx that is not a redirect or a page of the
// account: the route refused the id.
func wantClientError(t *testing.T, r response) {
	t.Helper()
	if r.StatusCode < 400 || r.StatusCode >= 500 {
		t.Errorf("%s %s: status %d, want a 4xx; body:\n%.300s", r.Request.Method, r.Request.URL, r.StatusCode, r.body)
	}
}
