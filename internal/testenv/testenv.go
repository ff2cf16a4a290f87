// Package testenv gives tests the real parts they run against: one embedded
// Temporal server per test binary, and the ../shared directory (databases
// come from internal/testdb).
//
// A package whose tests use TemporalServer should stop it when the tests
// end, so that its temporary data dir is removed:
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		testenv.Cleanup()
//		os.Exit(code)
//	}
//
// Without that the server still ends with the test process (it runs inside
// it); only its data dir under os.TempDir is left behind.
package testenv

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/daytradinginc/daytrader/temporal"
)

var shared struct {
	once    sync.Once
	server  *temporal.Server
	dataDir string
	err     error
	mu      sync.Mutex // guards stopping against a concurrent start
}

// TemporalServer returns the test binary's embedded Temporal server,
// starting it on first use: a temporary data dir, free ports, no web UI,
// namespace "default". Tests share it, so they must use workflow IDs and
// task queues of their own (e.g. derived from t.Name()).
func TemporalServer(t testing.TB) *temporal.Server {
	t.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	shared.once.Do(func() {
		shared.dataDir, shared.err = os.MkdirTemp("", "daytrader-temporal-test-")
		if shared.err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		shared.server, shared.err = temporal.Start(ctx, temporal.Options{
			DataDir:      shared.dataDir,
			FrontendAddr: "127.0.0.1:0",
		})
	})
	if shared.err != nil {
		t.Fatalf("testenv: start Temporal server: %v", shared.err)
	}
	if shared.server == nil {
		t.Fatal("testenv: TemporalServer called after Cleanup")
	}
	return shared.server
}

// TemporalClient returns a client of the shared server's namespace, closed
// when the test ends.
func TemporalClient(t testing.TB) client.Client {
	t.Helper()
	srv := TemporalServer(t)
	c, err := client.Dial(client.Options{
		HostPort:  srv.FrontendAddr(),
		Namespace: srv.Namespace(),
		// The SDK logs every worker start and stop at info.
		Logger: sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))),
	})
	if err != nil {
		t.Fatalf("testenv: dial Temporal: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// Cleanup stops the shared Temporal server, if one was started, and
// removes its data dir. Call it from TestMain after m.Run.
func Cleanup() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.server != nil {
		if err := shared.server.Stop(); err != nil {
			slog.Warn("testenv: stop Temporal server", "err", err)
		}
		shared.server = nil
	}
	if shared.dataDir != "" {
		_ = os.RemoveAll(shared.dataDir)
		shared.dataDir = ""
	}
}

// SharedDir is ../shared beside the repository: the spec (logfile.xsd) and
// the course workload files, which stay outside the repo. CI clones the
// repository with shared/ beside it; a test that needs it fails clearly
// when it is missing.
func SharedDir(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "..", "shared")
	if _, err := os.Stat(filepath.Join(dir, "spec", "logfile.xsd")); err != nil {
		t.Fatalf("../shared is not beside the repository: %v", err)
	}
	return dir
}
