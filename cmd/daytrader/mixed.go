package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/internal/probe"
	"github.com/daytradinginc/daytrader/internal/stack"
	"github.com/daytradinginc/daytrader/workflows"
	"github.com/daytradinginc/daytrader/workloads"
)

// `daytrader workload mixed` measures what a bulk workload does to the
// traders using the web UI at the same time (issue 11): every scenario runs
// on a fresh embedded stack (startEmbedded, as `workload run --embedded`)
// with the web UI on a real listener.

// mixedScenarios are the scenarios in the order they run: the workload
// alone (the bulk rate without traders), one trader on an idle stack, one
// trader under the workload, many traders under the workload, one trader
// who arrives while the workload runs.
var mixedScenarios = []string{"alone", "idle", "one", "many", "late"}

type mixedFlags struct {
	opts      workloads.RunOptions
	traders   int
	count     int
	symbol    string
	scenarios string
	asJSON    bool
	isolate   bool
	// arrive and think are the late trader's: when it signs in after the
	// workload starts, and how long it looks at the dashboard before its
	// first command.
	arrive, think time.Duration
}

func workloadMixedSpec() *spec {
	return &spec{name: "workload mixed",
		summary: "benchmark web traders' command latency while FILE runs (fresh embedded stacks)",
		args:    "FILE", nargs: 1,
		about: "Runs scenarios, each on a fresh embedded stack with the web UI on a free port:\n" +
			"  alone  FILE's workload without traders (the bulk rate to compare with)\n" +
			"  idle   one trader, no workload\n" +
			"  one    one trader while FILE runs\n" +
			"  many   --traders traders while FILE runs\n" +
			"  late   one trader who signs in --arrive after FILE starts and sends the first command\n" +
			"         --think later (its latency is reported apart); a workload half done signs it\n" +
			"         in sooner, three quarters done sends the first command sooner\n" +
			"Each trader registers, signs in, adds money and sends QUOTE of a cached symbol through\n" +
			"POST /commands (session + CSRF, as the dashboard's form) back to back, --count times or\n" +
			"until the workload is done. Reports the workload's commands/s (and its ratio to alone)\n" +
			"and the traders' p50/p95/p99/max.",
		settings: mixedSettings(),
		defaults: func(c *stack.Config) { c.LogLevel = "warn" },
		flags:    workloadMixedFlags}
}

// mixedSettings: workload run's without the Temporal address, since every
// scenario's stack is embedded on free ports.
func mixedSettings() []string {
	return slices.DeleteFunc(workloadRunSettings(), func(s string) bool {
		return s == "TEMPORAL_ADDRESS" || s == "TEMPORAL_FRONTENDS" || s == "TEMPORAL_FRONTEND_ADDR"
	})
}

func workloadMixedFlags(fs *flag.FlagSet) runFunc {
	f := &mixedFlags{}
	fs.IntVar(&f.opts.BatchSize, "batch", workloads.DefaultBatchSize, "commands of one user per signal (at least 1)")
	fs.IntVar(&f.opts.Concurrency, "concurrency", 64, "signals sent at the same time (at least 1)")
	fs.IntVar(&f.opts.Window, "window", workloads.DefaultWindow, "the workload's commands sent but not yet processed at most (-1: no limit)")
	fs.IntVar(&f.opts.TraderWindow, "trader-window", workloads.DefaultTraderWindow, "the workload's --window while traders use the stack (-1: --window always)")
	fs.DurationVar(&f.opts.TraderWait, "trader-wait", workloads.DefaultTraderWait, "while traders use the stack, the workload's --trader-window grows while their commands (through the web UI) wait at most half this, and halves when one waits longer (0: it stays --trader-window)")
	fs.DurationVar(&f.opts.PollInterval, "poll", workloads.DefaultPollInterval, "how often the workload's audit history is counted (its window moves on then)")
	fs.IntVar(&f.traders, "traders", 20, "traders of the many scenario")
	fs.IntVar(&f.count, "count", 100, "commands each trader sends at most")
	fs.StringVar(&f.symbol, "symbol", "ABC", "the symbol the traders quote")
	fs.DurationVar(&f.arrive, "arrive", time.Second, "the late scenario: when its trader signs in, after the workload starts (or once half of it is processed)")
	fs.DurationVar(&f.think, "think", 3*time.Second, "the late scenario: how long its trader looks at the dashboard before the first command (or until three quarters of the workload are processed)")
	fs.StringVar(&f.scenarios, "scenarios", strings.Join(mixedScenarios, ","), "comma-separated scenarios to run")
	fs.BoolVar(&f.asJSON, "json", false, "print the reports as JSON")
	fs.BoolVar(&f.isolate, "isolate", true, "run each scenario in a process of its own (a scenario's stack leaves "+
		"memory and goroutines behind that would slow the next)")
	return func(ctx context.Context, cfg stack.Config, args []string) error {
		scen, err := f.check()
		if err != nil {
			return err
		}
		return workloadMixed(ctx, cfg, f, scen, args[0], os.Stdout)
	}
}

func (f *mixedFlags) check() ([]string, error) {
	if f.opts.BatchSize < 1 || f.opts.Concurrency < 1 || f.traders < 1 || f.count < 1 {
		return nil, usagef("--batch, --concurrency, --traders and --count must be at least 1")
	}
	if f.arrive < 0 || f.think < 0 {
		return nil, usagef("--arrive (%s) and --think (%s) must not be negative", f.arrive, f.think)
	}
	if err := checkWindows(&f.opts); err != nil {
		return nil, err
	}
	scen := strings.Split(f.scenarios, ",")
	for _, s := range scen {
		if !slices.Contains(mixedScenarios, s) {
			return nil, usagef("--scenarios: unknown scenario %q (want some of %s)", s, strings.Join(mixedScenarios, ","))
		}
	}
	return scen, nil
}

// mixedResult is one scenario's outcome.
type mixedResult struct {
	Scenario string            `json:"scenario"`
	Workload *workloads.Report `json:"workload,omitempty"`
	Rate     float64           `json:"commandsPerSecond,omitempty"`
	Ratio    float64           `json:"ratioToAlone,omitempty"` // Rate / the alone scenario's
	Probe    *probe.Report     `json:"probe,omitempty"`
	// FirstMs is the late trader's first command's wait (its ADD);
	// ThinkMs how long it was on the dashboard before it (lateCues).
	FirstMs float64 `json:"firstCommandMs,omitempty"`
	ThinkMs float64 `json:"thinkMs,omitempty"`
	// Stages: where the traders' updates spent their time, from their
	// accounts' histories.
	Stages *probe.StageReport `json:"stages,omitempty"`
}

func workloadMixed(ctx context.Context, cfg stack.Config, f *mixedFlags, scen []string, file string, out io.Writer) error {
	wl, parseErrs, err := workloads.OpenFile(file, false)
	if err != nil {
		return err
	}
	f.opts.File, f.opts.ParseErrors = file, parseErrs
	var results []mixedResult
	alone := 0.0
	for _, s := range scen {
		var r mixedResult
		if f.isolate && len(scen) > 1 {
			r, err = runScenarioProcess(ctx, s)
		} else {
			r, err = runScenario(ctx, cfg, f, wl, s)
		}
		if err != nil {
			return fmt.Errorf("scenario %s: %w", s, err)
		}
		if s == "alone" {
			alone = r.Rate
		}
		if r.Workload != nil && alone > 0 {
			r.Ratio = r.Rate / alone
		}
		if !f.asJSON {
			printScenario(out, r)
		}
		results = append(results, r)
	}
	if f.asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(results)
	}
	return nil
}

func printScenario(w io.Writer, r mixedResult) {
	fmt.Fprintf(w, "%-5s", r.Scenario)
	if r.Workload != nil {
		fmt.Fprintf(w, "  workload %d commands, %.0f commands/s", r.Workload.Processed, r.Rate)
		if r.Ratio > 0 {
			fmt.Fprintf(w, " (%.2f of alone)", r.Ratio)
		}
	}
	if r.FirstMs > 0 {
		fmt.Fprintf(w, "  first command %.1f ms (after %.1f s on the dashboard)", r.FirstMs, r.ThinkMs/1000)
	}
	if r.Probe != nil {
		fmt.Fprintf(w, "  probe %s", r.Probe)
		if r.Probe.FirstErr != "" {
			fmt.Fprintf(w, "; first error: %s", r.Probe.FirstErr)
		}
	}
	if r.Stages != nil {
		fmt.Fprintf(w, "\n       stages of the traders' updates: %s", r.Stages)
	}
	fmt.Fprintln(w)
}

// runScenarioProcess runs scenario s as this command with the same
// arguments (the last --scenarios and --json win) in a new process.
func runScenarioProcess(ctx context.Context, s string) (mixedResult, error) {
	exe, err := os.Executable()
	if err != nil {
		return mixedResult{}, err
	}
	args := append(slices.Clone(os.Args[1:]), "--scenarios="+s, "--json")
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return mixedResult{}, err
	}
	var rs []mixedResult
	if err := json.Unmarshal(out, &rs); err != nil || len(rs) != 1 {
		return mixedResult{}, fmt.Errorf("scenario %s's process answered %q (%v)", s, out, err)
	}
	return rs[0], nil
}

// runScenario runs one scenario on a stack of its own, so every scenario
// starts from the same empty state.
func runScenario(ctx context.Context, cfg stack.Config, f *mixedFlags, wl workloads.Source, s string) (mixedResult, error) {
	logger := cfg.Logger()
	// The traders all register from 127.0.0.1 at once.
	cfg.LoginIPBurst = max(cfg.LoginIPBurst, 10*f.traders)
	env, err := startEmbedded(ctx, cfg, false, logger, stack.DevOptions{NoWeb: s == "alone"})
	if err != nil {
		return mixedResult{}, err
	}
	defer env.close()
	if s == "late" {
		return runLate(ctx, env, f, wl)
	}
	res := mixedResult{Scenario: s}
	var traders []*probe.Trader
	switch s {
	case "idle", "one":
		traders, err = newTraders(ctx, env.dev.WebURL, 1, f.symbol)
	case "many":
		traders, err = newTraders(ctx, env.dev.WebURL, f.traders, f.symbol)
	}
	if err != nil {
		return res, err
	}
	stop := make(chan struct{})
	probed := make(chan probe.Report, 1)
	go func() {
		if len(traders) > 0 {
			probed <- probe.Quotes(ctx, traders, f.symbol, f.count, stop)
		}
		close(probed)
	}()
	if s != "idle" {
		res.Workload, err = runBulk(ctx, env, f.opts, wl)
		if err != nil {
			return res, err
		}
		res.Rate = res.Workload.CommandsPerSecond
		// The traders stop with the workload; idle, they send all --count.
		close(stop)
	}
	if p, ok := <-probed; ok {
		res.Probe = &p
		if res.Stages, err = traderStages(ctx, env, traders); err != nil {
			return res, err
		}
	}
	return res, nil
}

// traderStages measures the stages of the traders' updates but the two
// of their setup (setUpTrader).
func traderStages(ctx context.Context, env *embeddedEnv, traders []*probe.Trader) (*probe.StageReport, error) {
	ids := make([]string, len(traders))
	for i, t := range traders {
		ids[i] = workflows.AccountWorkflowID(t.User)
	}
	rep, err := probe.UpdateStages(ctx, env.dev.Client, ids, 2)
	return &rep, err
}

// runBulk runs the workload as `workload run` does; the traders' commands
// (interactive transaction numbers) are left out of its progress count.
func runBulk(ctx context.Context, env *embeddedEnv, opts workloads.RunOptions, wl workloads.Source) (*workloads.Report, error) {
	accounts := workflows.NewAccounts(env.dev.Client)
	accounts.TaskQueue, accounts.Namespace = env.dev.Config.TaskQueue, env.dev.Config.TemporalNamespace
	reader := bulkOnly{newAuditWithTraders(env.dev.DB)}
	return workloads.Run(ctx, wl, accounts, reader, opts)
}

// bulkOnly counts only the workload's commands: Run's progress count
// would otherwise take the traders' commands for the workload's and end
// the run before its last commands are audited.
type bulkOnly struct {
	auditWithTraders
}

func (b bulkOnly) CountUserCommandsAfter(ctx context.Context, afterID int64) (count, lastID int64, err error) {
	err = b.db.QueryRow(ctx, `
SELECT count(*) FILTER (WHERE event_type = 'userCommand' AND tx_num < $2), coalesce(max(id), $1)
FROM audit_events WHERE id > $1`, afterID, audit.FirstInteractiveTxNum).Scan(&count, &lastID)
	if err != nil {
		return 0, 0, fmt.Errorf("counting the workload's commands since %d: %w", afterID, err)
	}
	return count, lastID, nil
}

// newTraders registers n traders (mixed<i>) and sets each up (setUpTrader).
func newTraders(ctx context.Context, webURL string, n int, symbol string) ([]*probe.Trader, error) {
	traders := make([]*probe.Trader, n)
	for i := range n {
		t, err := probe.Register(ctx, webURL, fmt.Sprintf("mixed%d", i), mixedPassword)
		if err != nil {
			return nil, err
		}
		if _, err := setUpTrader(ctx, t, symbol); err != nil {
			return nil, err
		}
		traders[i] = t
	}
	slog.Debug("traders ready", "n", n)
	return traders, nil
}

const mixedPassword = "mixed bench password"

// setUpTrader adds money to t's account and quotes symbol once, so the
// probe's quotes are answered from the cache; it returns the ADD's wait,
// the trader's first command.
func setUpTrader(ctx context.Context, t *probe.Trader, symbol string) (time.Duration, error) {
	var first time.Duration
	for i, form := range []url.Values{
		{"command": {"ADD"}, "amount": {"10000.00"}},
		{"command": {"QUOTE"}, "symbol": {symbol}},
	} {
		took, err := t.Command(ctx, form)
		if err != nil {
			return 0, err
		}
		if i == 0 {
			first = took
		}
	}
	if cash, err := t.Cash(ctx); err != nil || cash != "10000" {
		return 0, fmt.Errorf("%s has cash %q after ADD 10000.00 (%v)", t.User, cash, err)
	}
	return first, nil
}

// runLate runs the late scenario: the workload starts without traders; a
// trader registers (signed in, on the dashboard) f.arrive later, sends its
// first command (setUpTrader: its wait is FirstMs) f.think after that, each
// wait cut short by the workload's progress (lateCues), then QUOTEs as in
// the one scenario until the workload is done.
func runLate(ctx context.Context, env *embeddedEnv, f *mixedFlags, wl workloads.Source) (mixedResult, error) {
	res := mixedResult{Scenario: "late"}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cues := newLateCues()
	opts := f.opts
	opts.Counted = cues.counted
	bulkDone := make(chan struct{})
	var bulkErr error
	go func() {
		defer close(bulkDone)
		res.Workload, bulkErr = runBulk(ctx, env, opts, wl)
	}()
	t, first, thought, err := arriveLate(ctx, env.dev.WebURL, f, cues, bulkDone)
	if err != nil {
		cancel()
		<-bulkDone
		return mixedResult{Scenario: "late"}, err
	}
	p := probe.Quotes(ctx, []*probe.Trader{t}, f.symbol, f.count, bulkDone)
	<-bulkDone
	if bulkErr != nil {
		return mixedResult{Scenario: "late"}, bulkErr
	}
	res.Rate, res.Probe, res.FirstMs = res.Workload.CommandsPerSecond, &p, float64(first.Microseconds())/1000
	res.ThinkMs = float64(thought.Microseconds()) / 1000
	res.Stages, err = traderStages(ctx, env, []*probe.Trader{t})
	return res, err
}

// lateCues tell the late trader how far the workload is: arrive closes
// once half of its commands are processed, send at three quarters. The
// trader signs in at --arrive or arrive, whichever comes first, and sends
// its first command --think later or at send: on a machine that runs the
// file sooner than --arrive + --think (100User at 35,000 commands/s is done
// in 3 s) the trader still meets the workload, with a quarter of it left to
// trade beside, instead of the scenario failing; on a slower one the cues
// come late and the trader takes its whole --think to drain the backlog.
type lateCues struct {
	arrive, send         chan struct{}
	arriveOnce, sendOnce sync.Once
}

func newLateCues() *lateCues {
	return &lateCues{arrive: make(chan struct{}), send: make(chan struct{})}
}

// counted is the workload's RunOptions.Counted.
func (c *lateCues) counted(processed, total int64) {
	if 2*processed >= total {
		c.arriveOnce.Do(func() { close(c.arrive) })
	}
	if 4*processed >= 3*total {
		c.sendOnce.Do(func() { close(c.send) })
	}
}

// arriveLate is the late trader's arrival (runLate): it returns the trader,
// its first command's wait and how long it was on the dashboard before it.
// It fails if the workload is done before the first command.
func arriveLate(ctx context.Context, webURL string, f *mixedFlags, cues *lateCues,
	bulkDone <-chan struct{}) (*probe.Trader, time.Duration, time.Duration, error) {
	if err := waitUnlessDone(ctx, f.arrive, cues.arrive, bulkDone); err != nil {
		return nil, 0, 0, err
	}
	t, err := probe.Register(ctx, webURL, "late0", mixedPassword)
	if err != nil {
		return nil, 0, 0, err
	}
	arrived := time.Now()
	if err := waitUnlessDone(ctx, f.think, cues.send, bulkDone); err != nil {
		return nil, 0, 0, err
	}
	thought := time.Since(arrived)
	first, err := setUpTrader(ctx, t, f.symbol)
	return t, first, thought, err
}

// waitUnlessDone waits d or until cue closes; it fails if the workload is
// done first (also when both happened by the time it looks), since the
// late trader would then not meet it.
func waitUnlessDone(ctx context.Context, d time.Duration, cue, bulkDone <-chan struct{}) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-cue:
	case <-bulkDone:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-bulkDone:
		return fmt.Errorf("the workload was done before the late trader's first command: a longer file")
	default:
		return nil
	}
}
