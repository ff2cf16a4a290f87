package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestMakeBenchKeepsItsDump: make bench runs with --dump-dir under
// artifacts/, outside the run's temporary data dir, so its DUMPLOG outlives
// the run (before, it was written into the data dir and deleted with it).
func TestMakeBenchKeepsItsDump(t *testing.T) {
	mk, err := os.ReadFile(filepath.Join("..", "..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	recipe := regexp.MustCompile(`(?m)^bench:.*\n((?:\t.*\n)+)`).FindSubmatch(mk)
	if recipe == nil {
		t.Fatal("no bench target in the Makefile")
	}
	cmd := strings.ReplaceAll(string(recipe[1]), "\\\n", " ")
	if !strings.Contains(cmd, "workload run --embedded") || !strings.Contains(cmd, "--dump-dir $(CURDIR)/artifacts/bench") {
		t.Errorf("make bench runs %q: want workload run --embedded with --dump-dir $(CURDIR)/artifacts/bench", cmd)
	}
}

// TestEmbeddedCloseKeepsDumpsOutsideTheDataDir: the end of an embedded run
// removes its data dir; DUMPLOG files in a --dump-dir outside it stay and
// the run's last line says where, those inside go and it says so.
func TestEmbeddedCloseKeepsDumpsOutsideTheDataDir(t *testing.T) {
	write := func(dir string) string {
		t.Helper()
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "dump.xml")
		if err := os.WriteFile(path, []byte("<log/>"), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, outside := range []bool{true, false} {
		data := filepath.Join(t.TempDir(), "daytrader-workload-1")
		dumps := filepath.Join(data, "dumps")
		if outside {
			dumps = filepath.Join(t.TempDir(), "artifacts", "bench")
		}
		dump := write(dumps)
		var said strings.Builder
		env := &embeddedEnv{dataDir: data, dumps: dumps, logger: logger, stderr: &said}
		env.close()
		if _, err := os.Stat(data); !os.IsNotExist(err) {
			t.Errorf("outside %v: the data dir is still there (%v)", outside, err)
		}
		_, err := os.Stat(dump)
		if kept := err == nil; kept != outside {
			t.Errorf("outside %v: the DUMPLOG kept = %v", outside, kept)
		}
		want := "removed the run's data dir and its DUMPLOG files"
		if outside {
			want = "DUMPLOG files kept in " + dumps
		}
		if !strings.Contains(said.String(), want) {
			t.Errorf("outside %v: said %q, want %q", outside, said.String(), want)
		}
	}
}
