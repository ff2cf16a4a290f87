package chaos

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/internal/stack"
	"github.com/daytradinginc/daytrader/internal/testenv"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
)

// freeAddrs returns n distinct loopback addresses nobody listens on right
// now. All listeners stay open until every port is known, so no port is
// handed out twice.
func freeAddrs(t testing.TB, n int) []string {
	t.Helper()
	addrs := make([]string, n)
	var lns []net.Listener
	for i := range addrs {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		addrs[i] = ln.Addr().String()
	}
	for _, ln := range lns {
		ln.Close()
	}
	return addrs
}

// stackConfig is where one test's DayTrader processes live: the data dir of
// embedded Temporal, fixed ports (so that a restarted stack comes back where
// its workers and clients expect it), the database and the quote prices.
type stackConfig struct {
	DataDir      string
	Frontend     string // embedded Temporal's gRPC address
	QuoteAddr    string // the legacy quote server (the emulator `dev` runs, unless a test runs its own)
	DatabaseURL  string
	QuotePrices  string // fixed prices file for the emulator; "" = seeded walk
	QuoteLatency string // "" = none
	// Frontends are every frontend of a multi-node Temporal cluster
	// (TEMPORAL_FRONTENDS); the processes then dial them instead.
	Frontends []string
	// TLS, when set, makes `temporal-node`s serve their frontends over TLS
	// with its server certificate (TEMPORAL_FRONTEND_TLS_*, the UI off) and
	// every client trust its CA through the SDK's variable
	// (TEMPORAL_TLS_SERVER_CA_CERT_PATH).
	TLS *testenv.TLSCerts
}

func newStackConfig(t testing.TB, databaseURL, pricesFile string) stackConfig {
	addrs := freeAddrs(t, 2)
	return stackConfig{
		DataDir:     filepath.Join(t.TempDir(), "data"),
		Frontend:    addrs[0],
		QuoteAddr:   addrs[1],
		DatabaseURL: databaseURL,
		QuotePrices: pricesFile,
	}
}

// env is the complete DayTrader configuration of a child process: vars are
// set, and every other setting the binary reads (stack.SettingNames) and
// every other TEMPORAL_* variable (the SDK's: TLS, API key, profile) is
// removed so it takes its default: nothing leaks in from the test's own
// environment (a developer's TEMPORAL_ADDRESS or TEMPORAL_PROFILE must not
// send a chaos worker to someone else's server).
func (c stackConfig) env(temporalAddress string) []string {
	vars := c.vars(temporalAddress)
	settings := map[string]bool{}
	for _, name := range stack.SettingNames() {
		settings[name] = true
	}
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !has(vars, k) && !settings[k] && !strings.HasPrefix(k, "TEMPORAL_") {
			env = append(env, kv)
		}
	}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

// vars are the variables env sets. The SDK's config file is one that does
// not exist, so this machine's default profile does not count either.
func (c stackConfig) vars(temporalAddress string) map[string]string {
	latency := c.QuoteLatency
	if latency == "" {
		latency = "none"
	}
	vars := map[string]string{
		"TEMPORAL_CONFIG_FILE":   filepath.Join(c.DataDir, "no-temporal-config.toml"),
		"TEMPORAL_ADDRESS":       temporalAddress,
		"TEMPORAL_FRONTENDS":     strings.Join(c.Frontends, ","),
		"TEMPORAL_NAMESPACE":     "default",
		"TEMPORAL_FRONTEND_ADDR": c.Frontend,
		"TEMPORAL_UI_ADDR":       "127.0.0.1:0",
		"TEMPORAL_HTTP_ADDR":     "", // off: a running `make run` holds the default port
		"TEMPORAL_UI_URL":        "",
		"DATABASE_URL":           c.DatabaseURL,
		"QUOTE_SERVER_ADDR":      c.QuoteAddr,
		"QUOTE_LATENCY":          latency,
		"QUOTE_SEED":             "468",
		"QUOTE_PRICES":           c.QuotePrices,
		"WEB_ADDR":               "127.0.0.1:0",
		"METRICS_ADDR":           "",
		"DATA_DIR":               c.DataDir,
		"DUMP_DIR":               "",
		"SERVER_NAME":            "chaos",
		"ADMIN_USER":             "",
		"ADMIN_PASSWORD":         "",
		"TASK_QUEUE":             "daytrader",
		"LOG_LEVEL":              "info",
	}
	if c.TLS != nil {
		vars["TEMPORAL_FRONTEND_TLS_CERT_PATH"] = c.TLS.ServerCertFile
		vars["TEMPORAL_FRONTEND_TLS_KEY_PATH"] = c.TLS.ServerKeyFile
		vars["TEMPORAL_FRONTEND_TLS_CA_PATH"] = c.TLS.CAFile
		vars["TEMPORAL_UI_ADDR"] = "" // a node serves TLS on its gRPC frontend alone
		vars["TEMPORAL_TLS_SERVER_CA_CERT_PATH"] = c.TLS.CAFile
	}
	return vars
}

// process is one running daytrader process.
type process struct {
	name string
	cmd  *exec.Cmd
	out  *output
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, once done
}

// startDev runs `daytrader dev --no-web [extra flags]` and waits until it
// serves. noWorker leaves the workflows to separate `daytrader worker`s.
func startDev(t testing.TB, c stackConfig, noWorker bool) *process {
	t.Helper()
	args := []string{"dev", "--no-web"}
	if noWorker {
		args = append(args, "--no-worker")
	}
	p := startProcess(t, "dev", c.env(""), "DayTrader is running", args...)
	return p
}

// startWorker runs `daytrader worker` against the stack's Temporal.
func startWorker(t testing.TB, c stackConfig, name string) *process {
	t.Helper()
	return startProcess(t, name, c.env(c.Frontend), "worker running", "worker")
}

func startProcess(t testing.TB, name string, env []string, readyMarker string, args ...string) *process {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	p := &process{name: name, out: newOutput(f, readyMarker), done: make(chan struct{})}
	p.cmd = exec.Command(daytraderBinary(t), args...)
	p.cmd.Env = env
	dieWithTest(p.cmd)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if !p.exited() {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	select {
	case <-p.out.ready:
	case <-p.done:
		t.Fatalf("%s exited before it was ready (%v):\n%s", name, p.err, p.out.tail())
	case <-time.After(2 * time.Minute):
		t.Fatalf("%s not ready after 2 minutes:\n%s", name, p.out.tail())
	}
	return p
}

// logged reports whether the process's log so far has a line holding msg
// and the key=value field (a whole field: a path may hold the same text).
func (p *process) logged(msg, field string) bool {
	raw, err := os.ReadFile(p.out.file.Name())
	return err == nil && slices.ContainsFunc(strings.Split(string(raw), "\n"), func(line string) bool {
		return strings.Contains(line, msg) && slices.Contains(strings.Fields(line), field)
	})
}

// runToExit runs `daytrader args...`, which must exit within timeout (it
// is killed then), and returns its output and exit status.
func runToExit(t testing.TB, name string, env []string, timeout time.Duration, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, daytraderBinary(t), args...)
	cmd.Env = env
	dieWithTest(cmd)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Errorf("%s still running after %v: killed", name, timeout)
	}
	return string(out), err
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL: the process gets no chance to clean up, as in a crash.
func (p *process) kill(t testing.TB) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 %s: %v", p.name, err)
	}
	<-p.done
}

// stop sends SIGTERM and waits for a clean exit.
func (p *process) stop(t testing.TB) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM %s: %v", p.name, err)
	}
	select {
	case <-p.done:
		if p.err != nil {
			t.Errorf("%s exited with %v after SIGTERM:\n%s", p.name, p.err, p.out.tail())
		}
	case <-time.After(time.Minute):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("%s did not stop within a minute of SIGTERM:\n%s", p.name, p.out.tail())
	}
}

// output copies a process's output to its log file, keeps the last lines
// for failure messages, and closes ready when a line contains the marker.
type output struct {
	mu      sync.Mutex
	file    *os.File
	partial []byte
	last    []string
	marker  string
	ready   chan struct{}
	seen    bool
}

func newOutput(f *os.File, marker string) *output {
	return &output{file: f, marker: marker, ready: make(chan struct{})}
}

func (o *output) Write(b []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	_, _ = o.file.Write(b)
	o.partial = append(o.partial, b...)
	for {
		i := bytes.IndexByte(o.partial, '\n')
		if i < 0 {
			break
		}
		line := string(o.partial[:i])
		o.partial = o.partial[i+1:]
		if !o.seen && strings.Contains(line, o.marker) {
			o.seen = true
			close(o.ready)
		}
		o.last = append(o.last, line)
		if len(o.last) > 40 {
			o.last = o.last[len(o.last)-40:]
		}
	}
	return len(b), nil
}

func (o *output) tail() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return strings.Join(o.last, "\n") + "\n" + string(o.partial) + "\n(whole log: " + o.file.Name() + ")"
}

// dialTemporal connects the test to the stack's Temporal frontend (a
// cluster's test dials as its processes do: dialCluster).
func dialTemporal(t testing.TB, addr string) client.Client {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	opts := client.Options{HostPort: addr, Namespace: "default", Logger: sdklog.NewStructuredLogger(quiet)}
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		t.Fatalf("dialing Temporal at %s: %v", addr, err)
	}
	t.Cleanup(c.Close)
	return c
}

// postgresCluster is a PostgreSQL cluster of the test's own, run with
// scripts/postgres.sh on a free port, so a test can stop it without touching
// the shared cluster every other test uses.
type postgresCluster struct {
	script string
	env    []string
	URL    string
}

func startPostgresCluster(t testing.TB) *postgresCluster {
	t.Helper()
	// Not t.TempDir: the server runs as user postgres, which must be able
	// to enter the parent directory (t.TempDir's are private to root).
	dir, err := os.MkdirTemp("", "daytrader-chaos-pg-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	port := strings.TrimPrefix(freeAddrs(t, 1)[0], "127.0.0.1:")
	pg := &postgresCluster{
		script: filepath.Join(repoRoot(t), "scripts", "postgres.sh"),
		env:    append(os.Environ(), "PGDATA_DIR="+filepath.Join(dir, "pgdata"), "POSTGRES_PORT="+port),
		URL:    fmt.Sprintf("postgres://postgres@127.0.0.1:%s/daytrader?sslmode=disable", port),
	}
	t.Cleanup(func() {
		pg.run(t, "stop")
		_ = os.RemoveAll(dir)
	})
	pg.run(t, "start")
	return pg
}

// run runs scripts/postgres.sh with the cluster's PGDATA_DIR and port.
func (pg *postgresCluster) run(t testing.TB, verb string) {
	t.Helper()
	cmd := exec.Command(pg.script, verb)
	cmd.Env = pg.env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("postgres.sh %s: %v\n%s", verb, err, out)
	}
}

func has[V any](m map[string]V, k string) bool { _, ok := m[k]; return ok }
