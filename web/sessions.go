package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Sessions live in web_sessions. The browser holds a random 32-byte token in
// an HttpOnly cookie; the table holds only its SHA-256, so a leaked table
// cannot be replayed as cookies. Every login makes a new token (and drops the
// one the browser came with), so a token planted before login is worthless.
//
// Each session has its own CSRF token (synchronizer token pattern): pages put
// it in a hidden field of every form and in HTMX's hx-headers, and checkCSRF
// refuses a state-changing request that does not carry it.

// csrfField and csrfHeader carry the CSRF token in forms and HTMX requests.
const (
	csrfField  = "csrf_token"
	csrfHeader = "X-CSRF-Token"
)

type session struct {
	tokenHash []byte
	User      string
	Role      string
	CSRF      string
	ExpiresAt time.Time
}

func (s *session) IsAdmin() bool { return s != nil && s.Role == RoleAdmin }

type sessionStore struct {
	db     *pgxpool.Pool
	ttl    time.Duration
	secure bool
}

func (st *sessionStore) cookieName() string {
	if st.secure {
		return "__Host-daytrader_session" // the prefix pins Secure, Path=/ and no Domain
	}
	return "daytrader_session"
}

func hashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand panics rather than return short)
	return base64.RawURLEncoding.EncodeToString(b)
}

// create starts a session for user and returns the cookie token.
func (st *sessionStore) create(ctx context.Context, user string) (string, session, error) {
	token := randomToken()
	s := session{tokenHash: hashToken(token), User: user, CSRF: randomToken()}
	err := pgx.BeginFunc(ctx, st.db, func(tx pgx.Tx) error {
		// Logins are rare next to page views: a good moment to drop the
		// sessions that have run out.
		if _, err := tx.Exec(ctx, `DELETE FROM web_sessions WHERE expires_at < now()`); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `
			INSERT INTO web_sessions (token_hash, username, csrf_token, expires_at)
			VALUES ($1, $2, $3, now() + make_interval(secs => $4))
			RETURNING expires_at, (SELECT role FROM web_users WHERE username = $2)`,
			s.tokenHash, user, s.CSRF, st.ttl.Seconds()).Scan(&s.ExpiresAt, &s.Role)
	})
	return token, s, err
}

// lookup finds the unexpired session of token; found=false if there is none.
func (st *sessionStore) lookup(ctx context.Context, token string) (session, bool, error) {
	s := session{tokenHash: hashToken(token)}
	err := st.db.QueryRow(ctx, `
		SELECT s.username, u.role, s.csrf_token, s.expires_at
		FROM web_sessions s JOIN web_users u USING (username)
		WHERE s.token_hash = $1 AND s.expires_at > now()`, s.tokenHash).
		Scan(&s.User, &s.Role, &s.CSRF, &s.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return session{}, false, nil
	}
	return s, err == nil, err
}

// markSeen records that the session opened the dashboard now (see
// TradersAtScreens).
func (st *sessionStore) markSeen(ctx context.Context, tokenHash []byte) error {
	_, err := st.db.Exec(ctx, `UPDATE web_sessions SET seen_at = now() WHERE token_hash = $1`, tokenHash)
	return err
}

// TradersAtScreens says whether a session signed in or opened the
// dashboard within the last d, by the database's clock: someone is about
// to trade. The workload starter asks it beside the audit's
// TradersActive, so that its larger backlog has drained by the time a
// trader who has just arrived sends the first order (workloads.TraderWatch).
// It reads one entry of an index (migration 00008).
func TradersAtScreens(ctx context.Context, db *pgxpool.Pool, d time.Duration) (bool, error) {
	var active bool
	err := db.QueryRow(ctx, `SELECT coalesce(max(seen_at) > now() - $1::interval, false) FROM web_sessions`, d).Scan(&active)
	if err != nil {
		return false, fmt.Errorf("web: sessions' last dashboard: %w", err)
	}
	return active, nil
}

func (st *sessionStore) delete(ctx context.Context, tokenHash []byte) error {
	_, err := st.db.Exec(ctx, `DELETE FROM web_sessions WHERE token_hash = $1`, tokenHash)
	return err
}

// deleteAll ends every session of user (sign out everywhere) and says how
// many there were.
func (st *sessionStore) deleteAll(ctx context.Context, user string) (int64, error) {
	tag, err := st.db.Exec(ctx, `DELETE FROM web_sessions WHERE username = $1`, user)
	return tag.RowsAffected(), err
}

// count is how many unexpired sessions user has.
func (st *sessionStore) count(ctx context.Context, user string) (int64, error) {
	var n int64
	err := st.db.QueryRow(ctx, `SELECT count(*) FROM web_sessions WHERE username = $1 AND expires_at > now()`, user).Scan(&n)
	return n, err
}

func (st *sessionStore) setCookie(w http.ResponseWriter, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name:     st.cookieName(),
		Value:    token,
		Path:     "/",
		Expires:  expires,
		MaxAge:   int(time.Until(expires).Seconds()),
		HttpOnly: true,
		Secure:   st.secure,
		SameSite: http.SameSiteLaxMode,
	})
}

func (st *sessionStore) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: st.cookieName(), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: st.secure, SameSite: http.SameSiteLaxMode,
	})
}

type sessionKey struct{}

func sessionFrom(ctx context.Context) *session {
	s, _ := ctx.Value(sessionKey{}).(*session)
	return s
}

// loadSession puts the request's session, if it has a valid one, in the
// context. It does not refuse anything: requireUser does.
func (s *Server) loadSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(s.sessions.cookieName())
		if err != nil || c.Value == "" || len(c.Value) > 128 {
			next.ServeHTTP(w, r)
			return
		}
		sess, ok, err := s.sessions.lookup(r.Context(), c.Value)
		if err != nil {
			s.log.ErrorContext(r.Context(), "looking up session", "err", err)
			http.Error(w, "the service is unavailable, please try again shortly", http.StatusServiceUnavailable)
			return
		}
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, &sess)))
	})
}

// requireUser sends a visitor without a session to the login page (or, for
// HTMX and API requests, answers 401).
func (s *Server) requireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sessionFrom(r.Context()) != nil {
			next.ServeHTTP(w, r)
			return
		}
		switch {
		case isAPI(r):
			writeJSONError(w, http.StatusUnauthorized, "sign in first")
		case isHTMX(r) || r.URL.Path == "/events":
			w.Header().Set("HX-Redirect", "/login")
			http.Error(w, "sign in first", http.StatusUnauthorized)
		case r.Method == http.MethodGet || r.Method == http.MethodHead:
			http.Redirect(w, r, "/login", http.StatusSeeOther)
		default:
			http.Error(w, "sign in first", http.StatusUnauthorized)
		}
	})
}

func requireAdmin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !sessionFrom(r.Context()).IsAdmin() {
			if isAPI(r) {
				writeJSONError(w, http.StatusForbidden, "administrators only")
				return
			}
			http.Error(w, "administrators only", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// checkCSRF refuses a state-changing request of a signed-in user that does
// not carry the session's CSRF token, in the form or the X-CSRF-Token header.
func (s *Server) checkCSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		}
		sess := sessionFrom(r.Context())
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		got := r.Header.Get(csrfHeader)
		if got == "" {
			got = r.PostFormValue(csrfField)
		}
		if sess == nil || got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRF)) != 1 {
			s.log.WarnContext(r.Context(), "refused request without a valid CSRF token", "path", r.URL.Path)
			msg := "This page's security token is missing or out of date. Reload the page and try again."
			if isHTMX(r) {
				w.Header().Set("HX-Retarget", "#result")
				w.Header().Set("HX-Reswap", "innerHTML")
				w.WriteHeader(http.StatusForbidden)
				render(r.Context(), w, s.log, resultMessage(resultView{Error: msg}))
				return
			}
			http.Error(w, msg, http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// maxFormBytes bounds a form body: the largest form has three short fields.
const maxFormBytes = 64 << 10
