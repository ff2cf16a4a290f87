package web

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"github.com/a-h/templ"
)

// pageInfo is what the layout needs to know about the page and its viewer.
type pageInfo struct {
	Title            string
	Nav              string   // which navigation entry is current: "dashboard", "history", "account", "admin", "system"
	Session          *session // nil when signed out
	RegistrationOpen bool
}

func (s *Server) page(r *http.Request, title, nav string) pageInfo {
	return pageInfo{Title: title, Nav: nav, Session: sessionFrom(r.Context()), RegistrationOpen: !s.cfg.RegistrationClosed}
}

// csrfHeaders is the hx-headers value that makes every HTMX request carry
// the session's CSRF token.
func (p pageInfo) csrfHeaders() string {
	if p.Session == nil {
		return ""
	}
	b, _ := json.Marshal(map[string]string{csrfHeader: p.Session.CSRF})
	return string(b)
}

func (p pageInfo) csrfToken() string {
	if p.Session == nil {
		return ""
	}
	return p.Session.CSRF
}

// renderPage writes a whole HTML page (or fragment) with status.
func (s *Server) renderPage(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	render(r.Context(), w, s.log, c)
}

func render(ctx context.Context, w http.ResponseWriter, log *slog.Logger, c templ.Component) {
	if err := c.Render(ctx, w); err != nil && ctx.Err() == nil {
		log.ErrorContext(ctx, "rendering page", "err", err)
	}
}

func isHTMX(r *http.Request) bool { return r.Header.Get("HX-Request") == "true" }

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
