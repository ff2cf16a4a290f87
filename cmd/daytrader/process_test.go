package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/internal/testdb"
)

// daytrader is the binary TestMain builds once for the process tests.
var daytrader string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "daytrader-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	daytrader = filepath.Join(dir, "daytrader")
	if out, err := exec.Command("go", "build", "-o", daytrader, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building daytrader: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// isolated is the environment of a process test: should a command start
// when it ought to refuse, it binds only free ports, writes into a
// temporary directory and fails at its unreachable database.
func isolated(t *testing.T) []string {
	return []string{"PATH=" + os.Getenv("PATH"), "DATA_DIR=" + t.TempDir(),
		"TEMPORAL_FRONTEND_ADDR=127.0.0.1:0", "TEMPORAL_UI_ADDR=127.0.0.1:0", "TEMPORAL_HTTP_ADDR=",
		"WEB_ADDR=127.0.0.1:0", "QUOTE_SERVER_ADDR=127.0.0.1:0", "DATABASE_URL=postgres://127.0.0.1:1/none"}
}

// runBinary runs the built binary with env added to isolated(t). A
// command that wrongly starts is killed after 20 s.
func runBinary(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runBinaryAt(t, daytrader, env, args...)
}

// runBinaryAt is runBinary with another binary: bin, built from this package.
func runBinaryAt(t *testing.T, bin string, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(isolated(t), env...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		code = exit.ExitCode()
	default:
		t.Fatalf("running daytrader %q: %v", args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("daytrader %q did not exit by itself: it started instead of refusing", args)
	}
	return code, out.String(), errOut.String()
}

// TestHelpAndVersionExitZero: before, -h was an "unknown command" (exit 2).
func TestHelpAndVersionExitZero(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-h"}, "usage: daytrader <command>"},
		{[]string{"--help"}, "usage: daytrader <command>"},
		{[]string{"help"}, "usage: daytrader <command>"},
		{[]string{"help", "web"}, "usage: daytrader web [flags]"},
		{[]string{"help", "workload", "run"}, "usage: daytrader workload run [flags] FILE"},
		{[]string{"web", "-h"}, "usage: daytrader web [flags]"},
		{[]string{"summary", "--help"}, "usage: daytrader summary [flags] USER"},
		{[]string{"workload", "--help"}, "usage: daytrader workload <subcommand>"},
		{[]string{"version"}, "daytrader "},
		{[]string{"--version"}, "daytrader "},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := runBinary(t, nil, tc.args...)
			if code != 0 || !strings.HasPrefix(stdout, tc.want) || stderr != "" {
				t.Errorf("exit %d, stdout %.200q, stderr %q; want exit 0 and stdout starting %q", code, stdout, stderr, tc.want)
			}
		})
	}
	_, stdout, _ := runBinary(t, nil, "version")
	if !strings.Contains(stdout, runtime.Version()) {
		t.Errorf("version %q does not name the Go version %s", stdout, runtime.Version())
	}
}

// TestUsageErrorsExitTwo: the process refuses bad invocations at start
// with exit code 2 and one line naming the mistake.
func TestUsageErrorsExitTwo(t *testing.T) {
	for _, tc := range []struct {
		env  []string
		args []string
		want string // stderr's last line
	}{
		{nil, nil, "daytrader: missing command"},
		{nil, []string{"bogus"}, `daytrader: unknown command "bogus" (daytrader -h lists the commands)`},
		{nil, []string{"help", "bogus"}, `daytrader help: unknown command "bogus" (daytrader -h lists the commands)`},
		{nil, []string{"web", "--dump-dir", "x"},
			"daytrader web: unknown flag --dump-dir: web does not take it; `daytrader web -h` lists its flags"},
		{[]string{"SECURE_COOKIES=yes"}, []string{"dev"}, `daytrader dev: SECURE_COOKIES="yes": want true or false`},
		{[]string{"QUOTE_SEED=abc"}, []string{"quoteserver"},
			`daytrader quoteserver: QUOTE_SEED="abc": want an integer`},
		{[]string{"LOG_LEVEL=verbose"}, []string{"dev", "--no-web"}, `daytrader dev: LOG_LEVEL="verbose": want debug, info, warn or error`},
	} {
		t.Run(strings.Join(append(tc.env, tc.args...), " "), func(t *testing.T) {
			code, stdout, stderr := runBinary(t, tc.env, tc.args...)
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if code != exitUsage || lines[len(lines)-1] != tc.want {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 2 and the last line\n%s", code, stderr, tc.want)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
		})
	}
}

// TestDevServesWhatItsSettingsSay: TEMPORAL_UI_ADDR= (set, empty) means no
// UI (before, empty fell back to 127.0.0.1:8233), and the banner names the
// Temporal HTTP API, which answers.
func TestDevServesWhatItsSettingsSay(t *testing.T) {
	cmd := exec.Command(daytrader, "dev", "--no-web", "--no-worker")
	cmd.Env = append(isolated(t), "DATABASE_URL="+testdb.URL(t), "TEMPORAL_UI_ADDR=", "TEMPORAL_HTTP_ADDR=127.0.0.1:0",
		"QUOTE_LATENCY=none", "LOG_LEVEL=warn")
	banner := startForBanner(t, cmd)
	if got := banner["Temporal web UI"]; got != "-" {
		t.Errorf("Temporal web UI %q with TEMPORAL_UI_ADDR empty, want -", got)
	}
	httpURL := banner["Temporal HTTP API"]
	if !strings.HasPrefix(httpURL, "http://127.0.0.1:") {
		t.Fatalf("Temporal HTTP API %q, want http://127.0.0.1:<port>", httpURL)
	}
	resp, err := http.Get(httpURL + "/api/v1/namespaces/default")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s/api/v1/namespaces/default: %s", httpURL, resp.Status)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("dev after SIGTERM: %v", err)
	}
}

// startForBanner starts cmd and returns the "name   value" lines of the
// banner `daytrader dev` prints once it runs.
func startForBanner(t *testing.T, cmd *exec.Cmd) map[string]string {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	banner := make(chan map[string]string, 1)
	go func() {
		lines := map[string]string{}
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if name, value, ok := strings.Cut(strings.TrimSpace(sc.Text()), "  "); ok {
				lines[name] = strings.TrimSpace(value)
			}
			if strings.HasPrefix(strings.TrimSpace(sc.Text()), "DUMPLOG files") {
				break
			}
		}
		banner <- lines
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case b := <-banner:
		if _, ok := b["DUMPLOG files"]; !ok {
			t.Fatalf("dev exited before its banner: %s", stderr.String())
		}
		return b
	case <-time.After(2 * time.Minute):
		t.Fatalf("no banner after 2 minutes: %s", stderr.String())
	}
	return nil
}

// TestHostileUserIDsAreRefusedAtOnce: `summary` and `user` with a user id
// no account can have say so and exit non-zero before reaching Temporal or
// Postgres (both unreachable here, so a dial would fail differently).
func TestHostileUserIDsAreRefusedAtOnce(t *testing.T) {
	hostile := map[string]string{"non-ASCII": "böb", "control": "bo\x01b", "path": "../x",
		"empty": "", "1 KB": strings.Repeat("a", 1024)}
	for name, user := range hostile {
		for _, cmd := range []string{"summary", "user"} {
			t.Run(cmd+" "+name, func(t *testing.T) {
				code, _, stderr := runBinary(t, []string{"TEMPORAL_ADDRESS=127.0.0.1:1", "DAYTRADER_PASSWORD=long enough"}, cmd, user)
				if code == 0 || !strings.Contains(stderr, "1 to 64 letters") || strings.Contains(stderr, "connect") || len(stderr) > 300 {
					t.Errorf("daytrader %s %.20q: exit %d, stderr %q; want a short refusal naming the rule, before any connection", cmd, user, code, stderr)
				}
			})
		}
	}
}
