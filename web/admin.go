package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/daytradinginc/daytrader/trading"
)

// adminUser is one row of the administrator's user list.
type adminUser struct {
	userListing
	TemporalLink string
}

type adminData struct {
	Page   pageInfo
	Users  []adminUser
	Lookup string
	Error  string
}

// adminPage lists the web users with links to their accounts, offers the
// global DUMPLOG, and looks up any user id (also traders from workload
// files, who have no web login).
func (s *Server) adminPage(w http.ResponseWriter, r *http.Request) {
	d := adminData{Page: s.page(r, "Administration", "admin")}
	if lookup := strings.TrimSpace(r.URL.Query().Get("user")); lookup != "" {
		if trading.ValidUser(lookup) {
			http.Redirect(w, r, "/admin/users/"+url.PathEscape(lookup), http.StatusSeeOther)
			return
		}
		d.Lookup = lookup
		d.Error = "A user id is 1 to 64 letters or digits."
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	users, err := s.users.list(ctx)
	if err != nil {
		s.log.Error("listing users", "err", err)
		d.Error = "The user list is unavailable right now."
	}
	for _, u := range users {
		d.Users = append(d.Users, adminUser{userListing: u, TemporalLink: s.temporalLink(u.Name)})
	}
	status := http.StatusOK
	if d.Error != "" {
		status = http.StatusBadRequest
	}
	s.renderPage(w, r, status, adminView(d))
}

// pathUser is the {user} of an admin route, or "" (after answering 400)
// when it is not a user id.
func pathUser(w http.ResponseWriter, r *http.Request) string {
	u := chi.URLParam(r, "user")
	if !trading.ValidUser(u) {
		if isAPI(r) {
			writeJSONError(w, http.StatusBadRequest, "a user id is 1 to 64 letters or digits")
		} else {
			http.Error(w, "a user id is 1 to 64 letters or digits", http.StatusBadRequest)
		}
		return ""
	}
	return u
}

func (s *Server) adminUserPage(w http.ResponseWriter, r *http.Request) {
	user := pathUser(w, r)
	if user == "" {
		return
	}
	base := "/admin/users/" + url.PathEscape(user)
	sum := s.loadSummary(r.Context(), user)
	d := historyData{
		Page:         s.page(r, "Account "+user, "admin"),
		Subject:      user,
		AdminView:    true,
		BasePath:     base,
		DumpPath:     base + "/dumplog",
		TemporalLink: s.temporalLink(user),
		Summary:      &sum,
	}
	status := s.loadHistory(r, &d)
	s.renderPage(w, r, status, historyView(d))
}

func (s *Server) adminUserDumpLog(w http.ResponseWriter, r *http.Request) {
	if user := pathUser(w, r); user != "" {
		s.sendDump(w, r, user)
	}
}

func (s *Server) adminGlobalDumpLog(w http.ResponseWriter, r *http.Request) {
	s.sendDump(w, r, "")
}

func (s *Server) apiOwnSummary(w http.ResponseWriter, r *http.Request) {
	s.apiSummary(w, r, sessionFrom(r.Context()).User)
}

func (s *Server) apiUserSummary(w http.ResponseWriter, r *http.Request) {
	if user := pathUser(w, r); user != "" {
		s.apiSummary(w, r, user)
	}
}

func (s *Server) apiSummary(w http.ResponseWriter, r *http.Request, user string) {
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	sum, err := s.cfg.Accounts.Summary(ctx, user)
	if err != nil {
		s.log.Error("API summary", "user", user, "err", err)
		writeJSONError(w, http.StatusServiceUnavailable, "the account service is unavailable, try again shortly")
		return
	}
	writeJSON(w, http.StatusOK, sum)
}
