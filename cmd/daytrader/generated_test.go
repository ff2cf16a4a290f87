package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/daytradinginc/daytrader/workloads"
)

// generatedWorkload writes a synthetic workload of the course's command mix
// into the test's temporary directory and returns its path.
func generatedWorkload(t *testing.T, opts workloads.GenOptions) string {
	t.Helper()
	var wl bytes.Buffer
	if err := workloads.Generate(&wl, opts); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "generated.txt")
	if err := os.WriteFile(file, wl.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}
