package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// accountForm is the state of the account page: the password form's error
// (and the input it is about) or the notice of a change made, and how many
// sessions the trader has.
type accountForm struct {
	Error    string
	Field    string // "current", "password", "confirm" or ""
	Notice   string
	Sessions int64 // unexpired sessions, this one included; -1: unknown
}

// accountPage is the signed-in user's own settings: change the password,
// sign out everywhere.
func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) {
	s.renderAccount(w, r, http.StatusOK, accountForm{})
}

func (s *Server) renderAccount(w http.ResponseWriter, r *http.Request, status int, f accountForm) {
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	n, err := s.sessions.count(ctx, sessionFrom(r.Context()).User)
	if err != nil {
		s.log.ErrorContext(r.Context(), "counting sessions", "err", err)
		n = -1
	}
	f.Sessions = n
	s.renderPage(w, r, status, accountView(s.page(r, "Your account", "account"), f))
}

// changePassword sets a new password for the signed-in user once the
// current one is given, under the registration's rules, and signs the
// user's other sessions out (this one stays). Checking the current password
// is a sign-in attempt: it takes a token from the same limits, so a stolen
// session cannot be used to guess the password faster than the sign-in page
// allows. Any refusal changes nothing.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r.Context())
	current := r.PostFormValue("current")
	next := r.PostFormValue("password")
	fail := func(status int, field, msg string) {
		s.renderAccount(w, r, status, accountForm{Error: msg, Field: field})
	}
	if current == "" {
		fail(http.StatusUnprocessableEntity, "current", "Enter your current password.")
		return
	}
	if field, msg := checkNewLogin(sess.User, next, r.PostFormValue("confirm")); msg != "" {
		fail(http.StatusUnprocessableEntity, field, msg)
		return
	}
	if next == current {
		fail(http.StatusUnprocessableEntity, "password", "The new password is your current one. Choose another.")
		return
	}
	addr := s.clientAddr(r)
	if ok, wait := s.limits.allowLogin(addr, sess.User); !ok {
		s.log.WarnContext(r.Context(), "password change rate limited", "user", sess.User, "addr", addr, "wait", wait)
		fail(http.StatusTooManyRequests, "", tooManyAttempts(w, wait)+" Nothing was changed.")
		return
	}
	ended, err := s.users.changePassword(r.Context(), sess.User, current, next, sess.tokenHash)
	switch {
	case errors.Is(err, ErrWrongPassword):
		s.log.InfoContext(r.Context(), "password change refused: wrong current password", "user", sess.User, "addr", addr)
		fail(http.StatusForbidden, "current", "Your current password is not right. Nothing was changed.")
		return
	case err != nil:
		s.log.ErrorContext(r.Context(), "changing password", "user", sess.User, "err", err)
		fail(http.StatusServiceUnavailable, "", "Changing the password is unavailable right now. Nothing was changed; please try again shortly.")
		return
	}
	s.log.InfoContext(r.Context(), "password changed", "user", sess.User, "sessions_ended", ended)
	s.renderAccount(w, r, http.StatusOK, accountForm{Notice: passwordChanged(ended)})
}

func passwordChanged(ended int64) string {
	switch ended {
	case 0:
		return "Your password was changed. You had no other sessions."
	case 1:
		return "Your password was changed, and your 1 other session was signed out."
	}
	return fmt.Sprintf("Your password was changed, and your %d other sessions were signed out.", ended)
}

// signOutEverywhere ends every session of the signed-in user, this one
// included (e.g. after signing in on a shared computer).
func (s *Server) signOutEverywhere(w http.ResponseWriter, r *http.Request) {
	user := sessionFrom(r.Context()).User
	n, err := s.sessions.deleteAll(r.Context(), user)
	if err != nil {
		s.log.ErrorContext(r.Context(), "signing out everywhere", "user", user, "err", err)
		http.Error(w, "signing out failed, please try again", http.StatusServiceUnavailable)
		return
	}
	s.log.InfoContext(r.Context(), "signed out everywhere", "user", user, "sessions_ended", n)
	s.sessions.clearCookie(w)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
