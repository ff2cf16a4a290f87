package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/daytradinginc/daytrader/internal/ceiling"
	"github.com/daytradinginc/daytrader/internal/stack"
	"github.com/daytradinginc/daytrader/workloads"
	sdkworker "go.temporal.io/sdk/worker"
)

func workloadCeilingSpec() *spec {
	return &spec{name: "workload ceiling", summary: "send FILE as `workload run --embedded` would, to workflows that only count: the transport's ceiling",
		args: "FILE", nargs: 1,
		about: "Starts a fresh embedded stack and sends FILE's commands in the same batches, concurrency and signal\n" +
			"payloads as `workload run`, each user's to a workflow that only counts them; reports commands/s from\n" +
			"the first send until every workflow has counted its last command. No rules, quotes or audit run, so\n" +
			"this is the most the stack's Temporal can carry; `workload run`'s rate is read as a share of it.",
		settings: mixedSettings(), // embedded only, as workload mixed
		defaults: func(c *stack.Config) { c.LogLevel = "warn" },
		flags:    workloadCeilingFlags}
}

type ceilingFlags struct {
	opts   workloads.RunOptions
	asJSON bool
}

func workloadCeilingFlags(fs *flag.FlagSet) runFunc {
	f := &ceilingFlags{}
	fs.IntVar(&f.opts.BatchSize, "batch", workloads.DefaultBatchSize, "commands of one user per signal (at least 1)")
	fs.IntVar(&f.opts.Concurrency, "concurrency", 64, "signals sent at the same time (at least 1)")
	fs.BoolVar(&f.asJSON, "json", false, "print the report as JSON")
	return func(ctx context.Context, cfg stack.Config, args []string) error {
		if f.opts.BatchSize < 1 || f.opts.Concurrency < 1 {
			return usagef("--batch (%d) and --concurrency (%d) must be at least 1", f.opts.BatchSize, f.opts.Concurrency)
		}
		return workloadCeiling(ctx, cfg, f, args[0])
	}
}

func workloadCeiling(ctx context.Context, cfg stack.Config, f *ceilingFlags, file string) error {
	rep, err := runCeiling(ctx, cfg, f.opts, file)
	if err != nil {
		return err
	}
	if f.asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	_, err = fmt.Printf("ceiling    %s\ncommands   %d from %d users in %d batches (batch size %d, %d signals at a time)\n"+
		"counted    in %.2f s: %.0f commands/s (first send to the last workflow done)\n"+
		"memory     peak RSS %.0f MiB (this process: the stack and the starter)\n",
		rep.File, rep.Commands, rep.Users, rep.Batches, f.opts.BatchSize, f.opts.Concurrency, rep.WallSeconds, rep.CommandsPerSecond,
		rep.PeakRSSMiB)
	return err
}

// runCeiling runs file's ceiling on a fresh embedded stack with a worker
// of its own for the counting workflows.
func runCeiling(ctx context.Context, cfg stack.Config, opts workloads.RunOptions, file string) (*ceiling.Report, error) {
	src, parseErrs, err := workloads.OpenFile(file, false)
	if err != nil {
		return nil, err
	}
	if len(parseErrs) > 0 {
		fmt.Fprintf(os.Stderr, "%s: %d malformed lines left out, the first: %v\n", file, len(parseErrs), parseErrs[0])
	}
	env, err := startEmbedded(ctx, cfg, false, cfg.Logger(), stack.DevOptions{NoWeb: true})
	if err != nil {
		return nil, err
	}
	defer env.close()
	w := sdkworker.New(env.dev.Client, ceiling.TaskQueue, sdkworker.Options{})
	ceiling.Register(w)
	if err := w.Start(); err != nil {
		return nil, err
	}
	defer w.Stop()
	opts.File = file
	rep, err := ceiling.Run(ctx, env.dev.Client, src, opts)
	if err != nil {
		return nil, err
	}
	rep.PeakRSSMiB = peakRSSMiB()
	return rep, nil
}
