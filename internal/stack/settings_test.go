package stack

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/web"
	"github.com/daytradinginc/daytrader/worker"
	"golang.org/x/time/rate"
)

// env is a fake environment for LoadEnv.
type env map[string]string

func (e env) lookup(k string) (string, bool) { v, ok := e[k]; return v, ok }

// TestDefaults: the defaults are the ones DayTrader always had, and the
// new settings default to what web and worker did when nothing set them.
func TestDefaults(t *testing.T) {
	c := Defaults()
	want := Config{
		TemporalNamespace: "default", EmbeddedFrontend: "127.0.0.1:7233", TemporalHTTPAddr: "127.0.0.1:7243",
		TemporalUIAddr: "127.0.0.1:8233", DatabaseURL: DefaultDatabaseURL, QuoteServerAddr: "127.0.0.1:4444",
		QuoteLatency: "legacy", QuoteSeed: 468, WebAddr: "127.0.0.1:8080", DataDir: ".data", TaskQueue: "daytrader",
		LogLevel: "info", LogFormat: "text", TemporalPersistence: "sqlite", Registration: "open", SessionTTL: 12 * time.Hour,
		LoginUserEvery: 12 * time.Second, LoginUserBurst: 5, LoginIPEvery: 3 * time.Second, LoginIPBurst: 20,
		WorkerWorkflowTaskPollers: 8, WorkerMaxConcurrentWorkflows: 32, WorkerMaxConcurrentLocalActs: 1000,
		WorkerMaxCachedWorkflows: 10000, WorkerInteractiveMaxConcurrentWorkflows: 64,
		WorkerInteractiveWorkflowTaskPollers: 32, // was the bulk queue's 8: README, "Pollers for the traders"
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Defaults() =\n%+v\nwant\n%+v", c, want)
	}
	if got := c.loginLimit(); got != web.DefaultLoginLimit {
		t.Errorf("the default login limit is %+v, want web.DefaultLoginLimit %+v", got, web.DefaultLoginLimit)
	}
	wantWorker := worker.Options{TaskQueue: "daytrader", WorkflowTaskPollers: 8, MaxConcurrentWorkflows: 32,
		MaxConcurrentLocalActs: 1000, MaxCachedWorkflows: 10000, InteractiveMaxConcurrentWorkflows: 64,
		InteractiveWorkflowTaskPollers: 32}
	if got := c.workerOptions(); !reflect.DeepEqual(got, wantWorker) {
		t.Errorf("the default worker options are %+v, want %+v", got, wantWorker)
	}
}

// TestLoadEnvRefusesBadValues: every kind of value refuses what it does
// not accept, naming the variable, the value and the accepted values, and
// leaves the configuration as it was.
func TestLoadEnvRefusesBadValues(t *testing.T) {
	for _, tc := range []struct {
		env, value, want string // want: the whole message
	}{
		{"SECURE_COOKIES", "yes", `SECURE_COOKIES="yes": want true or false`},
		{"SECURE_COOKIES", "", `SECURE_COOKIES="": want true or false`},
		{"LOG_LEVEL", "verbose", `LOG_LEVEL="verbose": want debug, info, warn or error`},
		{"LOG_LEVEL", "INFO", `LOG_LEVEL="INFO": want debug, info, warn or error`},
		{"LOG_FORMAT", "xml", `LOG_FORMAT="xml": want text or json`},
		{"LOG_FORMAT", "JSON", `LOG_FORMAT="JSON": want text or json`},
		{"LOG_FORMAT", "", `LOG_FORMAT="": want text or json`},
		{"TEMPORAL_PERSISTENCE", "postgresql", `TEMPORAL_PERSISTENCE="postgresql": want sqlite or postgres`},
		{"TEMPORAL_PERSISTENCE", "SQLite", `TEMPORAL_PERSISTENCE="SQLite": want sqlite or postgres`},
		{"TEMPORAL_PERSISTENCE", "", `TEMPORAL_PERSISTENCE="": want sqlite or postgres`},
		{"QUOTE_LATENCY", "fast", `QUOTE_LATENCY="fast": want legacy or none`},
		{"REGISTRATION", "maybe", `REGISTRATION="maybe": want open or closed`},
		{"QUOTE_SEED", "abc", `QUOTE_SEED="abc": want an integer`},
		{"QUOTE_SEED", "99999999999999999999", `QUOTE_SEED="99999999999999999999": want an integer`},
		{"QUOTE_SEED", " 4", `QUOTE_SEED=" 4": want an integer`},
		{"WORKER_WORKFLOW_TASK_POLLERS", "1", `WORKER_WORKFLOW_TASK_POLLERS="1": want an integer from 2 to 1024`},
		{"WORKER_MAX_CONCURRENT_WORKFLOWS", "0", `WORKER_MAX_CONCURRENT_WORKFLOWS="0": want an integer from 2 to 100000`},
		{"WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES", "1e3", `WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES="1e3": want an integer from 1 to 100000`},
		{"WORKER_MAX_CACHED_WORKFLOWS", "-1", `WORKER_MAX_CACHED_WORKFLOWS="-1": want an integer from 1 to 1000000`},
		{"WORKER_INTERACTIVE_WORKFLOW_TASK_POLLERS", "1", `WORKER_INTERACTIVE_WORKFLOW_TASK_POLLERS="1": want an integer from 2 to 1024`},
		{"WORKER_INTERACTIVE_MAX_CONCURRENT_WORKFLOWS", "1", `WORKER_INTERACTIVE_MAX_CONCURRENT_WORKFLOWS="1": want an integer from 2 to 100000`},
		{"WORKER_TRADER_HOLD", "2s", `WORKER_TRADER_HOLD="2s": want a Go duration such as 90s or 12h, from 0s to 1s`},
		{"WORKER_TRADER_HOLD", "-1ms", `WORKER_TRADER_HOLD="-1ms": want a Go duration such as 90s or 12h, from 0s to 1s`},
		{"WORKER_TRADER_SLOTS", "1", `WORKER_TRADER_SLOTS="1": want 0 (off) or an integer from 2 to 100000`},
		{"WORKER_TRADER_SLOTS", "-2", `WORKER_TRADER_SLOTS="-2": want 0 (off) or an integer from 2 to 100000`},
		{"LOGIN_USER_BURST", "0", `LOGIN_USER_BURST="0": want an integer from 1 to 10000`},
		{"LOGIN_IP_BURST", "many", `LOGIN_IP_BURST="many": want an integer from 1 to 10000`},
		{"WEB_ADDR", "8080", `WEB_ADDR="8080": want host:port (port 0 to 65535)`},
		{"WEB_ADDR", "localhost:http", `WEB_ADDR="localhost:http": want host:port (port 0 to 65535)`},
		{"WEB_ADDR", ":65536", `WEB_ADDR=":65536": want host:port (port 0 to 65535)`},
		{"WEB_ADDR", "", `WEB_ADDR="": want host:port (port 0 to 65535)`},
		{"QUOTE_SERVER_ADDR", "quote server:4444", `QUOTE_SERVER_ADDR="quote server:4444": want host:port (port 0 to 65535)`},
		{"TEMPORAL_FRONTEND_ADDR", "http://127.0.0.1:7233", `TEMPORAL_FRONTEND_ADDR="http://127.0.0.1:7233": want host:port (port 0 to 65535)`},
		{"METRICS_ADDR", "localhost", `METRICS_ADDR="localhost": want host:port (port 0 to 65535), or empty`},
		{"TEMPORAL_FRONTENDS", "a:7233,a:7233", `TEMPORAL_FRONTENDS="a:7233,a:7233": a:7233 is listed twice: want comma-separated host:port addresses (port 1 to 65535), each once, or empty for none`},
		{"TEMPORAL_FRONTENDS", "a:7233;b:7233", `TEMPORAL_FRONTENDS="a:7233;b:7233": "a:7233;b:7233" is not a host:port to dial: want comma-separated host:port addresses (port 1 to 65535), each once, or empty for none`},
		{"TEMPORAL_FRONTENDS", "a:7233,b:0", `TEMPORAL_FRONTENDS="a:7233,b:0": "b:0" is not a host:port to dial: want comma-separated host:port addresses (port 1 to 65535), each once, or empty for none`},
		{"TEMPORAL_FRONTENDS", ":7233", `TEMPORAL_FRONTENDS=":7233": ":7233" is not a host:port to dial: want comma-separated host:port addresses (port 1 to 65535), each once, or empty for none`},
		{"TEMPORAL_FRONTENDS", "a:7233,", `TEMPORAL_FRONTENDS="a:7233,": "" is not a host:port to dial: want comma-separated host:port addresses (port 1 to 65535), each once, or empty for none`},
		{"TEMPORAL_HTTP_ADDR", "7243", `TEMPORAL_HTTP_ADDR="7243": want host:port (port 0 to 65535), or empty`},
		{"SESSION_TTL", "12", `SESSION_TTL="12": want a Go duration such as 90s or 12h, from 1m0s to 8760h0m0s`},
		{"SESSION_TTL", "1s", `SESSION_TTL="1s": want a Go duration such as 90s or 12h, from 1m0s to 8760h0m0s`},
		{"LOGIN_IP_EVERY", "-3s", `LOGIN_IP_EVERY="-3s": want a Go duration such as 90s or 12h, from 1ms to 24h0m0s`},
		{"DATABASE_URL", "mysql://root:hunter2@db/daytrader",
			`DATABASE_URL="mysql://xxxxx@db/daytrader": want a postgres:// URL such as postgres://user:password@host:5432/database`},
		{"DATABASE_URL", "postgres://u:hunter2%zz@db/daytrader",
			`DATABASE_URL="postgres://xxxxx@db/daytrader": want a postgres:// URL such as postgres://user:password@host:5432/database`},
		{"DATABASE_URL", "host=db user=postgres",
			`DATABASE_URL="host=db user=postgres": want a postgres:// URL such as postgres://user:password@host:5432/database`},
		{"TEMPORAL_UI_URL", "ftp://ui", `TEMPORAL_UI_URL="ftp://ui": want an http:// or https:// URL, or empty`},
		{"OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317", `OTEL_EXPORTER_OTLP_ENDPOINT="collector:4317": want an http:// or https:// URL, or empty`},
		{"TEMPORAL_UI_URL", "localhost:8233", `TEMPORAL_UI_URL="localhost:8233": want an http:// or https:// URL, or empty`},
		{"TRUSTED_PROXIES", "10.0.0.0/8,banana",
			`TRUSTED_PROXIES="10.0.0.0/8,banana": "banana" is not a CIDR prefix: want comma-separated CIDR prefixes such as 10.0.0.0/8,fd00::/8, or empty for none`},
		{"TRUSTED_PROXIES", "10.0.0.1",
			`TRUSTED_PROXIES="10.0.0.1": "10.0.0.1" is not a CIDR prefix: want comma-separated CIDR prefixes such as 10.0.0.0/8,fd00::/8, or empty for none`},
		{"TRUSTED_PROXIES", "10.0.0.0/8,",
			`TRUSTED_PROXIES="10.0.0.0/8,": "" is not a CIDR prefix: want comma-separated CIDR prefixes such as 10.0.0.0/8,fd00::/8, or empty for none`},
		{"TEMPORAL_NAMESPACE", "", `TEMPORAL_NAMESPACE="": want a non-empty name`},
		{"TASK_QUEUE", "", `TASK_QUEUE="": want a non-empty name`},
		{"DATA_DIR", "", `DATA_DIR="": want a non-empty path`},
	} {
		t.Run(tc.env+"="+tc.value, func(t *testing.T) {
			c := Defaults()
			err := c.LoadEnv(env{tc.env: tc.value}.lookup, SettingNames()...)
			var se *SettingError
			if !errors.As(err, &se) || se.Name != tc.env {
				t.Fatalf("LoadEnv = %v, want a *SettingError for %s", err, tc.env)
			}
			if err.Error() != tc.want {
				t.Errorf("LoadEnv = %s\nwant        %s", err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error shows the password: %s", err)
			}
			if !reflect.DeepEqual(c, Defaults()) {
				t.Errorf("a refused value changed the configuration: %+v", c)
			}
		})
	}
}

// TestLoadEnvAcceptsGoodValues: a variable that is set, even to "", is a
// value; one that is unset leaves the default.
func TestLoadEnvAcceptsGoodValues(t *testing.T) {
	for _, tc := range []struct {
		env, value string
		want       func(*Config)
	}{
		{"TEMPORAL_UI_ADDR", "", func(c *Config) { c.TemporalUIAddr = "" }}, // was 127.0.0.1:8233 before
		{"TEMPORAL_HTTP_ADDR", "", func(c *Config) { c.TemporalHTTPAddr = "" }},
		{"TEMPORAL_ADDRESS", "temporal.example:7233", func(c *Config) { c.TemporalAddress = "temporal.example:7233" }},
		{"TEMPORAL_FRONTENDS", " node1:7233 , 10.0.0.2:7233", func(c *Config) { c.TemporalFrontends = []string{"node1:7233", "10.0.0.2:7233"} }},
		{"TEMPORAL_FRONTENDS", "", func(c *Config) {}},
		{"WEB_ADDR", ":8080", func(c *Config) { c.WebAddr = ":8080" }},
		{"WEB_ADDR", "[::1]:0", func(c *Config) { c.WebAddr = "[::1]:0" }},
		{"SECURE_COOKIES", "true", func(c *Config) { c.SecureCookies = true }},
		{"SECURE_COOKIES", "1", func(c *Config) { c.SecureCookies = true }},
		{"QUOTE_SEED", "-5", func(c *Config) { c.QuoteSeed = -5 }},
		{"QUOTE_LATENCY", "none", func(c *Config) { c.QuoteLatency = "none" }},
		{"LOG_LEVEL", "debug", func(c *Config) { c.LogLevel = "debug" }},
		{"LOG_FORMAT", "json", func(c *Config) { c.LogFormat = "json" }},
		{"TEMPORAL_PERSISTENCE", "postgres", func(c *Config) { c.TemporalPersistence = "postgres" }},
		{"REGISTRATION", "closed", func(c *Config) { c.Registration = "closed" }},
		{"SESSION_TTL", "30m", func(c *Config) { c.SessionTTL = 30 * time.Minute }},
		{"LOGIN_USER_EVERY", "1m", func(c *Config) { c.LoginUserEvery = time.Minute }},
		{"LOGIN_IP_BURST", "100", func(c *Config) { c.LoginIPBurst = 100 }},
		{"WORKER_WORKFLOW_TASK_POLLERS", "2", func(c *Config) { c.WorkerWorkflowTaskPollers = 2 }},
		{"DATABASE_URL", "postgresql://u:p@db:5432/x", func(c *Config) { c.DatabaseURL = "postgresql://u:p@db:5432/x" }},
		{"TEMPORAL_UI_URL", "https://temporal.example/ui", func(c *Config) { c.TemporalUIURL = "https://temporal.example/ui" }},
		{"TRUSTED_PROXIES", " 10.1.2.3/8 , fd00::/8", func(c *Config) {
			c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
		}},
		{"TRUSTED_PROXIES", "", func(c *Config) {}},
		{"METRICS_ADDR", "", func(c *Config) {}},
		{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317", func(c *Config) { c.OTLPEndpoint = "http://127.0.0.1:4317" }},
		{"DUMP_DIR", "/var/dumps", func(c *Config) { c.DumpDir = "/var/dumps" }},
	} {
		t.Run(tc.env+"="+tc.value, func(t *testing.T) {
			c := Defaults()
			if err := c.LoadEnv(env{tc.env: tc.value}.lookup, SettingNames()...); err != nil {
				t.Fatalf("LoadEnv: %v", err)
			}
			want := Defaults()
			tc.want(&want)
			if !reflect.DeepEqual(c, want) {
				t.Errorf("LoadEnv gave\n%+v\nwant\n%+v", c, want)
			}
		})
	}
}

// TestLoadEnvReportsEveryBadValue: one start shows every mistake.
func TestLoadEnvReportsEveryBadValue(t *testing.T) {
	c := Defaults()
	err := c.LoadEnv(env{"SECURE_COOKIES": "yes", "QUOTE_SEED": "abc", "WEB_ADDR": ":9000"}.lookup, SettingNames()...)
	want := `QUOTE_SEED="abc": want an integer` + "\n" + `SECURE_COOKIES="yes": want true or false`
	if err == nil || err.Error() != want {
		t.Fatalf("LoadEnv = %v, want\n%s", err, want)
	}
	if c.WebAddr != Defaults().WebAddr {
		t.Errorf("WEB_ADDR was applied although other values were refused: %q", c.WebAddr)
	}
}

// TestLoadEnvReadsOnlyTheNamedSettings: a command is not stopped by a bad
// value of a setting it does not use, and never reads its variable.
func TestLoadEnvReadsOnlyTheNamedSettings(t *testing.T) {
	e := env{"METRICS_ADDR": "nonsense", "WEB_ADDR": ":9000"}
	var read []string
	lookup := func(k string) (string, bool) { read = append(read, k); return e.lookup(k) }
	c := Defaults()
	if err := c.LoadEnv(lookup, "WEB_ADDR", "LOG_LEVEL"); err != nil {
		t.Fatalf("LoadEnv: %v", err)
	}
	if c.WebAddr != ":9000" || c.MetricsAddr != "" {
		t.Errorf("WebAddr %q, MetricsAddr %q; want :9000 and the default", c.WebAddr, c.MetricsAddr)
	}
	if !reflect.DeepEqual(read, []string{"LOG_LEVEL", "WEB_ADDR"}) {
		t.Errorf("read the variables %q, want only LOG_LEVEL and WEB_ADDR", read)
	}
}

func TestUnknownSettingNamesAreErrors(t *testing.T) {
	c := Defaults()
	if err := c.LoadEnv(env{}.lookup, "WEB_ADDR", "WEB_ADRR"); err == nil || !strings.Contains(err.Error(), "WEB_ADRR") {
		t.Errorf("LoadEnv with a misspelt name = %v, want an error naming it", err)
	}
	if err := c.BindFlags(flag.NewFlagSet("x", flag.ContinueOnError), "NOPE"); err == nil {
		t.Error("BindFlags with an unknown name succeeded")
	}
}

// TestFlags: a flag goes through the same strict parser as the variable
// and wins over it; --no-temporal-ui turns the UI off.
func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wantErr string
		want    func(*Config)
	}{
		{args: []string{"--secure-cookies=yes"}, wantErr: `invalid boolean value "yes" for -secure-cookies: want true or false`},
		{args: []string{"--log-level", "verbose"}, wantErr: `invalid value "verbose" for flag -log-level: want debug, info, warn or error`},
		{args: []string{"--quote-seed", "abc"}, wantErr: `invalid value "abc" for flag -quote-seed: want an integer`},
		{args: []string{"--web-addr", "8080"}, wantErr: `invalid value "8080" for flag -web-addr: want host:port (port 0 to 65535)`},
		{args: []string{"--trusted-proxies", "10.0.0.0/33"}, wantErr: `"10.0.0.0/33" is not a CIDR prefix`},
		{args: []string{"--secure-cookies"}, want: func(c *Config) { c.SecureCookies = true }},
		{args: []string{"--no-temporal-ui"}, want: func(c *Config) { c.TemporalUIAddr = "" }},
		{args: []string{"--no-temporal-ui=false"}, want: func(c *Config) {}},
		{args: []string{"--temporal-ui-addr="}, want: func(c *Config) { c.TemporalUIAddr = "" }},
		{args: []string{"--web-addr", ":1234", "--session-ttl", "1h", "--registration", "closed"}, want: func(c *Config) {
			c.WebAddr, c.SessionTTL, c.Registration = ":1234", time.Hour, "closed"
		}},
		{args: []string{"--worker-max-cached-workflows", "50"}, want: func(c *Config) { c.WorkerMaxCachedWorkflows = 50 }},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			c := Defaults()
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			if err := c.BindFlags(fs, SettingNames()...); err != nil {
				t.Fatal(err)
			}
			err := fs.Parse(tc.args)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Parse = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			want := Defaults()
			tc.want(&want)
			if !reflect.DeepEqual(c, want) {
				t.Errorf("flags gave\n%+v\nwant\n%+v", c, want)
			}
		})
	}
}

func TestFlagWinsOverEnvironment(t *testing.T) {
	c := Defaults()
	if err := c.LoadEnv(env{"WEB_ADDR": ":1111", "LOG_LEVEL": "debug"}.lookup, "WEB_ADDR", "LOG_LEVEL"); err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	if err := c.BindFlags(fs, "WEB_ADDR", "LOG_LEVEL"); err != nil {
		t.Fatal(err)
	}
	if err := fs.Parse([]string{"--web-addr", ":2222"}); err != nil {
		t.Fatal(err)
	}
	if c.WebAddr != ":2222" || c.LogLevel != "debug" {
		t.Errorf("WebAddr %q, LogLevel %q; want the flag's :2222 and the environment's debug", c.WebAddr, c.LogLevel)
	}
}

// TestTable: every setting has a variable, help, and a flag (only the
// password has none: a flag would show it in ps), all distinct.
func TestTable(t *testing.T) {
	envs, flags := map[string]bool{}, map[string]bool{}
	for _, s := range Settings() {
		if s.Env == "" || s.Help == "" || s.Want() == "" {
			t.Errorf("setting %+v lacks a variable, help or accepted values", s)
		}
		if envs[s.Env] {
			t.Errorf("variable %s twice", s.Env)
		}
		envs[s.Env] = true
		if s.Flag == "" && s.Env != "ADMIN_PASSWORD" {
			t.Errorf("%s has no flag", s.Env)
		}
		for _, f := range []string{s.Flag, s.Off} {
			if f != "" && flags[f] {
				t.Errorf("flag %s twice", f)
			}
			flags[f] = f != ""
		}
	}
}

// TestWriteHelp: help names each setting's flag and variable, what it
// accepts and its value, never a password.
func TestWriteHelp(t *testing.T) {
	c := Defaults()
	if err := c.LoadEnv(env{"DATABASE_URL": "postgres://u:hunter2@db/x", "ADMIN_PASSWORD": "hunter3"}.lookup, SettingNames()...); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := c.WriteHelp(&b, "DATABASE_URL", "ADMIN_PASSWORD", "LOG_LEVEL", "TEMPORAL_UI_ADDR"); err != nil {
		t.Fatal(err)
	}
	help := b.String()
	for _, want := range []string{"--database-url url   DATABASE_URL", `now "postgres://xxxxx@db/x"`,
		"ADMIN_PASSWORD (environment only)", "--log-level debug|info|warn|error   LOG_LEVEL",
		"want debug, info, warn or error", "(--no-temporal-ui: off)"} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q:\n%s", want, help)
		}
	}
	if strings.Contains(help, "hunter") {
		t.Errorf("help shows a password:\n%s", help)
	}
	if strings.Contains(help, "WEB_ADDR") {
		t.Errorf("help lists a setting that was not asked for:\n%s", help)
	}
}

func TestFromEnvPanicsOnABadValue(t *testing.T) {
	t.Setenv("LOG_LEVEL", "verbose")
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), `LOG_LEVEL="verbose"`) {
			t.Errorf("FromEnv recovered %v, want a panic naming LOG_LEVEL", r)
		}
	}()
	FromEnv()
}

// TestSettingsReachWebAndWorker: the settings that could not be set
// before (registration, session lifetime, login limits, trusted proxies,
// worker concurrency) arrive in web.Config and worker.Options.
func TestSettingsReachWebAndWorker(t *testing.T) {
	c := Defaults()
	err := c.LoadEnv(env{"REGISTRATION": "closed", "SESSION_TTL": "30m", "LOGIN_USER_EVERY": "1m", "LOGIN_USER_BURST": "3",
		"LOGIN_IP_EVERY": "500ms", "LOGIN_IP_BURST": "50", "TRUSTED_PROXIES": "10.0.0.0/8", "SECURE_COOKIES": "true",
		"TEMPORAL_UI_ADDR": "", "WORKER_WORKFLOW_TASK_POLLERS": "4", "WORKER_MAX_CONCURRENT_WORKFLOWS": "64",
		"WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES": "100", "WORKER_MAX_CACHED_WORKFLOWS": "500", "TASK_QUEUE": "q",
		"WORKER_INTERACTIVE_MAX_CONCURRENT_WORKFLOWS": "8", "WORKER_TRADER_HOLD": "5ms", "WORKER_TRADER_SLOTS": "3",
		"WORKER_INTERACTIVE_WORKFLOW_TASK_POLLERS": "16"}.lookup,
		SettingNames()...)
	if err != nil {
		t.Fatal(err)
	}
	wc := c.webConfig()
	wantLimit := web.LoginLimit{PerUser: rate.Every(time.Minute), UserBurst: 3, PerIP: rate.Every(500 * time.Millisecond), IPBurst: 50}
	if !wc.RegistrationClosed || wc.SessionTTL != 30*time.Minute || wc.LoginLimit != wantLimit || !wc.SecureCookies ||
		!reflect.DeepEqual(wc.TrustedProxies, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}) || wc.TemporalUIURL != "" {
		t.Errorf("web.Config %+v does not carry the settings", wc)
	}
	wantWorker := worker.Options{TaskQueue: "q", WorkflowTaskPollers: 4, MaxConcurrentWorkflows: 64,
		MaxConcurrentLocalActs: 100, MaxCachedWorkflows: 500, InteractiveMaxConcurrentWorkflows: 8,
		TraderHold: 5 * time.Millisecond, TraderSlots: 3, InteractiveWorkflowTaskPollers: 16}
	if got := c.workerOptions(); !reflect.DeepEqual(got, wantWorker) {
		t.Errorf("worker.Options %+v, want %+v", got, wantWorker)
	}
	if d := Defaults().webConfig(); d.RegistrationClosed || d.TemporalUIURL != "http://127.0.0.1:8233" || d.TrustedProxies != nil {
		t.Errorf("default web.Config %+v: want registration open, UI links to 127.0.0.1:8233, no trusted proxies", d)
	}
}

// TestLoggerFormats: LOG_FORMAT=json logs one JSON object a line, text (the
// default) slog's key=value lines, both at LOG_LEVEL.
func TestLoggerFormats(t *testing.T) {
	for _, tc := range []struct {
		format string
		check  func(line string) error
	}{
		{"json", func(line string) error {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				return err
			}
			if m["msg"] != "hello" || m["err"] != "boom" || m["level"] != "WARN" {
				return fmt.Errorf("fields %v", m)
			}
			return nil
		}},
		{"text", func(line string) error {
			if !strings.Contains(line, "level=WARN msg=hello err=boom") {
				return fmt.Errorf("not a text line")
			}
			return nil
		}},
	} {
		c := Defaults()
		if err := c.LoadEnv(env{"LOG_FORMAT": tc.format, "LOG_LEVEL": "warn"}.lookup, "LOG_FORMAT", "LOG_LEVEL"); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		log := c.LoggerTo(&b)
		log.Info("not at warn")
		log.Warn("hello", "err", "boom")
		lines := strings.Split(strings.TrimSpace(b.String()), "\n")
		if len(lines) != 1 {
			t.Fatalf("%s: %d lines %q, want the warning only", tc.format, len(lines), b.String())
		}
		if err := tc.check(lines[0]); err != nil {
			t.Errorf("%s: %q: %v", tc.format, lines[0], err)
		}
	}
}

// TestTemporalDatabaseURL: Temporal's databases sit next to DATABASE_URL's,
// on the same server with the same credentials and parameters, and a name
// PostgreSQL would cut is refused rather than shortened into another.
func TestTemporalDatabaseURL(t *testing.T) {
	got, err := TemporalDatabaseURL("postgres://u:p@db:5432/daytrader?sslmode=disable")
	if want := "postgres://u:p@db:5432/daytrader_temporal?sslmode=disable"; err != nil || got != want {
		t.Errorf("TemporalDatabaseURL = %q, %v; want %q", got, err, want)
	}
	for _, bad := range []string{"postgres://db:5432/", "postgres://db/" + strings.Repeat("x", 45)} {
		if got, err := TemporalDatabaseURL(bad); err == nil {
			t.Errorf("TemporalDatabaseURL(%q) = %q, want an error", bad, got)
		}
	}
}
