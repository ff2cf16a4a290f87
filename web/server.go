// Package web is the traders' and administrators' browser UI and a small JSON
// API: accounts with server-side sessions, a dashboard with a form for every
// trading command, live updates over server-sent events, the audit history and
// DUMPLOG downloads. Pages are templ components; HTMX (vendored under static/)
// swaps fragments in place.
//
// Every handler takes the trader from the session, never from the request:
// a trader's DayTrading account is the workflow account-<username>, and only
// administrators may name another user (in admin-only routes).
package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/internal/health"
	"github.com/daytradinginc/daytrader/trading"
)

// Accounts runs commands on a trader's account workflow (a Temporal Update, so
// the result comes back at once) and reads its summary (a Temporal query).
type Accounts interface {
	// Execute runs cmd, whose TxNum the caller has set. An error means the
	// command was not accepted (e.g. invalid); a business failure is
	// Result.OK=false with Result.Message.
	Execute(ctx context.Context, cmd trading.Command) (trading.Result, error)
	// Summary is Exists=false for a user with no account yet.
	Summary(ctx context.Context, user string) (trading.Summary, error)
	// HasAccount reports whether Temporal knows user's account workflow
	// account-<user>, running or closed (still kept), counting a signal or
	// update from the moment it was accepted. Registration refuses such names.
	HasAccount(ctx context.Context, user string) (bool, error)
}

// Audit is the audit store (*audit.Store implements it).
type Audit interface {
	History(ctx context.Context, q audit.HistoryQuery) (audit.HistoryPage, error)
	// EachHistory calls fn with every event matching q's filters, newest
	// first, as they are read (the CSV export streams them).
	EachHistory(ctx context.Context, q audit.HistoryQuery, fn func(audit.StoredEvent) error) error
	// DumpXML writes user's history as logfile.xsd XML; user "" is everyone,
	// which only administrators may ask for (the handlers check).
	DumpXML(ctx context.Context, w io.Writer, user string) (int64, error)
	// NextTxNum hands out system-wide increasing transaction numbers for
	// interactive commands.
	NextTxNum(ctx context.Context) (int64, error)
	// RecordTraderWait stores how long a trader's command took until its
	// result; the workload starter sizes its backlog by these waits.
	RecordTraderWait(ctx context.Context, d time.Duration) error
	// Listen calls fn with the user of every audit write until ctx ends.
	Listen(ctx context.Context, fn func(user string)) error
	// EachPricedEvent calls fn with every record of user, oldest first,
	// with the market's quotes around it (the charts replay them).
	EachPricedEvent(ctx context.Context, user string, fn func(audit.PricedEvent) error) error
}

// Config is what the web server needs. Accounts, Audit and DB are required.
type Config struct {
	Accounts Accounts
	Audit    Audit
	DB       *pgxpool.Pool // web_users and web_sessions
	Logger   *slog.Logger  // nil: slog.Default()

	// TemporalUIURL (e.g. http://localhost:8233) and TemporalNamespace make
	// the admin pages link each account to its workflow account-<user>.
	// Empty TemporalUIURL: no links.
	TemporalUIURL     string
	TemporalNamespace string // "" means "default"

	// SecureCookies marks the session cookie Secure (and names it with the
	// __Host- prefix). Set it whenever the site is served over HTTPS; it must
	// be false for plain http on localhost or browsers drop the cookie.
	SecureCookies bool

	// SessionTTL is how long a sign-in lasts, counted from the sign-in (use
	// does not extend it); then the session is refused and the trader signs
	// in again. 0 means 12 hours; otherwise at least a second. Env:
	// SESSION_TTL.
	SessionTTL time.Duration

	// ReadyChecks are the dependencies /readyz asks besides the database
	// (the stack adds Temporal): while one is down /readyz answers 503.
	ReadyChecks []health.Check

	// LoginLimit bounds sign-in and registration attempts per user name and
	// client address and per client address (see LoginLimit); zero fields
	// take DefaultLoginLimit's values. Env: LOGIN_*.
	LoginLimit LoginLimit

	// TrustedProxies are the networks of the reverse proxies in front of
	// the server. A request whose connection comes from one of them is
	// counted against the right-most X-Forwarded-For address that is not a
	// trusted proxy; any other request against its connection's address,
	// whatever headers it carries (anyone can write X-Forwarded-For).
	// Empty: no proxy is trusted. Env: TRUSTED_PROXIES.
	TrustedProxies []netip.Prefix

	// AdminUser and AdminPassword, when both set, create that administrator
	// at start (or update its password and role).
	AdminUser     string
	AdminPassword string

	// Metrics is where the server registers its Prometheus metrics (request
	// latency per route, requests in flight, open event streams); nil: none
	// are served. The stack serves them on METRICS_ADDR, not on this
	// server's public address.
	Metrics prometheus.Registerer

	// Tracer, when set, makes every request a span that the Temporal calls
	// it makes continue (OTEL_EXPORTER_OTLP_ENDPOINT); nil: no tracing.
	Tracer trace.TracerProvider

	// System feeds the administrators' System page; nil: the page says
	// there is nothing to show.
	System System
	// SystemEvery is how often the System page's stream sends fresh
	// figures; 0: every 5 s.
	SystemEvery time.Duration

	// RegistrationClosed turns self-service sign-up off: the registration
	// page says it is closed, a registration posted anyway is refused (403)
	// and creates nothing, and the sign-in page stops linking to it. Web
	// logins then come only from administrators (the admin account page),
	// CreateUser (the CLI) and AdminUser. Env: REGISTRATION=closed (open is
	// the default).
	RegistrationClosed bool
}

// Server is the web UI's http.Handler. Close stops its background work.
type Server struct {
	cfg      Config
	log      *slog.Logger
	sessions *sessionStore
	users    *userStore
	limits   *loginLimiter
	hub      *eventHub
	metrics  *httpMetrics
	handler  http.Handler
	stop     context.CancelFunc
}

//go:embed static
var staticFiles embed.FS

// New checks cfg, creates the configured administrator and builds the routes.
func New(cfg Config) (*Server, error) {
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.TemporalNamespace == "" {
		cfg.TemporalNamespace = "default"
	}
	if cfg.AdminUser != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := CreateUser(ctx, cfg.DB, cfg.AdminUser, cfg.AdminPassword, RoleAdmin)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("web: creating administrator: %w", err)
		}
	}
	base, stop := context.WithCancel(context.Background())
	s := &Server{
		cfg:      cfg,
		log:      slog.New(requestIDHandler{cfg.Logger.Handler()}),
		sessions: &sessionStore{db: cfg.DB, ttl: cfg.SessionTTL, secure: cfg.SecureCookies},
		users:    &userStore{db: cfg.DB},
		limits:   newLoginLimiter(cfg.LoginLimit.withDefaults()),
		hub:      newEventHub(base, cfg.Audit.Listen, cfg.Logger),
		metrics:  newHTTPMetrics(cfg.Metrics),
		stop:     stop,
	}
	s.handler = s.routes()
	return s, nil
}

// check says what is wrong with c, if anything, before anything is created.
func (c Config) check() error {
	if c.Accounts == nil || c.Audit == nil || c.DB == nil {
		return errors.New("Config needs Accounts, Audit and DB")
	}
	if c.TemporalUIURL != "" {
		u, err := url.Parse(c.TemporalUIURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("TemporalUIURL %q is not an http(s) URL", c.TemporalUIURL)
		}
	}
	if (c.AdminUser == "") != (c.AdminPassword == "") {
		return errors.New("set both AdminUser and AdminPassword, or neither")
	}
	if c.SessionTTL != 0 && c.SessionTTL < time.Second {
		return fmt.Errorf("SessionTTL %v must be at least 1s (or 0 for 12h)", c.SessionTTL)
	}
	if err := c.LoginLimit.check(); err != nil {
		return err
	}
	for _, p := range c.TrustedProxies {
		if !p.IsValid() {
			return fmt.Errorf("TrustedProxies holds an invalid prefix %q", p)
		}
	}
	return nil
}

// ServeHTTP serves the UI.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Close stops listening for audit writes and ends open event streams.
func (s *Server) Close() { s.stop() }

func (s *Server) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(s.observe, requestID, s.recoverPanics, s.logRequests, securityHeaders, s.loadSession)

	static, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	// Liveness asks nothing (a database outage must not get a live process
	// restarted); readiness asks every dependency.
	r.Get("/healthz", health.Live)
	r.Get("/readyz", s.readyz())
	r.Handle("/static/*", http.StripPrefix("/static/", cacheStatic(http.FileServerFS(static))))

	r.Get("/login", s.loginPage)
	r.Post("/login", s.login)
	r.Get("/register", s.registerPage)
	r.Post("/register", s.register)

	r.Group(func(r chi.Router) {
		r.Use(s.requireUser, s.checkCSRF)
		r.Post("/logout", s.logout)
		r.Get("/account", s.accountPage)
		r.Post("/account/password", s.changePassword)
		r.Post("/account/sign-out-everywhere", s.signOutEverywhere)
		r.Get("/", s.dashboard)
		r.Get("/fragments/summary", s.summaryFragment)
		r.Post("/commands", s.command)
		r.Get("/events", s.events)
		r.Get("/symbols/{symbol}", s.symbolPage)
		r.Get("/history", s.history)
		r.Get("/history.csv", s.historyCSV)
		r.Get("/dumplog", s.dumpOwnLog)
		r.Get("/api/summary", s.apiOwnSummary)

		r.Group(func(r chi.Router) {
			r.Use(requireAdmin)
			r.Get("/admin", s.adminPage)
			r.Get("/admin/users/{user}", s.adminUserPage)
			r.Post("/admin/users/{user}/login", s.adminCreateLogin)
			r.Get("/admin/users/{user}/dumplog", s.adminUserDumpLog)
			r.Get("/admin/users/{user}/history.csv", s.adminUserHistoryCSV)
			r.Get("/admin/dumplog", s.adminGlobalDumpLog)
			r.Get("/admin/system", s.systemPage)
			r.Get("/admin/system/events", s.systemEvents)
			r.Get("/api/accounts/{user}/summary", s.apiUserSummary)
		})
	})

	// Refuse cross-site state-changing requests by the browser's
	// Sec-Fetch-Site / Origin headers before anything else runs; the
	// per-session synchronizer token (checkCSRF) is the second layer.
	return http.NewCrossOriginProtection().Handler(r)
}

// readyz reports the database and ReadyChecks, 503 while one is down.
func (s *Server) readyz() http.HandlerFunc {
	checks := append([]health.Check{health.Postgres(s.cfg.DB)}, s.cfg.ReadyChecks...)
	return health.Ready(func(ctx context.Context, name string, err error) {
		s.log.WarnContext(ctx, "readiness check failed", "dependency", name, "err", err)
	}, checks...)
}

// temporalLink is the Temporal UI page of user's account workflow, or "".
func (s *Server) temporalLink(user string) string {
	if s.cfg.TemporalUIURL == "" {
		return ""
	}
	return strings.TrimRight(s.cfg.TemporalUIURL, "/") + "/namespaces/" +
		url.PathEscape(s.cfg.TemporalNamespace) + "/workflows/" + url.PathEscape("account-"+user)
}

// securityHeaders keeps pages to their own origin: scripts and styles only
// from /static (so an injected <script> cannot run), no framing.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

func cacheStatic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The files change only with a new binary; an hour keeps reloads
		// cheap without pinning a stale file for long after a deploy.
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}

func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "panic serving request", "method", r.Method, "path", r.URL.Path, "panic", v)
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush and SetWriteDeadline.
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		level := slog.LevelInfo
		// Probes and static files would drown the requests that matter.
		if strings.HasPrefix(r.URL.Path, "/static/") || r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
			level = slog.LevelDebug
		}
		s.log.Log(r.Context(), level, "http request", "method", r.Method, "path", r.URL.Path,
			"status", rec.status, "duration", time.Since(start))
	})
}
