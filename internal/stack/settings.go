package stack

// Settings are parsed by the small table-driven parser in this file rather
// than by an env library (caarlos0/env, kelseyhightower/envconfig): those
// read struct tags into one struct, but they know nothing of flags or of
// the subset of settings each subcommand uses, and they word errors
// themselves (`strconv.ParseBool: parsing "yes": invalid syntax`). The
// table, the strict value kinds and the messages naming accepted values
// would have had to be built around them anyway. Here one row per setting
// drives its environment variable, its flag, its default and its help, so
// they cannot drift, and the environment and a flag go through the same
// Set.

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/daytradinginc/daytrader/quotes"
	"github.com/daytradinginc/daytrader/web"
	"github.com/daytradinginc/daytrader/workflows"
)

// Setting is one row of the configuration table.
type Setting struct {
	Env     string // environment variable: TEMPORAL_UI_ADDR
	Flag    string // flag without dashes; "" = environment only
	Off     string // an extra boolean flag that empties the value: no-temporal-ui
	Default string // in the variable's syntax; Defaults parses it like any value
	Help    string
	Secret  bool // never shown: not in help, not in errors

	bind func(*Config) value
}

// Want describes the values the setting accepts.
func (s Setting) Want() string { return s.bind(&Config{}).want() }

// SettingError is a refused value: the setting's name (variable or
// flag), the value as given (redacted where it may hold a password) and
// what the setting accepts.
type SettingError struct {
	Name, Value string
	Err         error
}

func (e *SettingError) Error() string { return fmt.Sprintf("%s=%q: %v", e.Name, e.Value, e.Err) }
func (e *SettingError) Unwrap() error { return e.Err }

// Bounds of the numeric settings. The worker's lower bounds are the SDK's:
// it panics on one workflow task poller or one concurrent workflow task.
const (
	maxWorkerSlots  = 100_000
	maxSessionTTL   = 365 * 24 * time.Hour
	maxLoginEvery   = 24 * time.Hour
	maxLoginBurst   = 10_000
	maxWorkerCached = 1_000_000
	maxTraderHold   = time.Second
)

// Settings is the configuration table, in the order of the README and of
// help output. Each call returns a fresh copy.
func Settings() []Setting {
	return slices.Concat(temporalSettings(), serviceSettings(), webSettings(), workerSettings())
}

func temporalSettings() []Setting {
	return []Setting{
		{Env: "TEMPORAL_ADDRESS", Flag: "temporal-address", Default: "",
			Help: "Temporal frontend of a cluster; empty: dev embeds Temporal, the other commands dial TEMPORAL_FRONTEND_ADDR",
			bind: func(c *Config) value { return addrValue{&c.TemporalAddress, true} }},
		{Env: "TEMPORAL_FRONTENDS", Flag: "temporal-frontends", Default: "",
			Help: "every frontend of a multi-node Temporal cluster, comma-separated; clients spread their calls over them " +
				"and carry on through the live ones when a node dies. Set, it replaces TEMPORAL_ADDRESS",
			bind: func(c *Config) value { return addrListValue{&c.TemporalFrontends} }},
		{Env: "TEMPORAL_NAMESPACE", Flag: "namespace", Default: "default",
			Help: "Temporal namespace (the embedded server creates it)",
			bind: func(c *Config) value { return textValue{&c.TemporalNamespace, true, "name"} }},
		{Env: "TEMPORAL_FRONTEND_ADDR", Flag: "temporal-frontend-addr", Default: "127.0.0.1:7233",
			Help: "where dev serves the embedded Temporal gRPC (the other commands dial it without TEMPORAL_ADDRESS)",
			bind: func(c *Config) value { return addrValue{&c.EmbeddedFrontend, false} }},
		{Env: "TEMPORAL_HTTP_ADDR", Flag: "temporal-http-addr", Default: "127.0.0.1:7243",
			Help: "where dev serves Temporal's HTTP API (host must be TEMPORAL_FRONTEND_ADDR's); empty: off",
			bind: func(c *Config) value { return addrValue{&c.TemporalHTTPAddr, true} }},
		{Env: "TEMPORAL_UI_ADDR", Flag: "temporal-ui-addr", Off: "no-temporal-ui", Default: "127.0.0.1:8233",
			Help: "where dev serves the Temporal web UI; empty: no UI",
			bind: func(c *Config) value { return addrValue{&c.TemporalUIAddr, true} }},
		{Env: "TEMPORAL_UI_URL", Flag: "temporal-ui-url", Default: "",
			Help: "link target of the admin pages; empty: from TEMPORAL_UI_ADDR",
			bind: func(c *Config) value { return httpURLValue{&c.TemporalUIURL} }},
		{Env: "TEMPORAL_PERSISTENCE", Flag: "temporal-persistence", Default: PersistenceSQLite,
			Help: "where the embedded Temporal keeps its state: sqlite (a file in DATA_DIR/temporal) or postgres " +
				"(databases NAME_temporal and NAME_temporal_visibility beside DATABASE_URL's NAME, created and set up at start)",
			bind: func(c *Config) value {
				return enumValue{&c.TemporalPersistence, []string{PersistenceSQLite, PersistencePostgres}}
			}},
		{Env: "TEMPORAL_FRONTEND_TLS_CERT_PATH", Flag: "temporal-frontend-tls-cert", Default: "",
			Help: "temporal-node: its frontend serves gRPC over TLS with this PEM certificate (for the frontend's host), " +
				"with TEMPORAL_FRONTEND_TLS_KEY_PATH and _CA_PATH; empty: plaintext",
			bind: func(c *Config) value { return textValue{&c.FrontendTLSCert, false, "path"} }},
		{Env: "TEMPORAL_FRONTEND_TLS_KEY_PATH", Flag: "temporal-frontend-tls-key", Default: "",
			Help: "temporal-node: the PEM private key of TEMPORAL_FRONTEND_TLS_CERT_PATH",
			bind: func(c *Config) value { return textValue{&c.FrontendTLSKey, false, "path"} }},
		{Env: "TEMPORAL_FRONTEND_TLS_CA_PATH", Flag: "temporal-frontend-tls-ca", Default: "",
			Help: "temporal-node: the PEM CA that signed TEMPORAL_FRONTEND_TLS_CERT_PATH; the node's own clients verify its frontend with it",
			bind: func(c *Config) value { return textValue{&c.FrontendTLSCA, false, "path"} }},
		{Env: "TASK_QUEUE", Flag: "task-queue", Default: workflows.TaskQueue,
			Help: "task queue of workers and clients",
			bind: func(c *Config) value { return textValue{&c.TaskQueue, true, "name"} }},
	}
}

func serviceSettings() []Setting {
	return []Setting{
		{Env: "DATABASE_URL", Flag: "database-url", Default: DefaultDatabaseURL,
			Help: "PostgreSQL; migrations are applied at start",
			bind: func(c *Config) value { return postgresURLValue{&c.DatabaseURL} }},
		{Env: "QUOTE_SERVER_ADDR", Flag: "quote-server", Default: "127.0.0.1:4444",
			Help: "legacy quote server (dev runs the emulator there)",
			bind: func(c *Config) value { return addrValue{&c.QuoteServerAddr, false} }},
		{Env: "QUOTE_LATENCY", Flag: "quote-latency", Default: string(quotes.LatencyLegacy),
			Help: "emulator latency model: legacy (the 2017 study's distribution) or none",
			bind: func(c *Config) value {
				return enumValue{&c.QuoteLatency, []string{string(quotes.LatencyLegacy), string(quotes.LatencyNone)}}
			}},
		{Env: "QUOTE_SEED", Flag: "quote-seed", Default: "468",
			Help: "emulator price walk seed",
			bind: func(c *Config) value { return intValue[int64]{&c.QuoteSeed, math.MinInt64, math.MaxInt64} }},
		{Env: "QUOTE_PRICES", Flag: "quote-prices", Default: "",
			Help: "emulator fixed prices, a file of SYM,price lines",
			bind: func(c *Config) value { return textValue{&c.QuotePrices, false, "path"} }},
		{Env: "DATA_DIR", Flag: "data-dir", Default: ".data",
			Help: "embedded Temporal's SQLite files",
			bind: func(c *Config) value { return textValue{&c.DataDir, true, "path"} }},
		{Env: "DUMP_DIR", Flag: "dump-dir", Default: "",
			Help: "DUMPLOG files are written inside it, never outside; empty: DATA_DIR/dumps",
			bind: func(c *Config) value { return textValue{&c.DumpDir, false, "path"} }},
		{Env: "SERVER_NAME", Flag: "server-name", Default: "",
			Help: "<server> of audit records; empty: the host name",
			bind: func(c *Config) value { return textValue{&c.ServerName, false, "name"} }},
		{Env: "METRICS_ADDR", Flag: "metrics-addr", Default: "",
			Help: "Prometheus /metrics (with /healthz, /readyz) of dev, worker and web; empty: off",
			bind: func(c *Config) value { return addrValue{&c.MetricsAddr, true} }},
		{Env: "OTEL_EXPORTER_OTLP_ENDPOINT", Flag: "otlp-endpoint", Default: "",
			Help: "OpenTelemetry traces (web request, workflow update, activities) to this OTLP/gRPC collector, e.g. http://127.0.0.1:4317; empty: off",
			bind: func(c *Config) value { return httpURLValue{&c.OTLPEndpoint} }},
		{Env: "LOG_LEVEL", Flag: "log-level", Default: "info",
			Help: "log level",
			bind: func(c *Config) value { return enumValue{&c.LogLevel, []string{"debug", "info", "warn", "error"}} }},
		{Env: "LOG_FORMAT", Flag: "log-format", Default: "text",
			Help: "log lines as text (key=value) or json (one object a line, for log collectors)",
			bind: func(c *Config) value { return enumValue{&c.LogFormat, []string{"text", "json"}} }},
	}
}

func webSettings() []Setting {
	return []Setting{
		{Env: "WEB_ADDR", Flag: "web-addr", Default: "127.0.0.1:8080",
			Help: "web UI listen address",
			bind: func(c *Config) value { return addrValue{&c.WebAddr, false} }},
		{Env: "SECURE_COOKIES", Flag: "secure-cookies", Default: "false",
			Help: "mark the session cookie Secure; set it behind HTTPS",
			bind: func(c *Config) value { return boolValue{&c.SecureCookies} }},
		{Env: "ADMIN_USER", Flag: "admin-user", Default: "",
			Help: "web administrator created (or updated) at start, with ADMIN_PASSWORD",
			bind: func(c *Config) value { return textValue{&c.AdminUser, false, "name"} }},
		// No flag: a password on the command line shows in ps and shell history.
		{Env: "ADMIN_PASSWORD", Default: "", Secret: true,
			Help: "password of ADMIN_USER",
			bind: func(c *Config) value { return textValue{&c.AdminPassword, false, "text"} }},
		{Env: "REGISTRATION", Flag: "registration", Default: "open",
			Help: "self-service sign-up; closed: web logins come only from administrators, `daytrader user` and ADMIN_USER",
			bind: func(c *Config) value { return enumValue{&c.Registration, []string{"open", "closed"}} }},
		{Env: "SESSION_TTL", Flag: "session-ttl", Default: "12h",
			Help: "how long a login lasts",
			bind: func(c *Config) value { return durationValue{&c.SessionTTL, time.Minute, maxSessionTTL} }},
		{Env: "LOGIN_USER_EVERY", Flag: "login-user-every", Default: every(web.DefaultLoginLimit.PerUser).String(),
			Help: "after LOGIN_USER_BURST quick tries, one sign-in attempt per user name and client address every this long",
			bind: func(c *Config) value { return durationValue{&c.LoginUserEvery, time.Millisecond, maxLoginEvery} }},
		{Env: "LOGIN_USER_BURST", Flag: "login-user-burst", Default: fmt.Sprint(web.DefaultLoginLimit.UserBurst),
			Help: "quick sign-in attempts per user name from one client address",
			bind: func(c *Config) value { return intValue[int]{&c.LoginUserBurst, 1, maxLoginBurst} }},
		{Env: "LOGIN_IP_EVERY", Flag: "login-ip-every", Default: every(web.DefaultLoginLimit.PerIP).String(),
			Help: "after LOGIN_IP_BURST quick tries, one sign-in or registration per client address every this long",
			bind: func(c *Config) value { return durationValue{&c.LoginIPEvery, time.Millisecond, maxLoginEvery} }},
		{Env: "LOGIN_IP_BURST", Flag: "login-ip-burst", Default: fmt.Sprint(web.DefaultLoginLimit.IPBurst),
			Help: "quick sign-in attempts and registrations per client address",
			bind: func(c *Config) value { return intValue[int]{&c.LoginIPBurst, 1, maxLoginBurst} }},
		{Env: "TRUSTED_PROXIES", Flag: "trusted-proxies", Default: "",
			Help: "reverse proxies whose X-Forwarded-For gives the client address of the login limits; empty: none",
			bind: func(c *Config) value { return prefixesValue{&c.TrustedProxies} }},
	}
}

// workerSettings: the defaults are worker.New's (8, 32, 1000, 32, 64, no
// trader hold or slots: README, "The worker holds the bulk") and the
// SDK's sticky cache size (10000), spelled out so help shows them.
func workerSettings() []Setting {
	return []Setting{
		{Env: "WORKER_WORKFLOW_TASK_POLLERS", Flag: "worker-workflow-task-pollers", Default: "8",
			Help: "workflow task pollers of the worker",
			bind: func(c *Config) value { return intValue[int]{&c.WorkerWorkflowTaskPollers, 2, 1024} }},
		{Env: "WORKER_MAX_CONCURRENT_WORKFLOWS", Flag: "worker-max-concurrent-workflows", Default: "32",
			Help: "account batches (workflow tasks) of the bulk queue the worker runs at once",
			bind: func(c *Config) value { return intValue[int]{&c.WorkerMaxConcurrentWorkflows, 2, maxWorkerSlots} }},
		{Env: "WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES", Flag: "worker-max-concurrent-local-activities", Default: "1000",
			Help: "local activities (quotes, audit writes) the worker runs at once",
			bind: func(c *Config) value { return intValue[int]{&c.WorkerMaxConcurrentLocalActs, 1, maxWorkerSlots} }},
		{Env: "WORKER_INTERACTIVE_WORKFLOW_TASK_POLLERS", Flag: "worker-interactive-workflow-task-pollers", Default: "32",
			Help: "workflow task pollers of the interactive queue's accounts, beside the bulk queue's",
			bind: func(c *Config) value { return intValue[int]{&c.WorkerInteractiveWorkflowTaskPollers, 2, 1024} }},
		{Env: "WORKER_INTERACTIVE_MAX_CONCURRENT_WORKFLOWS", Flag: "worker-interactive-max-concurrent-workflows", Default: "64",
			Help: "workflow tasks (and activities) of the interactive queue's accounts the worker runs at once, beside the bulk queue's",
			bind: func(c *Config) value {
				return intValue[int]{&c.WorkerInteractiveMaxConcurrentWorkflows, 2, maxWorkerSlots}
			}},
		{Env: "WORKER_TRADER_HOLD", Flag: "worker-trader-hold", Default: "0s",
			Help: "while a trader's task runs on the worker, and this long after, the bulk queue's next tasks wait (at most 1 s) so the trader's get the CPU (20ms: many traders wait a third less, the bulk runs slower); 0s: off",
			bind: func(c *Config) value { return durationValue{&c.WorkerTraderHold, 0, maxTraderHold} }},
		{Env: "WORKER_TRADER_SLOTS", Flag: "worker-trader-slots", Default: "0",
			Help: "while a trader trades (a task of the interactive queue in the last 30 s), the bulk queue runs at most this many workflow tasks at once, its others waiting ready in Temporal (2, with the workload's --trader-window -1: the bulk keeps more of its rate, the trader waits longer than with the default window); 0: off",
			bind: func(c *Config) value { return offOrIntValue{intValue[int]{&c.WorkerTraderSlots, 2, maxWorkerSlots}} }},
		{Env: "WORKER_MAX_CACHED_WORKFLOWS", Flag: "worker-max-cached-workflows", Default: "10000",
			Help: "account workflows kept in memory between tasks (process-wide sticky cache)",
			bind: func(c *Config) value { return intValue[int]{&c.WorkerMaxCachedWorkflows, 1, maxWorkerCached} }},
	}
}

// every is the interval of a rate.Limit of one event per interval.
func every[L ~float64](l L) time.Duration {
	return time.Duration(math.Round(float64(time.Second) / float64(l)))
}

// SettingNames is every setting's variable, in table order (what `dev`,
// which runs everything, reads).
func SettingNames() []string { return envNames(Settings()) }

// WorkerSettingNames is the worker's own settings' variables (WORKER_*):
// every command that runs DayTrader's worker reads all of them, so a new
// one cannot be left out of one of those commands.
func WorkerSettingNames() []string { return envNames(workerSettings()) }

func envNames(settings []Setting) []string {
	names := make([]string, len(settings))
	for i, s := range settings {
		names[i] = s.Env
	}
	return names
}

func settingsByEnv() map[string]Setting {
	m := map[string]Setting{}
	for _, s := range Settings() {
		m[s.Env] = s
	}
	return m
}

// Defaults is the configuration with every setting at its default.
func Defaults() Config {
	var c Config
	for _, s := range Settings() {
		if err := s.bind(&c).Set(s.Default); err != nil {
			panic(fmt.Sprintf("stack: the default of %s: %v", s.Env, err)) // a bad table row; TestDefaults catches it
		}
	}
	return c
}

// LoadEnv is c with the named settings taken
// from the environment that lookup reads (os.LookupEnv). A variable that is
// set, even to "", is a value: TEMPORAL_UI_ADDR= turns the UI off. Every
// refused value is reported, each as a *SettingError; then c is unchanged.
// Variables of settings a command does not use are not read.
func (c *Config) LoadEnv(lookup func(string) (string, bool), names ...string) error {
	rows, err := selectSettings(names)
	if err != nil {
		return err
	}
	next := *c
	var errs []error
	for _, s := range rows {
		raw, ok := lookup(s.Env)
		if !ok {
			continue
		}
		if err := s.bind(&next).Set(raw); err != nil {
			errs = append(errs, &SettingError{Name: s.Env, Value: shown(s, raw), Err: err})
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	*c = next
	return nil
}

// shown is raw as an error message may show it.
func shown(s Setting, raw string) string {
	switch {
	case s.Secret:
		return "(not shown)"
	case s.Env == "DATABASE_URL":
		return redactUserinfo(raw)
	}
	return raw
}

// BindFlags defines the flags of the named settings on fs, bound to c, so
// that parsing fs overrides what c holds (defaults, then environment).
func (c *Config) BindFlags(fs *flag.FlagSet, names ...string) error {
	rows, err := selectSettings(names)
	if err != nil {
		return err
	}
	for _, s := range rows {
		if s.Flag == "" {
			continue
		}
		fs.Var(s.bind(c), s.Flag, s.Env+": "+s.Help)
		if s.Off != "" {
			fs.Var(offValue{s.bind(c)}, s.Off, "no "+s.Env+": the same as "+s.Env+"=")
		}
	}
	return nil
}

// selectSettings is the named rows in table order.
func selectSettings(names []string) ([]Setting, error) {
	all := Settings()
	byEnv := settingsByEnv()
	var unknown []string
	for _, n := range names {
		if _, ok := byEnv[n]; !ok {
			unknown = append(unknown, n)
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("stack: no setting named %s", strings.Join(unknown, ", "))
	}
	return slices.DeleteFunc(all, func(s Setting) bool { return !slices.Contains(names, s.Env) }), nil
}

// offValue is the boolean flag that empties an optional setting
// (--no-temporal-ui). --no-temporal-ui=false leaves the setting alone.
type offValue struct{ v value }

func (o offValue) IsBoolFlag() bool { return true }
func (o offValue) String() string   { return "false" }

func (o offValue) Set(s string) error {
	switch s {
	case "true":
		return o.v.Set("")
	case "false":
		return nil
	}
	return errors.New("want true or false")
}

// IsSettingFlag reports whether name is a setting's flag (or its Off
// flag), so that help can list a command's own flags apart.
func IsSettingFlag(name string) bool {
	for _, s := range Settings() {
		if name != "" && (s.Flag == name || s.Off == name) {
			return true
		}
	}
	return false
}

// WriteHelp lists the named settings for `daytrader <command> -h`: flag,
// variable, meaning, accepted values and the value c holds (the default,
// or the environment's).
func (c *Config) WriteHelp(w io.Writer, names ...string) error {
	rows, err := selectSettings(names)
	if err != nil {
		return err
	}
	for _, s := range rows {
		v := s.bind(c)
		head := "  " + s.Env + " (environment only)"
		if s.Flag != "" {
			head = strings.TrimRight("  --"+s.Flag+" "+v.placeholder(), " ") + "   " + s.Env
		}
		if s.Off != "" {
			head += "   (--" + s.Off + ": off)"
		}
		now := ""
		if !s.Secret {
			now = fmt.Sprintf("; now %q", v.String())
		}
		fmt.Fprintf(w, "%s\n      %s\n      want %s%s\n", head, s.Help, v.want(), now)
	}
	return nil
}

// FromEnv is Defaults with every setting from the process environment.
// It panics on a refused value, so it suits tests; commands use LoadEnv
// and report the error.
func FromEnv() Config {
	c := Defaults()
	if err := c.LoadEnv(os.LookupEnv, SettingNames()...); err != nil {
		panic(fmt.Sprintf("stack: the environment: %v", err))
	}
	return c
}
