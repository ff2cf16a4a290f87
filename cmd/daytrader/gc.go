package main

import (
	"os"
	"runtime/debug"
)

// The garbage collector's settings for a process that runs the stack
// (embedded Temporal, worker, web): GC was about a quarter of the CPU of the
// 1,000,000-command run with Go's defaults (GOGC 100, no limit). Collecting
// at three times the live heap instead of two, under a soft limit that keeps
// the whole process inside its memory target, took 0.87 of the CPU (three
// pairs, README "The seed's size"); GOGC 400 without a limit took 2.8 GiB.
// The limit was 1,300 MiB; at 900 the 1M run peaks under 1 GiB (991-1,011
// MiB against 1,238-1,344), its live heap being about 400 MB. Alone that
// cost about 5 % more CPU; with two copies gone at the same time (one a
// command, one a batch: README "Under 1 GiB") it took no more than before.
const (
	stackGCPercent      = 200
	stackMemoryLimitMiB = 900
)

// tuneStackGC applies stackGCPercent and stackMemoryLimitMiB unless
// GOGC or GOMEMLIMIT set the process's own, and returns what puts the
// previous settings back.
func tuneStackGC() (restore func()) {
	percent, limit := int(-2), int64(-1) // -2: left alone; SetMemoryLimit(-1) only reads
	if os.Getenv("GOGC") == "" {
		percent = debug.SetGCPercent(stackGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		limit = debug.SetMemoryLimit(stackMemoryLimitMiB << 20)
	}
	return func() {
		if percent != -2 {
			debug.SetGCPercent(percent)
		}
		if limit >= 0 {
			debug.SetMemoryLimit(limit)
		}
	}
}
