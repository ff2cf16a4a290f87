package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/internal/probe"
	"github.com/daytradinginc/daytrader/internal/stack"
	"github.com/daytradinginc/daytrader/workloads"
)

// TestWorkloadMixedReportsBothSides runs the mixed benchmark for real
// (embedded Temporal, Postgres, the web UI over HTTP) on a small workload:
// the idle trader sends exactly --count quotes; under the workload the bulk
// report counts every workload command (the traders' commands are not taken
// for the workload's) and the trader got answers.
func TestWorkloadMixedReportsBothSides(t *testing.T) {
	file := generatedWorkload(t, workloads.GenOptions{Users: 8, Lines: 3000, Seed: 11})
	cfg := stack.FromEnv()
	cfg.LogLevel, cfg.QuoteLatency = "warn", "none"
	f := &mixedFlags{opts: workloads.RunOptions{BatchSize: 200, Concurrency: 64}, traders: 3, count: 5,
		symbol: "ABC", asJSON: true, isolate: false}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var out bytes.Buffer
	if err := workloadMixed(ctx, cfg, f, []string{"alone", "idle", "many"}, file, &out); err != nil {
		t.Fatal(err)
	}
	var res []mixedResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(res) != 3 {
		t.Fatalf("%d results, want 3:\n%s", len(res), out.String())
	}
	alone, idle, many := res[0], res[1], res[2]
	if alone.Probe != nil || alone.Workload == nil || alone.Rate <= 0 {
		t.Errorf("alone: want a workload report and no probe, got %+v", alone)
	}
	if idle.Workload != nil || idle.Probe == nil || idle.Probe.Count != 5 || idle.Probe.Errors != 0 || idle.Probe.P50ms <= 0 {
		t.Errorf("idle: want 5 answered quotes and no workload, got %+v", idle)
	}
	if many.Workload == nil || many.Workload.Processed != many.Workload.Commands || many.Workload.Commands != 2999 {
		t.Errorf("many: the workload's 2999 commands processed, got %+v", many.Workload)
	}
	if many.Probe == nil || many.Probe.Traders != 3 || many.Probe.Count < 1 || many.Probe.Errors != 0 || many.Ratio <= 0 {
		t.Errorf("many: want 3 traders' answers and a ratio to alone, got %+v ratio %v", many.Probe, many.Ratio)
	}
	// Every answered quote is one update in the histories, each stage timed.
	for _, r := range []mixedResult{idle, many} {
		if r.Probe == nil || r.Stages == nil || r.Stages.Updates != r.Probe.Count {
			t.Errorf("%s: stages %+v, want one update per answered quote", r.Scenario, r.Stages)
			continue
		}
		for _, name := range probe.Stages {
			if l, ok := r.Stages.Stages[name]; !ok || l.P50ms < 0 || l.MaxMs < l.P50ms || l.MaxMs > 60_000 {
				t.Errorf("%s: stage %q %+v (present %v)", r.Scenario, name, l, ok)
			}
		}
	}
	if alone.Stages != nil {
		t.Errorf("alone: stages %+v without traders", alone.Stages)
	}
}

// The late trader arrives while the workload runs: its first command's
// wait is reported, then its quotes, each one update in its history. Here
// --arrive and --think are an hour, far longer than the workload: the
// trader still comes in at half of its commands and sends its first at
// three quarters, so that a machine that runs the file faster than
// expected still measures a trader meeting it (the last quarter of the
// workload long enough for the setup and a few quotes on a fast machine:
// with 20,000 lines 2 runs in 20 got none).
func TestWorkloadMixedLateTrader(t *testing.T) {
	file := generatedWorkload(t, workloads.GenOptions{Users: 8, Lines: 60_000, Seed: 11})
	cfg := stack.FromEnv()
	cfg.LogLevel, cfg.QuoteLatency = "warn", "none"
	f := &mixedFlags{opts: workloads.RunOptions{BatchSize: 200, Concurrency: 64}, count: 5, symbol: "ABC", asJSON: true,
		arrive: time.Hour, think: time.Hour}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var out bytes.Buffer
	if err := workloadMixed(ctx, cfg, f, []string{"late"}, file, &out); err != nil {
		t.Fatal(err)
	}
	var res []mixedResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || len(res) != 1 {
		t.Fatalf("%v: want one result:\n%s", err, out.String())
	}
	late := res[0]
	if late.Workload == nil || late.Workload.Processed != 59_999 || late.Rate <= 0 || late.FirstMs <= 0 {
		t.Errorf("late: want the workload's 59,999 commands processed and the first command's wait, got %+v", late)
	}
	// At three quarters, long before --think (at once when the workload
	// got there while the trader signed in).
	if late.ThinkMs < 0 || late.ThinkMs >= float64(time.Minute.Milliseconds()) {
		t.Errorf("late: on the dashboard %.1f ms before the first command; want less than a minute (--think is an hour)", late.ThinkMs)
	}
	if p := late.Probe; p == nil || p.Traders != 1 || p.Count < 1 || p.Errors != 0 || late.Stages == nil || late.Stages.Updates != p.Count {
		t.Errorf("late: want one trader's answered quotes, one update each; probe %+v stages %+v", p, late.Stages)
	}
}

// A late trader who would arrive after the workload is done is an error
// that says what to change, not a scenario without a trader: also when the
// workload's progress cues came with its end.
func TestLateTraderAfterTheWorkloadIsAnError(t *testing.T) {
	done := make(chan struct{})
	close(done)
	cued := newLateCues()
	cued.counted(10, 10)
	for name, cues := range map[string]*lateCues{"no cue": newLateCues(), "cued": cued} {
		_, _, _, err := arriveLate(context.Background(), "http://127.0.0.1:1", &mixedFlags{arrive: time.Hour, think: time.Hour}, cues, done)
		if err == nil || !strings.Contains(err.Error(), "workload was done before the late trader's first command") {
			t.Errorf("%s: arriveLate after the workload: %v; want an error saying the workload was done", name, err)
		}
	}
}

// The late trader's cues close at half and at three quarters of the
// workload's commands, once each.
func TestLateCuesFollowTheWorkload(t *testing.T) {
	c := newLateCues()
	closed := func(ch chan struct{}) bool {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
	for _, step := range []struct {
		processed    int64
		arrive, send bool
	}{{0, false, false}, {49, false, false}, {50, true, false}, {74, true, false}, {75, true, true}, {100, true, true}} {
		c.counted(step.processed, 100)
		if closed(c.arrive) != step.arrive || closed(c.send) != step.send {
			t.Errorf("after %d of 100: arrive %v, send %v; want %v, %v", step.processed, closed(c.arrive), closed(c.send), step.arrive, step.send)
		}
	}
}
