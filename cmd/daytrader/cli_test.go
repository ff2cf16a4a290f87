package main

import (
	"context"
	"errors"
	"flag"
	"maps"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/daytradinginc/daytrader/internal/stack"
	"github.com/daytradinginc/daytrader/workloads"
)

// These tests run the command line in-process up to the point where a
// command would start (prepare), so nothing is started.

func testCLI(env map[string]string) (cli, *strings.Builder, *strings.Builder) {
	var stdout, stderr strings.Builder
	e := stack.MapEnv{"TEMPORAL_CONFIG_FILE": noConfigFile} // not this machine's default file
	maps.Copy(e, env)
	return cli{stdout: &stdout, stderr: &stderr, env: e}, &stdout, &stderr
}

// noConfigFile is a Temporal config file that does not exist.
const noConfigFile = "/nonexistent/temporal.toml"

// TestCommandsRefuseForeignFlags: a flag another command takes is an
// error that names it and points at the command's help (web once took
// a flag it ignored).
func TestCommandsRefuseForeignFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"web", "--dump-dir", "x"}, "dump-dir"},
		{[]string{"summary", "--metrics-addr", ":9090", "alice"}, "metrics-addr"},
		{[]string{"web", "--quote-latency", "none"}, "quote-latency"},
		{[]string{"web", "--quote-seed=1"}, "quote-seed"},
		{[]string{"web", "--data-dir", "x"}, "data-dir"},
		{[]string{"worker", "--web-addr", ":1"}, "web-addr"},
		{[]string{"worker", "--secure-cookies"}, "secure-cookies"},
		{[]string{"quoteserver", "--database-url", "postgres://x/y"}, "database-url"},
		{[]string{"quoteserver", "--temporal-address", "x:1"}, "temporal-address"},
		{[]string{"migrate", "--log-level", "debug"}, "log-level"},
		{[]string{"migrate", "--temporal-address", "x:1"}, "temporal-address"},
		{[]string{"summary", "--database-url", "postgres://x/y", "alice"}, "database-url"},
		{[]string{"summary", "--task-queue", "q", "alice"}, "task-queue"},
		{[]string{"user", "--admin", "--temporal-address", "x:1", "bob"}, "temporal-address"},
		{[]string{"user", "--log-level", "warn", "bob"}, "log-level"},
		{[]string{"workload", "run", "--data-dir", "x", "file"}, "data-dir"},
		{[]string{"workload", "run", "--web-addr", ":1", "file"}, "web-addr"},
		{[]string{"workload", "gen", "--database-url", "postgres://x/y"}, "database-url"},
		{[]string{"dev", "--json"}, "json"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			c, _, _ := testCLI(nil)
			name, _, err := c.prepare(tc.args)
			cmd := strings.TrimPrefix(name, "daytrader ")
			want := "unknown flag --" + tc.flag + ": " + cmd + " does not take it; `daytrader " + cmd + " -h` lists its flags"
			if !errors.As(err, new(usageError)) || err.Error() != want {
				t.Errorf("prepare = %v\nwant the usage error %s", err, want)
			}
		})
	}
}

// wantSettings is what each command reads: the settings it uses, no more.
var wantSettings = map[string][]string{
	"dev": slices.DeleteFunc(stack.SettingNames(), func(name string) bool { return strings.HasPrefix(name, "TEMPORAL_FRONTEND_TLS_") }),
	"worker": {"TEMPORAL_ADDRESS", "TEMPORAL_FRONTENDS", "TEMPORAL_NAMESPACE", "TEMPORAL_FRONTEND_ADDR", "TASK_QUEUE", "DATABASE_URL",
		"QUOTE_SERVER_ADDR", "DATA_DIR", "DUMP_DIR", "SERVER_NAME", "METRICS_ADDR", "OTEL_EXPORTER_OTLP_ENDPOINT", "LOG_LEVEL",
		"LOG_FORMAT", "WORKER_WORKFLOW_TASK_POLLERS", "WORKER_MAX_CONCURRENT_WORKFLOWS", "WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES",
		"WORKER_MAX_CACHED_WORKFLOWS", "WORKER_INTERACTIVE_WORKFLOW_TASK_POLLERS", "WORKER_INTERACTIVE_MAX_CONCURRENT_WORKFLOWS", "WORKER_TRADER_HOLD", "WORKER_TRADER_SLOTS"},
	"web": {"TEMPORAL_ADDRESS", "TEMPORAL_FRONTENDS", "TEMPORAL_NAMESPACE", "TEMPORAL_FRONTEND_ADDR", "TEMPORAL_UI_ADDR", "TEMPORAL_UI_URL",
		"TASK_QUEUE", "DATABASE_URL", "METRICS_ADDR", "OTEL_EXPORTER_OTLP_ENDPOINT", "LOG_LEVEL", "LOG_FORMAT", "WEB_ADDR", "SECURE_COOKIES", "ADMIN_USER", "ADMIN_PASSWORD",
		"REGISTRATION", "SESSION_TTL", "LOGIN_USER_EVERY", "LOGIN_USER_BURST", "LOGIN_IP_EVERY", "LOGIN_IP_BURST",
		"TRUSTED_PROXIES"},
	"quoteserver": {"QUOTE_SERVER_ADDR", "QUOTE_LATENCY", "QUOTE_SEED", "QUOTE_PRICES", "LOG_LEVEL", "LOG_FORMAT"},
	"migrate":     {"DATABASE_URL"},
	"summary":     {"TEMPORAL_ADDRESS", "TEMPORAL_FRONTENDS", "TEMPORAL_NAMESPACE", "TEMPORAL_FRONTEND_ADDR", "LOG_LEVEL", "LOG_FORMAT"},
	"user":        {"DATABASE_URL"},
	"workload run": {"TEMPORAL_ADDRESS", "TEMPORAL_FRONTENDS", "TEMPORAL_NAMESPACE", "TEMPORAL_FRONTEND_ADDR", "TASK_QUEUE", "DATABASE_URL",
		"QUOTE_LATENCY", "QUOTE_SEED", "QUOTE_PRICES", "DUMP_DIR", "SERVER_NAME", "LOG_LEVEL", "LOG_FORMAT",
		"TEMPORAL_PERSISTENCE", "WORKER_WORKFLOW_TASK_POLLERS", "WORKER_MAX_CONCURRENT_WORKFLOWS",
		"WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES", "WORKER_MAX_CACHED_WORKFLOWS", "WORKER_INTERACTIVE_WORKFLOW_TASK_POLLERS", "WORKER_INTERACTIVE_MAX_CONCURRENT_WORKFLOWS",
		"WORKER_TRADER_HOLD", "WORKER_TRADER_SLOTS"},
	"workload gen": nil,
	"temporal-node": {"TEMPORAL_FRONTEND_ADDR", "TEMPORAL_HTTP_ADDR", "TEMPORAL_UI_ADDR", "TEMPORAL_FRONTENDS",
		"TEMPORAL_NAMESPACE", "DATABASE_URL", "DATA_DIR", "LOG_LEVEL", "LOG_FORMAT",
		"TEMPORAL_FRONTEND_TLS_CERT_PATH", "TEMPORAL_FRONTEND_TLS_KEY_PATH", "TEMPORAL_FRONTEND_TLS_CA_PATH"},
	"workload ceiling": {"TEMPORAL_NAMESPACE", "TASK_QUEUE", "DATABASE_URL",
		"QUOTE_LATENCY", "QUOTE_SEED", "QUOTE_PRICES", "DUMP_DIR", "SERVER_NAME", "LOG_LEVEL", "LOG_FORMAT",
		"TEMPORAL_PERSISTENCE", "WORKER_WORKFLOW_TASK_POLLERS", "WORKER_MAX_CONCURRENT_WORKFLOWS", "WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES",
		"WORKER_MAX_CACHED_WORKFLOWS", "WORKER_INTERACTIVE_WORKFLOW_TASK_POLLERS", "WORKER_INTERACTIVE_MAX_CONCURRENT_WORKFLOWS", "WORKER_TRADER_HOLD", "WORKER_TRADER_SLOTS"},
	"workload mixed": {"TEMPORAL_NAMESPACE", "TASK_QUEUE", "DATABASE_URL",
		"QUOTE_LATENCY", "QUOTE_SEED", "QUOTE_PRICES", "DUMP_DIR", "SERVER_NAME", "LOG_LEVEL", "LOG_FORMAT",
		"TEMPORAL_PERSISTENCE", "WORKER_WORKFLOW_TASK_POLLERS", "WORKER_MAX_CONCURRENT_WORKFLOWS", "WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES",
		"WORKER_MAX_CACHED_WORKFLOWS", "WORKER_INTERACTIVE_WORKFLOW_TASK_POLLERS", "WORKER_INTERACTIVE_MAX_CONCURRENT_WORKFLOWS", "WORKER_TRADER_HOLD", "WORKER_TRADER_SLOTS"},
}

// TestEachCommandTakesExactlyItsSettingsFlags: every command takes the
// flag of each setting it reads and refuses every other setting's flag.
func TestEachCommandTakesExactlyItsSettingsFlags(t *testing.T) {
	specs := commands()
	if len(specs) != len(wantSettings) {
		t.Errorf("%d commands, want %d", len(specs), len(wantSettings))
	}
	for _, sp := range specs {
		want, ok := wantSettings[sp.name]
		if !ok {
			t.Errorf("command %s is not in wantSettings", sp.name)
			continue
		}
		for _, s := range stack.Settings() {
			for _, f := range []string{s.Flag, s.Off} {
				if f == "" {
					continue
				}
				value := "=" + s.Default
				if f == s.Off {
					value = ""
				}
				args := slices.Concat(strings.Fields(sp.name), []string{"--" + f + value}, slices.Repeat([]string{"x"}, sp.nargs))
				c, _, _ := testCLI(nil)
				_, _, err := c.prepare(args)
				if uses := slices.Contains(want, s.Env); uses && err != nil {
					t.Errorf("%s refuses --%s, the flag of %s it reads: %v", sp.name, f, s.Env, err)
				} else if !uses && (err == nil || !strings.Contains(err.Error(), "unknown flag --"+f+":")) {
					t.Errorf("%s: --%s (of %s, which it does not read) gave %v, want an unknown flag error", sp.name, f, s.Env, err)
				}
			}
		}
	}
}

// TestBadSettingsStopTheCommand: a bad value, from a variable or a flag,
// is a usage error naming the setting and the accepted values.
func TestBadSettingsStopTheCommand(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{map[string]string{"SECURE_COOKIES": "yes"}, []string{"dev"}, `SECURE_COOKIES="yes": want true or false`},
		{map[string]string{"QUOTE_SEED": "abc"}, []string{"dev"}, `QUOTE_SEED="abc": want an integer`},
		{map[string]string{"LOG_LEVEL": "verbose"}, []string{"worker"}, `LOG_LEVEL="verbose": want debug, info, warn or error`},
		{map[string]string{"LOG_FORMAT": "xml"}, []string{"web"}, `LOG_FORMAT="xml": want text or json`},
		{map[string]string{"WORKER_WORKFLOW_TASK_POLLERS": "1"}, []string{"worker"},
			`WORKER_WORKFLOW_TASK_POLLERS="1": want an integer from 2 to 1024`},
		{map[string]string{"SESSION_TTL": "12"}, []string{"web"}, `SESSION_TTL="12": want a Go duration such as 90s or 12h, from 1m0s to 8760h0m0s`},
		{map[string]string{"REGISTRATION": "no"}, []string{"web"}, `REGISTRATION="no": want open or closed`},
		{map[string]string{"TRUSTED_PROXIES": "proxy.local"}, []string{"web"}, `TRUSTED_PROXIES="proxy.local": "proxy.local" is not a CIDR prefix`},
		{map[string]string{"QUOTE_LATENCY": "fast"}, []string{"quoteserver"}, `QUOTE_LATENCY="fast": want legacy or none`},
		{map[string]string{"DATABASE_URL": "mysql://u:pw@h/db"}, []string{"migrate"}, `DATABASE_URL="mysql://xxxxx@h/db": want a postgres:// URL`},
		{map[string]string{"TEMPORAL_ADDRESS": "temporal"}, []string{"summary", "alice"}, `TEMPORAL_ADDRESS="temporal": want host:port`},
		{map[string]string{"DATABASE_URL": ""}, []string{"user", "bob"}, `DATABASE_URL="": want a postgres:// URL`},
		{map[string]string{"QUOTE_PRICES": "", "QUOTE_LATENCY": "slow"}, []string{"workload", "run", "f"}, `QUOTE_LATENCY="slow": want legacy or none`},
		{nil, []string{"web", "--log-level", "verbose"}, `--log-level="verbose": want debug, info, warn or error; see ` + "`daytrader web -h`"},
		{nil, []string{"dev", "--secure-cookies=yes"}, `--secure-cookies="yes": want true or false`},
		{nil, []string{"worker", "--metrics-addr", "9090"}, `--metrics-addr="9090": want host:port (port 0 to 65535), or empty`},
		{nil, []string{"summary", "--json", "alice", "bob"}, `want USER, got ["alice" "bob"]`},
		{nil, []string{"migrate", "now"}, `want no arguments, got ["now"]`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			c, _, _ := testCLI(tc.env)
			_, start, err := c.prepare(tc.args)
			if start != nil || !errors.As(err, new(usageError)) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("prepare = %v, want a usage error with %q and nothing to start", err, tc.want)
			}
		})
	}
}

// TestErrorsArePrefixedAndExitTwo: run's report of bad settings, one line
// each with the command's name, and exit code 2.
func TestErrorsArePrefixedAndExitTwo(t *testing.T) {
	c, stdout, stderr := testCLI(map[string]string{"SECURE_COOKIES": "yes", "LOG_LEVEL": "verbose"})
	code := c.run(context.Background(), []string{"dev"})
	want := "daytrader dev: LOG_LEVEL=\"verbose\": want debug, info, warn or error\n" +
		"daytrader dev: SECURE_COOKIES=\"yes\": want true or false\n"
	if code != exitUsage || stderr.String() != want || stdout.Len() != 0 {
		t.Errorf("exit %d, stderr\n%s\nwant exit 2 and\n%s", code, stderr, want)
	}
}

// TestForeignVariablesAreIgnored: the environment is shared by every
// command, so a command ignores variables of settings it does not use.
func TestForeignVariablesAreIgnored(t *testing.T) {
	c, _, _ := testCLI(map[string]string{"METRICS_ADDR": "nonsense", "SECURE_COOKIES": "yes"})
	if _, start, err := c.prepare([]string{"migrate"}); err != nil || start == nil {
		t.Errorf("migrate with bad METRICS_ADDR and SECURE_COOKIES: %v", err)
	}
}

// TestWorkloadRunRefusesNegativeDurations: --poll=-1s made the progress
// ticker panic mid-run.
func TestWorkloadRunRefusesNegativeDurations(t *testing.T) {
	for _, args := range [][]string{{"--poll=-1s"}, {"--stall-timeout=-1m"}, {"--batch=0"}, {"--concurrency=-3"}, {"--window=-2"}, {"--trader-wait=-1ms"}} {
		c, _, stderr := testCLI(nil)
		code := c.run(context.Background(), slices.Concat([]string{"workload", "run"}, args, []string{"no-such-file"}))
		if code != exitUsage || !strings.Contains(stderr.String(), strings.TrimLeft(strings.SplitN(args[0], "=", 2)[0], "-")) {
			t.Errorf("workload run %s: exit %d, %s; want exit 2 naming the flag", args[0], code, stderr)
		}
	}
	c, _, stderr := testCLI(nil)
	if code := c.run(context.Background(), []string{"workload", "mixed", "--window=-2", "no-such-file"}); code != exitUsage || !strings.Contains(stderr.String(), "window") {
		t.Errorf("workload mixed --window=-2: exit %d, %s; want exit 2 naming the flag", code, stderr)
	}
}

// TestTraderWaitZeroIsOff: --trader-wait 0 keeps the traders' window
// fixed; RunOptions would read a zero as its default.
func TestTraderWaitZeroIsOff(t *testing.T) {
	o := workloads.RunOptions{TraderWait: 0}
	if err := checkWindows(&o); err != nil || o.TraderWait >= 0 {
		t.Errorf("--trader-wait 0: %v, RunOptions.TraderWait %v; want negative (off)", err, o.TraderWait)
	}
}

// TestHelpInProcess: help goes to stdout and prepare reports flag.ErrHelp.
func TestHelpInProcess(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
		not  []string
	}{
		{[]string{"-h"}, []string{"usage: daytrader <command>", "workload run", "version"}, nil},
		{[]string{"help"}, []string{"usage: daytrader <command>"}, nil},
		{[]string{"help", "web"}, []string{"usage: daytrader web [flags]", "--web-addr host:port   WEB_ADDR",
			"--registration open|closed   REGISTRATION", "--trusted-proxies cidr,...   TRUSTED_PROXIES", "ADMIN_PASSWORD (environment only)",
			"--metrics-addr host:port   METRICS_ADDR"},
			[]string{"DUMP_DIR", "QUOTE_"}},
		{[]string{"quoteserver", "--help"}, []string{"QUOTE_LATENCY", "LOG_LEVEL", "LOG_FORMAT"}, []string{"DATABASE_URL", "TEMPORAL_"}},
		{[]string{"help", "workload"}, []string{"usage: daytrader workload <subcommand>", "run", "gen"}, nil},
		{[]string{"help", "workload", "gen"}, []string{"usage: daytrader workload gen [flags]", "--users"}, []string{"settings"}},
		{[]string{"workload", "run", "-h"}, []string{"usage: daytrader workload run [flags] FILE", "--embedded", `now "warn"`}, nil},
		{[]string{"dev", "-h"}, []string{"--no-worker", "--no-temporal-ui", "--temporal-http-addr host:port   TEMPORAL_HTTP_ADDR"}, nil},
		{[]string{"help", "version"}, []string{"usage: daytrader version"}, nil},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			c, stdout, stderr := testCLI(nil)
			if _, _, err := c.prepare(tc.args); !errors.Is(err, flag.ErrHelp) {
				t.Fatalf("prepare = %v, want flag.ErrHelp", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("help lacks %q:\n%s", w, stdout)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(stdout.String(), n) {
					t.Errorf("help mentions %q:\n%s", n, stdout)
				}
			}
			if stderr.Len() > 0 {
				t.Errorf("help wrote to stderr: %s", stderr)
			}
		})
	}
}

func TestFormatVersion(t *testing.T) {
	info := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}, {Key: "vcs.modified", Value: "true"}}}
	got := formatVersion(info)
	if !strings.HasPrefix(got, "daytrader v1.2.3, revision 0123abcd+modified, committed 2026-01-02T03:04:05Z, go1.26.8, ") {
		t.Errorf("formatVersion = %q", got)
	}
	info.Settings = nil
	if got := formatVersion(info); !strings.Contains(got, "revision unknown") {
		t.Errorf("formatVersion without VCS = %q, want it to say the revision is unknown", got)
	}
}

// TestEmbeddedRunListensOnFreePortsOnly: workload run --embedded binds no
// fixed port (it reads no TEMPORAL_*_ADDR setting to move one), so it runs
// beside `daytrader dev`; the HTTP API's default 127.0.0.1:7243 would not.
func TestEmbeddedRunListensOnFreePortsOnly(t *testing.T) {
	c := embeddedConfig(stack.Defaults(), "postgres://db/run", "/tmp/run")
	if c.TemporalAddress != "" || c.EmbeddedFrontend != "127.0.0.1:0" || c.TemporalUIAddr != "" ||
		c.TemporalHTTPAddr != "" || c.QuoteServerAddr != "127.0.0.1:0" || c.DatabaseURL != "postgres://db/run" || c.DataDir != "/tmp/run" {
		t.Errorf("embeddedConfig = %+v", c)
	}
}
