package web

import (
	"context"
	"errors"
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
		s.log.ErrorContext(r.Context(), "listing users", "err", err)
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
	if user := pathUser(w, r); user != "" {
		s.renderAdminUser(w, r, user, http.StatusOK, authForm{})
	}
}

func (s *Server) adminUserHistoryCSV(w http.ResponseWriter, r *http.Request) {
	if user := pathUser(w, r); user != "" {
		s.sendHistoryCSV(w, r, user)
	}
}

// renderAdminUser is the administrator's page of one account: its summary,
// its web login (or the form that creates one) and its history. status is
// the answer's unless the history fails; form is the login form's state.
func (s *Server) renderAdminUser(w http.ResponseWriter, r *http.Request, user string, status int, form authForm) {
	base := "/admin/users/" + url.PathEscape(user)
	sum := s.loadSummary(r.Context(), user)
	d := historyData{
		Page:         s.page(r, "Account "+user, "admin"),
		Subject:      user,
		AdminView:    true,
		BasePath:     base,
		DumpPath:     base + "/dumplog",
		CSVPath:      base + "/history.csv",
		TemporalLink: s.temporalLink(user),
		Summary:      &sum,
		Login:        s.loadLogin(r.Context(), user, base+"/login", form),
	}
	if st := s.loadHistory(r, &d); st != http.StatusOK && status == http.StatusOK {
		status = st
	}
	s.renderPage(w, r, status, historyView(d))
}

// adminLogin is the web-login part of the administrator's account page.
type adminLogin struct {
	Exists      bool
	Login       userListing
	Unavailable bool   // the user table could not be read
	Action      string // where the create form posts
	Form        authForm
}

func (s *Server) loadLogin(ctx context.Context, user, action string, form authForm) *adminLogin {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	l := &adminLogin{Action: action, Form: form}
	var err error
	l.Login, l.Exists, err = s.users.find(ctx, user)
	if err != nil {
		s.log.ErrorContext(ctx, "reading web login", "user", user, "err", err)
		l.Unavailable = true
	}
	return l
}

// adminCreateLogin gives an account a web login with the password the
// administrator chose: the only way an existing trading account gets one
// from the web (self-registration refuses its name). It never changes an
// existing login; the CLI (daytrader user) resets passwords.
func (s *Server) adminCreateLogin(w http.ResponseWriter, r *http.Request) {
	user := pathUser(w, r)
	if user == "" {
		return
	}
	password := r.PostFormValue("password")
	if field, msg := checkNewLogin(user, password, r.PostFormValue("confirm")); msg != "" {
		s.renderAdminUser(w, r, user, http.StatusUnprocessableEntity, authForm{Error: msg, Field: field})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	switch err := s.users.create(ctx, user, password, RoleTrader); {
	case errors.Is(err, ErrUserExists):
		s.renderAdminUser(w, r, user, http.StatusConflict, authForm{Error: user + " already has a web login."})
		return
	case err != nil:
		s.log.ErrorContext(r.Context(), "admin: creating web login", "user", user, "err", err)
		s.renderAdminUser(w, r, user, http.StatusServiceUnavailable,
			authForm{Error: "The web login could not be created right now. Please try again shortly."})
		return
	}
	s.log.InfoContext(r.Context(), "web login created by an administrator", "user", user, "by", sessionFrom(r.Context()).User)
	http.Redirect(w, r, "/admin/users/"+url.PathEscape(user), http.StatusSeeOther)
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
		s.log.ErrorContext(r.Context(), "API summary", "user", user, "err", err)
		writeJSONError(w, http.StatusServiceUnavailable, "the account service is unavailable, try again shortly")
		return
	}
	writeJSON(w, http.StatusOK, sum)
}
