package chaos

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/daytradinginc/daytrader/internal/testenv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.Cleanup()
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// repoRoot is the repository's top directory.
func repoRoot(t testing.TB) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the chaos package's source")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// built is the daytrader binary, compiled once per test binary by the first
// test that needs it, so tests that run no process (the SQL check) pay
// nothing.
var built struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// daytraderBinary returns the path of a freshly built daytrader binary.
func daytraderBinary(t testing.TB) string {
	t.Helper()
	built.once.Do(func() {
		built.dir, built.err = os.MkdirTemp("", "daytrader-chaos-bin-")
		if built.err != nil {
			return
		}
		built.path = filepath.Join(built.dir, "daytrader")
		cmd := exec.Command("go", "build", "-o", built.path, "./cmd/daytrader")
		cmd.Dir = repoRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build ./cmd/daytrader: %v\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.path
}

// Sizes of the scenarios. The defaults keep every scenario well under a
// minute on two cores; the environment makes them bigger.
const (
	defaultUsers = 20
	defaultLines = 3000
	defaultKills = 1
)

// knob reads a positive integer setting from the environment.
func knob(t testing.TB, name string, def int) int {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q must be a positive integer", name, s)
	}
	return n
}

// size is the generated workload of a scenario.
type size struct {
	Users, Lines int
	Seed         int64
}

// scenarioSize reads CHAOS_USERS, CHAOS_LINES and CHAOS_SEED. A size above
// the defaults is a heavy variant, which -short skips.
func scenarioSize(t testing.TB) size {
	t.Helper()
	return scenarioSizeOr(t, size{Users: defaultUsers, Lines: defaultLines})
}

// scenarioSizeOr is scenarioSize for a scenario with defaults of its own.
func scenarioSizeOr(t testing.TB, def size) size {
	t.Helper()
	s := size{
		Users: knob(t, "CHAOS_USERS", def.Users),
		Lines: knob(t, "CHAOS_LINES", def.Lines),
		Seed:  int64(knob(t, "CHAOS_SEED", 1)),
	}
	if testing.Short() && (s.Users > def.Users || s.Lines > def.Lines) {
		t.Skipf("heavy variant (CHAOS_USERS=%d CHAOS_LINES=%d) skipped in -short mode", s.Users, s.Lines)
	}
	return s
}
