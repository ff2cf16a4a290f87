package web

import (
	"errors"
	"net/http"
	"strings"
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
	if s.cfg.RegistrationClosed {
		http.Error(w, "registration is closed: ask an administrator for an account", http.StatusNotFound)
		return
	}
	if sessionFrom(r.Context()) != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	s.renderPage(w, r, http.StatusOK, registerView(s.page(r, "Create an account", ""), authForm{}))
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	name := strings.TrimSpace(r.PostFormValue("username"))
	password := r.PostFormValue("password")
	page := s.page(r, "Sign in", "")
	if !s.limits.allowLogin(clientIP(r), name) {
		s.log.Warn("login rate limited", "user", name, "ip", clientIP(r))
		w.Header().Set("Retry-After", "60")
		s.renderPage(w, r, http.StatusTooManyRequests, loginView(page, authForm{
			Username: name, Error: "Too many sign-in attempts. Wait a minute and try again."}))
		return
	}
	u, ok, err := s.users.authenticate(r.Context(), name, password)
	if err != nil {
		s.log.Error("login: reading user", "err", err)
		s.renderPage(w, r, http.StatusServiceUnavailable, loginView(page, authForm{
			Username: name, Error: "Signing in is unavailable right now. Please try again shortly."}))
		return
	}
	if !ok {
		s.log.Info("login failed", "user", name, "ip", clientIP(r))
		s.renderPage(w, r, http.StatusUnauthorized, loginView(page, authForm{
			Username: name, Error: "Wrong user name or password."}))
		return
	}
	s.startSession(w, r, u.name)
}

func (s *Server) register(w http.ResponseWriter, r *http.Request) {
	if s.cfg.RegistrationClosed {
		http.Error(w, "registration is closed: ask an administrator for an account", http.StatusNotFound)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	name := strings.TrimSpace(r.PostFormValue("username"))
	password := r.PostFormValue("password")
	confirm := r.PostFormValue("confirm")
	page := s.page(r, "Create an account", "")
	fail := func(status int, field, msg string) {
		s.renderPage(w, r, status, registerView(page, authForm{Username: name, Error: msg, Field: field}))
	}
	if !s.limits.allowRegister(clientIP(r)) {
		w.Header().Set("Retry-After", "60")
		fail(http.StatusTooManyRequests, "", "Too many attempts from your address. Wait a minute and try again.")
		return
	}
	if err := CheckUsername(name); err != nil {
		fail(http.StatusUnprocessableEntity, "username", capitalize(err.Error())+".")
		return
	}
	if err := CheckPassword(password); err != nil {
		fail(http.StatusUnprocessableEntity, "password", capitalize(err.Error())+".")
		return
	}
	if password != confirm {
		fail(http.StatusUnprocessableEntity, "confirm", "The two passwords differ.")
		return
	}
	switch err := s.users.register(r.Context(), name, password); {
	case errors.Is(err, ErrUserExists):
		fail(http.StatusConflict, "username", "That user name is taken. Choose another one.")
		return
	case err != nil:
		s.log.Error("register: creating user", "err", err)
		fail(http.StatusServiceUnavailable, "", "Registration is unavailable right now. Please try again shortly.")
		return
	}
	s.log.Info("user registered", "user", name)
	s.startSession(w, r, name)
}

// startSession signs user in with a brand-new session (dropping whatever
// session the browser came with) and goes to the dashboard.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, user string) {
	if old := sessionFrom(r.Context()); old != nil {
		if err := s.sessions.delete(r.Context(), old.tokenHash); err != nil {
			s.log.Warn("dropping previous session", "err", err)
		}
	}
	token, sess, err := s.sessions.create(r.Context(), user)
	if err != nil {
		s.log.Error("creating session", "err", err)
		http.Error(w, "signing in is unavailable right now, please try again shortly", http.StatusServiceUnavailable)
		return
	}
	s.sessions.setCookie(w, token, sess.ExpiresAt)
	s.log.Info("signed in", "user", user)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if err := s.sessions.delete(r.Context(), sessionFrom(r.Context()).tokenHash); err != nil {
		s.log.Error("logout: deleting session", "err", err)
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
