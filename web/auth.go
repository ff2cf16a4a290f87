package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/daytradinginc/daytrader/audit"
)

// authForm is the state of the login or registration form.
type authForm struct {
	Username string
	Error    string
	Field    string // the input the error is about: "username", "password", "confirm" or ""
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if sessionFrom(r.Context()) != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	s.renderPage(w, r, http.StatusOK, loginView(s.page(r, "Sign in", ""), authForm{}))
}

func (s *Server) registerPage(w http.ResponseWriter, r *http.Request) {
	// Closed, the page stays and says so (registerView), even signed in.
	if sessionFrom(r.Context()) != nil && !s.cfg.RegistrationClosed {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	s.renderPage(w, r, http.StatusOK, registerView(s.registerPageInfo(r), authForm{}))
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	name := strings.TrimSpace(r.PostFormValue("username"))
	password := r.PostFormValue("password")
	page := s.page(r, "Sign in", "")
	// A name that cannot exist gets a plain answer (it gives nothing away)
	// at no cost: no password check, no token taken.
	if err := CheckUsername(name); err != nil {
		s.renderPage(w, r, http.StatusUnprocessableEntity, loginView(page, authForm{
			Username: name, Error: capitalize(err.Error()) + "."}))
		return
	}
	addr := s.clientAddr(r)
	if ok, wait := s.limits.allowLogin(addr, name); !ok {
		s.log.WarnContext(r.Context(), "login rate limited", "user", name, "addr", addr, "wait", wait)
		s.renderPage(w, r, http.StatusTooManyRequests, loginView(page, authForm{
			Username: name, Error: tooManyAttempts(w, wait)}))
		return
	}
	u, ok, err := s.users.authenticate(r.Context(), name, password)
	if err != nil {
		s.log.ErrorContext(r.Context(), "login: reading user", "err", err)
		s.renderPage(w, r, http.StatusServiceUnavailable, loginView(page, authForm{
			Username: name, Error: "Signing in is unavailable right now. Please try again shortly."}))
		return
	}
	if !ok {
		s.log.InfoContext(r.Context(), "login failed", "user", name, "addr", addr)
		s.renderPage(w, r, http.StatusUnauthorized, loginView(page, authForm{
			Username: name, Error: "Wrong user name or password."}))
		return
	}
	s.raisePriority(r, u.name)
	s.startSession(w, r, u.name)
}

// prioritizer is an Accounts that can give an account the interactive task
// priority (workflows.Accounts can; the tests' fake cannot).
type prioritizer interface {
	MakeInteractive(ctx context.Context, user string) error
}

// raisePriority: a trader signing in to an account the workload starter
// opened (bulk priority) gets its commands ahead of the bulk backlog from
// then on. In the background: signing in does not wait for Temporal, and a
// failure only costs speed.
func (s *Server) raisePriority(r *http.Request, user string) {
	p, ok := s.cfg.Accounts.(prioritizer)
	if !ok {
		return
	}
	go func() {
		// Not cancelled with the request, but its values (the request ID of
		// the log line) go along.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Second)
		defer cancel()
		if err := p.MakeInteractive(ctx, user); err != nil {
			s.log.WarnContext(ctx, "giving the account the interactive priority", "user", user, "err", err)
		}
	}()
}

func (s *Server) registerPageInfo(r *http.Request) pageInfo {
	if s.cfg.RegistrationClosed {
		return s.page(r, "Registration closed", "")
	}
	return s.page(r, "Create an account", "")
}

func (s *Server) register(w http.ResponseWriter, r *http.Request) {
	page := s.registerPageInfo(r)
	if s.cfg.RegistrationClosed {
		s.renderPage(w, r, http.StatusForbidden, registerView(page, authForm{}))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	name := strings.TrimSpace(r.PostFormValue("username"))
	password := r.PostFormValue("password")
	fail := func(status int, field, msg string) {
		s.renderPage(w, r, status, registerView(page, authForm{Username: name, Error: msg, Field: field}))
	}
	// Bad input is answered first: it costs nothing, so it takes no token.
	if field, msg := checkNewLogin(name, password, r.PostFormValue("confirm")); msg != "" {
		fail(http.StatusUnprocessableEntity, field, msg)
		return
	}
	if ok, wait := s.limits.allowRegister(s.clientAddr(r)); !ok {
		fail(http.StatusTooManyRequests, "", tooManyAttempts(w, wait))
		return
	}
	switch err := s.users.register(r.Context(), name, password, s.accountExists); {
	case errors.Is(err, ErrUserExists):
		fail(http.StatusConflict, "username", "That user name is taken. Choose another one.")
		return
	case errors.Is(err, ErrAccountExists):
		s.log.WarnContext(r.Context(), "registration refused: the name belongs to a trading account", "user", name, "addr", s.clientAddr(r))
		fail(http.StatusConflict, "username", "The name "+name+" belongs to an existing trading account. "+
			"An administrator gives that account its web login: ask yours, or choose another name.")
		return
	case err != nil:
		s.log.ErrorContext(r.Context(), "register: creating user", "user", name, "err", err)
		fail(http.StatusServiceUnavailable, "", "Registration is unavailable right now. Please try again shortly.")
		return
	}
	s.log.InfoContext(r.Context(), "user registered", "user", name)
	s.startSession(w, r, name)
}

// tooManyAttempts sets Retry-After to the wait and says it in words.
func tooManyAttempts(w http.ResponseWriter, wait time.Duration) string {
	secs := waitSeconds(wait)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	return fmt.Sprintf("Too many attempts: try again in %d s.", secs)
}

// clientAddr is the address r counts against for rate limits.
func (s *Server) clientAddr(r *http.Request) string { return clientAddr(r, s.cfg.TrustedProxies) }

// checkNewLogin says which field of a new login's form is wrong and why
// (msg "" when none is).
func checkNewLogin(name, password, confirm string) (field, msg string) {
	if err := CheckUsername(name); err != nil {
		return "username", capitalize(err.Error()) + "."
	}
	if err := CheckPassword(password); err != nil {
		return "password", capitalize(err.Error()) + "."
	}
	if password != confirm {
		return "confirm", "The two passwords differ."
	}
	return "", ""
}

// accountExists is self-registration's rule for "this name belongs to an
// existing trading account": Temporal knows its account workflow (running, or
// closed and still kept; a workload's signal counts from the moment it was
// accepted, before any money is in), or the audit holds any record of that
// user (a history outlives the closed workflow Temporal forgets, and a new
// web user of that name would see it). A name that only ever got error
// records, such as a typo in a workload, counts too: that history is not the
// registrant's, and an administrator can still give the name a login.
func (s *Server) accountExists(ctx context.Context, user string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	known, err := s.cfg.Accounts.HasAccount(ctx, user)
	if err != nil || known {
		return known, err
	}
	page, err := s.cfg.Audit.History(ctx, audit.HistoryQuery{User: user, Limit: 1})
	return len(page.Events) > 0, err
}

// startSession signs user in with a brand-new session (dropping whatever
// session the browser came with) and goes to the dashboard.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, user string) {
	if old := sessionFrom(r.Context()); old != nil {
		if err := s.sessions.delete(r.Context(), old.tokenHash); err != nil {
			s.log.WarnContext(r.Context(), "dropping previous session", "err", err)
		}
	}
	token, sess, err := s.sessions.create(r.Context(), user)
	if err != nil {
		s.log.ErrorContext(r.Context(), "creating session", "err", err)
		http.Error(w, "signing in is unavailable right now, please try again shortly", http.StatusServiceUnavailable)
		return
	}
	s.sessions.setCookie(w, token, sess.ExpiresAt)
	s.log.InfoContext(r.Context(), "signed in", "user", user)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if err := s.sessions.delete(r.Context(), sessionFrom(r.Context()).tokenHash); err != nil {
		s.log.ErrorContext(r.Context(), "logout: deleting session", "err", err)
		http.Error(w, "signing out failed, please try again", http.StatusServiceUnavailable)
		return
	}
	s.sessions.clearCookie(w)
	if isHTMX(r) {
		w.Header().Set("HX-Redirect", "/login")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
