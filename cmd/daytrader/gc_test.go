package main

import (
	"runtime/debug"
	"testing"
)

// TestTuneStackGCSetsAndRestores checks that a process running the stack
// collects at GOGC 200 under a 900 MiB soft limit, that GOGC and
// GOMEMLIMIT set by the operator win, and that restore puts back what was.
func TestTuneStackGCSetsAndRestores(t *testing.T) {
	before, beforeLimit := debug.SetGCPercent(100), debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetGCPercent(before) })

	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	restore := tuneStackGC()
	if got, limit := debug.SetGCPercent(-1), debug.SetMemoryLimit(-1); got != 200 || limit != 900<<20 {
		t.Errorf("tuned: GOGC %d, limit %d; want 200 and %d", got, limit, 900<<20)
	}
	debug.SetGCPercent(200) // SetGCPercent(-1) above turned it off
	restore()
	if got, limit := debug.SetGCPercent(100), debug.SetMemoryLimit(-1); got != 100 || limit != beforeLimit {
		t.Errorf("restored: GOGC %d, limit %d; want 100 and %d", got, limit, beforeLimit)
	}

	t.Setenv("GOGC", "150")
	t.Setenv("GOMEMLIMIT", "2GiB")
	restore = tuneStackGC()
	if got, limit := debug.SetGCPercent(100), debug.SetMemoryLimit(-1); got != 100 || limit != beforeLimit {
		t.Errorf("with GOGC and GOMEMLIMIT set: GOGC %d, limit %d; want both left alone (100, %d)", got, limit, beforeLimit)
	}
	restore()
}
