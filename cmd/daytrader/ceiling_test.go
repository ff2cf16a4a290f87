package main

import (
	"context"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/internal/stack"
	"github.com/daytradinginc/daytrader/workloads"
)

// TestCeilingCountsEveryCommand: `workload ceiling` sends a file to the
// counting workflows of a fresh embedded stack and reports every command
// counted (ceiling.Run checks each workflow's count against the file).
func TestCeilingCountsEveryCommand(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	file := generatedWorkload(t, workloads.GenOptions{Users: 4, Lines: 400, Seed: 3})
	cfg := stack.FromEnv()
	cfg.LogLevel, cfg.QuoteLatency = "warn", "none"
	rep, err := runCeiling(ctx, cfg, workloads.RunOptions{BatchSize: 30, Concurrency: 3}, file)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Commands != 399 || rep.Users != 4 || rep.Batches < 399/30 || rep.CommandsPerSecond <= 0 || rep.PeakRSSMiB <= 0 {
		t.Errorf("report %+v: want 399 commands of 4 users in at least 13 batches, a rate and a peak RSS", rep)
	}
}
