package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// serverPackages lists the packages of the embedded Temporal server (and
// its web UI) among what `go list -deps` prints for this package built
// with tags.
func serverPackages(t *testing.T, tags string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-tags", tags, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps -tags %q: %v\n%s", tags, err, out)
	}
	var server []string
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "go.temporal.io/server") || strings.HasPrefix(pkg, "github.com/temporalio/ui-server") {
			server = append(server, pkg)
		}
	}
	return server
}

// The starter binary (make build's bin/daytrader-starter, build tag
// starter) leaves the server out: that is what keeps it small.
func TestStarterBuildLeavesTheServerOut(t *testing.T) {
	if got := serverPackages(t, ""); len(got) == 0 {
		t.Fatal("bin/daytrader lists no go.temporal.io/server package: this test would see none either")
	}
	if got := serverPackages(t, "starter"); len(got) > 0 {
		t.Errorf("the starter build imports %d server packages, among them %s", len(got), got[0])
	}
}

// Asked to run Temporal itself, the starter says it cannot and how to go
// on, before it touches anything.
func TestStarterRefusesToRunTemporal(t *testing.T) {
	starter := filepath.Join(t.TempDir(), "daytrader-starter")
	if out, err := exec.Command("go", "build", "-tags", "starter", "-o", starter, ".").CombinedOutput(); err != nil {
		t.Fatalf("building the starter: %v\n%s", err, out)
	}
	file := filepath.Join(t.TempDir(), "one.txt")
	if err := os.WriteFile(file, []byte("[1] ADD,alice,100.00\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"workload", "run", "--embedded", file}, {"dev"}, {"temporal-node", "--internal-ports", "30000"}} {
		code, _, stderr := runBinaryAt(t, starter, nil, args...)
		if code == 0 || !strings.Contains(stderr, "has no embedded Temporal server") || !strings.Contains(stderr, "TEMPORAL_ADDRESS") {
			t.Errorf("daytrader-starter %q: exit %d, stderr %q; want a failure naming the missing server and TEMPORAL_ADDRESS", args, code, stderr)
		}
	}
}
