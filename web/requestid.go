package web

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/go-chi/chi/v5/middleware"
)

// requestIDKey is the one log key of the request ID on every web log line.
const requestIDKey = "request_id"

// requestIDHeader echoes the request's ID to the client, so a trader's bug
// report can name the log lines of the request that failed.
const requestIDHeader = "X-Request-ID"

// requestID gives every request an ID (chi's middleware.RequestID: the
// client's X-Request-Id when it sends a sane one, so an ID set by a proxy in
// front follows the request; otherwise a new one) and echoes it in the
// response. A client's ID that is long or has other characters than letters,
// digits and -_.:/ is replaced: it would only pollute the logs.
func requestID(next http.Handler) http.Handler {
	withID := middleware.RequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(requestIDHeader, middleware.GetReqID(r.Context()))
		next.ServeHTTP(w, r)
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id := r.Header.Get(middleware.RequestIDHeader); id != "" && !saneRequestID(id) {
			r.Header.Del(middleware.RequestIDHeader)
		}
		withID.ServeHTTP(w, r)
	})
}

func saneRequestID(id string) bool {
	if len(id) > 128 {
		return false
	}
	for _, c := range id {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == ':' || c == '/'
		if !ok {
			return false
		}
	}
	return true
}

// requestIDHandler adds the request ID of the record's context to every
// log line logged with one (the *Context logging calls).
type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, rec slog.Record) error {
	if id := middleware.GetReqID(ctx); id != "" {
		rec.AddAttrs(slog.String(requestIDKey, id))
	}
	return h.Handler.Handle(ctx, rec)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
