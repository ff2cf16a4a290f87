package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/daytradinginc/daytrader/internal/pgdb"
	"github.com/daytradinginc/daytrader/internal/stack"
	"github.com/daytradinginc/daytrader/workflows"
	"github.com/daytradinginc/daytrader/workloads"
	"golang.org/x/term"
)

// workloadRunSettings: what a run reads. The quote emulator, dump and
// worker settings apply with --embedded, which starts those in-process.
func workloadRunSettings() []string {
	return slices.Concat(clientSettings(), []string{"TASK_QUEUE", "DATABASE_URL", "QUOTE_LATENCY", "QUOTE_SEED",
		"QUOTE_PRICES", "DUMP_DIR", "SERVER_NAME", "LOG_LEVEL", "LOG_FORMAT", "TEMPORAL_PERSISTENCE"}, stack.WorkerSettingNames())
}

func workloadCommands() []*spec {
	return []*spec{
		{name: "workload run", summary: "send FILE's commands, wait until all are audited, run its DUMPLOG, report",
			args: "FILE", nargs: 1,
			about: "Sends FILE's commands (each user's in file order, users concurrently, in batches per signal),\n" +
				"waits until every command is processed and audited, runs the file's global DUMPLOG and reports.\n" +
				"Without --embedded it uses the stack at TEMPORAL_ADDRESS and DATABASE_URL (e.g. `daytrader dev`).",
			settings: workloadRunSettings(),
			// Info logs would run through the progress bar; LOG_LEVEL still wins.
			defaults: func(c *stack.Config) { c.LogLevel = "warn" },
			flags:    workloadRunFlags},
		{name: "workload gen", summary: "write a synthetic workload in the course format",
			about: "Writes a synthetic workload with the course files' command mix.",
			flags: workloadGenFlags},
		workloadMixedSpec(),
		workloadCeilingSpec(),
	}
}

// runFlags are workload run's own flags.
type runFlags struct {
	opts                                  workloads.RunOptions
	strict, asJSON, quiet, embedded, keep bool
	cpuProfile, memProfile                string
	memoryLimitMiB                        int       // --memory-limit; 0: none
	html                                  string    // --html: also write the report as an HTML page here
	stdout                                io.Writer // where the report goes; nil: os.Stdout
}

func workloadRunFlags(fs *flag.FlagSet) runFunc {
	f := &runFlags{}
	fs.IntVar(&f.opts.BatchSize, "batch", workloads.DefaultBatchSize, "commands of one user per signal (at least 1)")
	fs.IntVar(&f.opts.Concurrency, "concurrency", 64, "signals sent at the same time (at least 1)")
	fs.IntVar(&f.opts.Window, "window", workloads.DefaultWindow, "commands sent but not yet processed at most, so the backlog in Temporal stays short (-1: no limit)")
	fs.IntVar(&f.opts.TraderWindow, "trader-window", workloads.DefaultTraderWindow, "the --window while traders use the stack (a trader's command audited, or a trader signed in or on the dashboard, in the last 30 s), so their commands wait behind less (-1: --window always)")
	fs.DurationVar(&f.opts.TraderWait, "trader-wait", workloads.DefaultTraderWait, "while traders use the stack, the --trader-window grows while their commands (through the web UI) wait at most half this, and halves when one waits longer (0: it stays --trader-window)")
	fs.DurationVar(&f.opts.StallTimeout, "stall-timeout", 2*time.Minute, "fail when no command is processed for this long")
	fs.DurationVar(&f.opts.PollInterval, "poll", workloads.DefaultPollInterval, "how often the audit history is counted for progress")
	fs.BoolVar(&f.strict, "strict", false, "abort at the first malformed line (default: report it and skip it)")
	fs.BoolVar(&f.asJSON, "json", false, "print the report as JSON")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress output")
	fs.StringVar(&f.opts.ValidateXSD, "validate-xsd", "", "check each global DUMPLOG file against this logfile.xsd with xmllint")
	fs.BoolVar(&f.embedded, "embedded", false, "start a fresh stack in this process (embedded Temporal, a new database on DATABASE_URL's server, "+
		"the quote emulator, a worker), run, and tear it down")
	fs.BoolVar(&f.keep, "keep", false, "with --embedded: keep the data dir (Temporal, dumps) and the database")
	fs.StringVar(&f.html, "html", "", "also write the report to this file as one self-contained HTML page (charts of commands/s and latency, errors, DUMPLOG)")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the run (the whole process: with --embedded also Temporal and the worker) to this file")
	fs.StringVar(&f.memProfile, "memprofile", "", "write a heap profile of the process, taken when its live heap was largest, to this file")
	fs.IntVar(&f.memoryLimitMiB, "memory-limit", defaultStarterMemoryLimitMiB, "soft limit in MiB on the starter's Go memory (the GC collects "+
		"sooner near it, see runtime/debug.SetMemoryLimit); 0: none. GOMEMLIMIT, when set, wins; --embedded (the whole stack) has 900 MiB and GOGC 200")
	return func(ctx context.Context, cfg stack.Config, args []string) error {
		if err := f.check(); err != nil {
			return err
		}
		return workloadRun(ctx, cfg, f, args[0])
	}
}

// checkWindows refuses --window, --trader-window, --trader-wait and --poll
// values that parse but make no sense (workload run and workload mixed),
// and turns --trader-wait 0 into RunOptions' "off".
func checkWindows(o *workloads.RunOptions) error {
	if o.Window < -1 || o.TraderWindow < -1 {
		return usagef("--window (%d) and --trader-window (%d) must be at least 1, or -1 for no limit", o.Window, o.TraderWindow)
	}
	switch {
	case o.TraderWait < 0:
		return usagef("--trader-wait (%v) must not be negative", o.TraderWait)
	case o.TraderWait == 0:
		o.TraderWait = -1
	}
	// A negative --poll would make the progress timer panic.
	if o.PollInterval < 0 {
		return usagef("--poll (%v) must not be negative", o.PollInterval)
	}
	return nil
}

// check refuses flag values that parse but make no sense.
func (f *runFlags) check() error {
	if f.opts.BatchSize < 1 || f.opts.Concurrency < 1 {
		return usagef("--batch (%d) and --concurrency (%d) must be at least 1", f.opts.BatchSize, f.opts.Concurrency)
	}
	if f.memoryLimitMiB < 0 {
		return usagef("--memory-limit (%d) must be 0 (none) or more", f.memoryLimitMiB)
	}
	if err := checkWindows(&f.opts); err != nil {
		return err
	}
	if f.opts.StallTimeout < 0 {
		return usagef("--stall-timeout (%v) must not be negative", f.opts.StallTimeout)
	}
	if f.opts.ValidateXSD != "" {
		if _, err := os.Stat(f.opts.ValidateXSD); err != nil {
			return usagef("--validate-xsd: %w", err)
		}
	}
	if f.html != "" {
		// Refused before the run, not after it: the directory must exist.
		if st, err := os.Stat(filepath.Dir(f.html)); err != nil || !st.IsDir() {
			return usagef("--html %s: no directory %s to write it in", f.html, filepath.Dir(f.html))
		}
	}
	return nil
}

func workloadRun(ctx context.Context, cfg stack.Config, f *runFlags, file string) (err error) {
	if f.memProfile != "" {
		stop, err := startMemProfile(f.memProfile, time.Second)
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, stop()) }()
	}
	opts := f.opts
	opts.File = file
	wl, parseErrs, err := workloads.OpenFile(file, f.strict)
	if err != nil {
		return err
	}
	opts.ParseErrors = parseErrs
	if len(parseErrs) > 0 {
		fmt.Fprintf(os.Stderr, "%s: %d malformed lines left out (--strict to abort instead), the first: %v\n", file, len(parseErrs), parseErrs[0])
	}
	if !f.quiet {
		opts.Progress = os.Stderr
		opts.ProgressBar = term.IsTerminal(int(os.Stderr.Fd()))
	}
	logger := cfg.Logger()
	sender, reader, closeAll, err := workloadTarget(ctx, cfg, f, logger)
	if err != nil {
		return err
	}
	defer closeAll()
	if f.cpuProfile != "" {
		stop, err := startCPUProfile(f.cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	defer limitMemory(f)()
	rep, err := workloads.Run(ctx, wl, sender, reader, opts)
	if err != nil {
		return err
	}
	rep.PeakRSSMiB = peakRSSMiB()
	if f.html != "" {
		// Written before report judges the run: a failed DUMPLOG is worth a page too.
		if err := writeFileAtomically(f.html, rep.WriteHTML); err != nil {
			return fmt.Errorf("--html: %w", err)
		}
		fmt.Fprintf(os.Stderr, "HTML report written to %s\n", f.html)
	}
	out := f.stdout
	if out == nil {
		out = os.Stdout
	}
	return report(out, rep, f.asJSON, opts.ValidateXSD)
}

// defaultStarterMemoryLimitMiB: a run against a stack holds some 15 MiB
// live (a third of it the client and the binary's package state, the rest
// the plan, the batches being filled and queued, and the commands awaiting
// their audit record, all bounded by the options and the users); this
// leaves the GC room to collect every several MiB without running often
// (on the 1,000,000-command file: README, "The starter streams").
const defaultStarterMemoryLimitMiB = 36

// limitMemory sets the run's soft memory limit, unless GOMEMLIMIT set one
// or the stack runs in this process, and returns what puts the previous
// limit back.
func limitMemory(f *runFlags) (restore func()) {
	if f.memoryLimitMiB == 0 || f.embedded || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	previous := debug.SetMemoryLimit(int64(f.memoryLimitMiB) << 20)
	return func() { debug.SetMemoryLimit(previous) }
}

// workloadTarget is where a run sends its commands and reads the audit:
// a fresh embedded stack, or the one at TEMPORAL_ADDRESS and DATABASE_URL.
func workloadTarget(ctx context.Context, cfg stack.Config, f *runFlags, logger *slog.Logger) (
	workloads.Sender, workloads.AuditReader, func(), error) {
	if f.embedded {
		env, err := startEmbedded(ctx, cfg, f.keep, logger, stack.DevOptions{NoWeb: true})
		if err != nil {
			return nil, nil, nil, err
		}
		accounts := workflows.NewAccounts(env.dev.Client)
		accounts.TaskQueue, accounts.Namespace = env.dev.Config.TaskQueue, env.dev.Config.TemporalNamespace
		return accounts, newAuditWithTraders(env.dev.DB), env.close, nil
	}
	cl, err := stack.Dial(ctx, cfg, logger, fineProtoOption())
	if err != nil {
		return nil, nil, nil, err
	}
	pool, err := stack.OpenDB(ctx, cfg)
	if err != nil {
		cl.Close()
		return nil, nil, nil, err
	}
	accounts := workflows.NewAccounts(cl)
	accounts.TaskQueue, accounts.Namespace = cfg.TaskQueue, cfg.TemporalNamespace
	return accounts, newAuditWithTraders(pool), func() { pool.Close(); cl.Close() }, nil
}

// report prints the run's report and fails when the run did not do all
// of its work.
func report(out io.Writer, rep *workloads.Report, asJSON bool, xsd string) error {
	var err error
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = rep.WriteText(out)
	}
	if err != nil {
		return err
	}
	for _, d := range rep.Dumps {
		if d.Error != "" {
			return fmt.Errorf("the DUMPLOG of line %d failed: %s", d.Line, d.Error)
		}
		if d.Valid != nil && !*d.Valid {
			return fmt.Errorf("the DUMPLOG of line %d (%s) is not valid against %s", d.Line, d.Path, xsd)
		}
	}
	if rep.Processed < rep.Commands {
		return fmt.Errorf("only %d of %d commands were processed", rep.Processed, rep.Commands)
	}
	return nil
}

func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			slog.Error("writing the CPU profile", "path", path, "err", err)
		}
	}, nil
}

// embeddedEnv is a fresh stack of its own: nothing a previous run left
// (account workflows, audit records) can meet this run's transaction
// numbers, so runs can repeat.
type embeddedEnv struct {
	dev     *stack.Dev
	dataDir string
	dumps   string // where the worker writes DUMPLOG files (absolute)
	dropDB  func(context.Context) error
	keep    bool
	logger  *slog.Logger
	stderr  io.Writer // where close says what it kept and removed
	gc      func()    // puts the process's GC settings back (tuneStackGC)
}

func startEmbedded(ctx context.Context, cfg stack.Config, keep bool, logger *slog.Logger, opts stack.DevOptions) (_ *embeddedEnv, err error) {
	if err := stack.CanRunTemporal(); err != nil {
		return nil, err // before creating a database it would leave behind
	}
	env := &embeddedEnv{keep: keep, logger: logger, stderr: os.Stderr, gc: tuneStackGC()}
	defer func() {
		if err != nil {
			env.close()
		}
	}()
	if env.dataDir, err = os.MkdirTemp("", "daytrader-workload-"); err != nil {
		return nil, err
	}
	dbURL, dropDB, err := createDatabase(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	env.dropDB = dropDB
	if cfg.TemporalPersistence == stack.PersistencePostgres {
		dropTemporal, err := createTemporalDatabases(ctx, cfg.DatabaseURL, dbURL)
		if err != nil {
			return nil, err
		}
		env.dropDB = func(ctx context.Context) error { return errors.Join(dropTemporal(ctx), dropDB(ctx)) }
	}
	cfg = embeddedConfig(cfg, dbURL, env.dataDir)
	if env.dumps, err = filepath.Abs(cfg.Dumps()); err != nil {
		return nil, err
	}
	if env.dev, err = stack.StartDev(ctx, cfg, opts); err != nil {
		return nil, err
	}
	logger.Info("embedded stack started", "data_dir", env.dataDir, "database", stack.Redact(dbURL),
		"temporal", env.dev.Config.TemporalAddress, "quote_latency", cfg.QuoteLatency)
	return env, nil
}

// embeddedConfig is cfg for a run's own stack: its database and data dir,
// embedded Temporal on a free port without UI or HTTP API, and the quote
// emulator on a free port, so a run never collides with a `daytrader dev`
// (or another run) on this machine.
func embeddedConfig(cfg stack.Config, dbURL, dataDir string) stack.Config {
	cfg.DatabaseURL = dbURL
	cfg.DataDir = dataDir
	cfg.TemporalAddress, cfg.TemporalFrontends = "", nil // embedded
	cfg.EmbeddedFrontend = "127.0.0.1:0"
	cfg.TemporalUIAddr = ""
	cfg.TemporalHTTPAddr = ""
	cfg.QuoteServerAddr = "127.0.0.1:0"
	cfg.WebAddr = "127.0.0.1:0" // when the run serves the web UI (workload mixed)
	return cfg
}

func (e *embeddedEnv) close() {
	if e.dev != nil {
		if err := e.dev.Close(); err != nil {
			e.logger.Warn("stopping the embedded stack", "err", err)
		}
	}
	if e.gc != nil {
		e.gc()
	}
	if e.keep {
		if e.dev != nil {
			fmt.Fprintf(e.stderr, "kept the data dir %s and the database %s\n", e.dataDir, stack.Redact(e.dev.Config.DatabaseURL))
		}
		return
	}
	e.dropDatabase()
	e.removeDataDir()
}

func (e *embeddedEnv) dropDatabase() {
	if e.dropDB != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := e.dropDB(ctx); err != nil {
			e.logger.Warn("dropping the run's database", "err", err)
		}
	}
}

// removeDataDir removes the run's data dir. DUMPLOG files written inside it
// go with it (say so: the report named their paths); a --dump-dir outside it
// (make bench's) keeps them, and the last line says where.
func (e *embeddedEnv) removeDataDir() {
	if e.dataDir == "" {
		return
	}
	if err := os.RemoveAll(e.dataDir); err != nil {
		e.logger.Warn("removing the run's data dir", "err", err)
	}
	inside := strings.HasPrefix(e.dumps+string(filepath.Separator), e.dataDir+string(filepath.Separator))
	switch _, err := os.Stat(e.dumps); {
	case e.dumps == "": // the stack never started
	case inside:
		fmt.Fprintln(e.stderr, "removed the run's data dir and its DUMPLOG files (--keep or --dump-dir DIR keeps them)")
	case err == nil:
		fmt.Fprintf(e.stderr, "DUMPLOG files kept in %s\n", e.dumps)
	}
}

// createDatabase creates a database with a new name on the server of
// serverURL and returns its URL and how to drop it.
func createDatabase(ctx context.Context, serverURL string) (string, func(context.Context) error, error) {
	// rand.Text is base32: lower-cased it is a valid unquoted identifier part.
	return pgdb.Create(ctx, serverURL, "daytrader_run_"+strings.ToLower(rand.Text()[:16]))
}

// createTemporalDatabases creates the empty databases embedded Temporal
// will use with TEMPORAL_PERSISTENCE=postgres next to the run's audit
// database (runURL), so that they are the run's own and dropped with it;
// the server sets up their schemas.
func createTemporalDatabases(ctx context.Context, serverURL, runURL string) (func(context.Context) error, error) {
	temporalURL, err := stack.TemporalDatabaseURL(runURL)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(temporalURL)
	if err != nil {
		return nil, err
	}
	name := strings.TrimPrefix(u.Path, "/")
	var drops []func(context.Context) error
	dropAll := func(ctx context.Context) error {
		var errs []error
		for _, drop := range drops {
			errs = append(errs, drop(ctx))
		}
		return errors.Join(errs...)
	}
	for _, db := range []string{name, name + stack.VisibilitySuffix} {
		_, drop, err := pgdb.Create(ctx, serverURL, db)
		if err != nil {
			return nil, errors.Join(err, dropAll(ctx))
		}
		drops = append(drops, drop)
	}
	return dropAll, nil
}

func workloadGenFlags(fs *flag.FlagSet) runFunc {
	var opts workloads.GenOptions
	fs.IntVar(&opts.Users, "users", 10, "distinct users")
	fs.IntVar(&opts.Lines, "lines", 10000, "lines, the final global DUMPLOG included")
	fs.Int64Var(&opts.Seed, "seed", 1, "random seed: the same seed and flags give the same file")
	fs.IntVar(&opts.Symbols, "symbols", 0, "distinct stock symbols (0: 10 per user)")
	out := fs.String("o", "", "write to this file instead of standard output")
	return func(context.Context, stack.Config, []string) error {
		if *out == "" {
			return workloads.Generate(os.Stdout, opts)
		}
		return writeFileAtomically(*out, func(w io.Writer) error { return workloads.Generate(w, opts) })
	}
}

// writeFileAtomically writes path through a temporary file in the same
// directory, so a failed run leaves no half-written workload behind.
func writeFileAtomically(path string, write func(io.Writer) error) error {
	dir, base := filepath.Split(path)
	f, err := os.CreateTemp(cmp.Or(dir, "."), "."+base+".*.tmp")
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := write(f); err != nil {
		return err
	}
	if err := f.Chmod(0o644); err != nil { // CreateTemp makes it private
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	done = true
	return nil
}
