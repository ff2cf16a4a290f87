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
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/internal/pgdb"
	"github.com/daytradinginc/daytrader/internal/stack"
	"github.com/daytradinginc/daytrader/workflows"
	"github.com/daytradinginc/daytrader/workloads"
	"golang.org/x/term"
)

func init() {
	register("workload", "run a workload file (run FILE) or generate one (gen)", workloadCommand)
}

const workloadUsage = `usage:
  daytrader workload run [flags] FILE    send FILE's commands, wait until all are audited, run its DUMPLOG, report
  daytrader workload gen [flags]         write a synthetic workload in the course format

Run ` + "`daytrader workload run -h`" + ` or ` + "`daytrader workload gen -h`" + ` for the flags.`

func workloadCommand(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, workloadUsage)
		return errors.New("missing run or gen")
	}
	switch args[0] {
	case "run":
		return workloadRun(ctx, args[1:])
	case "gen":
		return workloadGen(args[1:])
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(os.Stderr, workloadUsage)
		return flag.ErrHelp
	}
	fmt.Fprintln(os.Stderr, workloadUsage)
	return fmt.Errorf("unknown workload command %q", args[0])
}

// parseInterspersed parses flags before and after the positional
// arguments, so that `run FILE --json` works as well as `run --json FILE`.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func workloadRun(ctx context.Context, args []string) error {
	cfg := stack.FromEnv()
	if os.Getenv("LOG_LEVEL") == "" {
		cfg.LogLevel = "warn" // info logs would run through the progress bar
	}
	fs := flag.NewFlagSet("daytrader workload run", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: daytrader workload run [flags] FILE\n\n"+
			"Sends FILE's commands (each user's in file order, users concurrently, in batches per signal),\n"+
			"waits until every command is processed and audited, runs the file's global DUMPLOG and reports.\n"+
			"Without --embedded it uses the stack at TEMPORAL_ADDRESS and DATABASE_URL (e.g. `daytrader dev`).\n\nflags:")
		fs.PrintDefaults()
	}
	cfg.Flags(fs)
	var opts workloads.RunOptions
	fs.IntVar(&opts.BatchSize, "batch", 200, "commands of one user per signal")
	fs.IntVar(&opts.Concurrency, "concurrency", 64, "users sent at the same time")
	fs.DurationVar(&opts.StallTimeout, "stall-timeout", 2*time.Minute, "fail when no command is processed for this long")
	fs.DurationVar(&opts.PollInterval, "poll", 500*time.Millisecond, "how often the audit history is counted for progress")
	strict := fs.Bool("strict", false, "abort at the first malformed line (default: report it and skip it)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	quiet := fs.Bool("quiet", false, "no progress output")
	fs.StringVar(&opts.ValidateXSD, "validate-xsd", "", "check each global DUMPLOG file against this logfile.xsd with xmllint")
	embedded := fs.Bool("embedded", false, "start a fresh stack in this process (embedded Temporal, a new database on DATABASE_URL's server, "+
		"the quote emulator, a worker), run, and tear it down")
	keep := fs.Bool("keep", false, "with --embedded: keep the data dir (Temporal, dumps) and the database")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run (the whole process: with --embedded also Temporal and the worker) to this file")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(files) != 1 {
		fs.Usage()
		return fmt.Errorf("want exactly one workload FILE, got %d arguments", len(files))
	}
	if opts.BatchSize < 1 || opts.Concurrency < 1 {
		return fmt.Errorf("--batch (%d) and --concurrency (%d) must be at least 1", opts.BatchSize, opts.Concurrency)
	}
	if opts.ValidateXSD != "" {
		if _, err := os.Stat(opts.ValidateXSD); err != nil {
			return fmt.Errorf("--validate-xsd: %w", err)
		}
	}
	file := files[0]
	opts.File = file

	wl, parseErrs, err := workloads.ParseFile(file, *strict)
	if err != nil {
		return err
	}
	opts.ParseErrors = parseErrs
	if len(parseErrs) > 0 {
		fmt.Fprintf(os.Stderr, "%s: %d malformed lines left out (--strict to abort instead), the first: %v\n", file, len(parseErrs), parseErrs[0])
	}
	if !*quiet {
		opts.Progress = os.Stderr
		opts.ProgressBar = term.IsTerminal(int(os.Stderr.Fd()))
	}

	logger := cfg.Logger()
	var sender workloads.Sender
	var reader workloads.AuditReader
	if *embedded {
		env, err := startEmbedded(ctx, cfg, *keep, logger)
		if err != nil {
			return err
		}
		defer env.close()
		accounts := workflows.NewAccounts(env.dev.Client)
		accounts.TaskQueue = env.dev.Config.TaskQueue
		sender, reader = accounts, audit.NewStore(env.dev.DB)
	} else {
		cl, err := stack.Dial(ctx, cfg, logger)
		if err != nil {
			return err
		}
		defer cl.Close()
		pool, err := stack.OpenDB(ctx, cfg)
		if err != nil {
			return err
		}
		defer pool.Close()
		accounts := workflows.NewAccounts(cl)
		accounts.TaskQueue = cfg.TaskQueue
		sender, reader = accounts, audit.NewStore(pool)
	}

	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	rep, err := workloads.Run(ctx, wl, sender, reader, opts)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = rep.WriteText(os.Stdout)
	}
	if err != nil {
		return err
	}
	for _, d := range rep.Dumps {
		if d.Error != "" {
			return fmt.Errorf("the DUMPLOG of line %d failed: %s", d.Line, d.Error)
		}
		if d.Valid != nil && !*d.Valid {
			return fmt.Errorf("the DUMPLOG of line %d (%s) is not valid against %s", d.Line, d.Path, opts.ValidateXSD)
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
			slog.Error("writing the CPU profile", "path", path, "error", err)
		}
	}, nil
}

// embeddedEnv is a fresh stack of its own: nothing a previous run left
// (account workflows, audit records) can meet this run's transaction
// numbers, so runs can repeat.
type embeddedEnv struct {
	dev     *stack.Dev
	dataDir string
	dropDB  func(context.Context) error
	keep    bool
	logger  *slog.Logger
}

func startEmbedded(ctx context.Context, cfg stack.Config, keep bool, logger *slog.Logger) (_ *embeddedEnv, err error) {
	env := &embeddedEnv{keep: keep, logger: logger}
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
	cfg.DatabaseURL = dbURL
	cfg.DataDir = env.dataDir
	cfg.TemporalAddress = "" // embedded
	cfg.EmbeddedFrontend = "127.0.0.1:0"
	cfg.TemporalUIAddr = ""
	cfg.QuoteServerAddr = "127.0.0.1:0"
	if env.dev, err = stack.StartDev(ctx, cfg, stack.DevOptions{NoWeb: true}); err != nil {
		return nil, err
	}
	logger.Info("embedded stack started", "data_dir", env.dataDir, "database", stack.Redact(dbURL),
		"temporal", env.dev.Config.TemporalAddress, "quote_latency", cfg.QuoteLatency)
	return env, nil
}

func (e *embeddedEnv) close() {
	if e.dev != nil {
		if err := e.dev.Close(); err != nil {
			e.logger.Warn("stopping the embedded stack", "error", err)
		}
	}
	if e.keep {
		if e.dev != nil {
			fmt.Fprintf(os.Stderr, "kept the data dir %s and the database %s\n", e.dataDir, stack.Redact(e.dev.Config.DatabaseURL))
		}
		return
	}
	if e.dropDB != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := e.dropDB(ctx); err != nil {
			e.logger.Warn("dropping the run's database", "error", err)
		}
	}
	if e.dataDir != "" {
		if err := os.RemoveAll(e.dataDir); err != nil {
			e.logger.Warn("removing the run's data dir", "error", err)
		}
		if e.dev != nil && strings.HasPrefix(e.dev.Config.Dumps(), e.dataDir) {
			fmt.Fprintln(os.Stderr, "removed the run's data dir and its DUMPLOG files (--keep or --dump-dir DIR keeps them)")
		}
	}
}

// createDatabase creates a database with a new name on the server of
// serverURL and returns its URL and how to drop it.
func createDatabase(ctx context.Context, serverURL string) (string, func(context.Context) error, error) {
	// rand.Text is base32: lower-cased it is a valid unquoted identifier part.
	return pgdb.Create(ctx, serverURL, "daytrader_run_"+strings.ToLower(rand.Text()[:16]))
}

func workloadGen(args []string) error {
	fs := flag.NewFlagSet("daytrader workload gen", flag.ContinueOnError)
	var opts workloads.GenOptions
	fs.IntVar(&opts.Users, "users", 10, "distinct users")
	fs.IntVar(&opts.Lines, "lines", 10000, "lines, the final global DUMPLOG included")
	fs.Int64Var(&opts.Seed, "seed", 1, "random seed: the same seed and flags give the same file")
	fs.IntVar(&opts.Symbols, "symbols", 0, "distinct stock symbols (0: 10 per user)")
	out := fs.String("o", "", "write to this file instead of standard output")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: daytrader workload gen [--users N] [--lines M] [--seed S] [-o FILE]\n\n"+
			"Writes a synthetic workload with the course files' command mix.\n\nflags:")
		fs.PrintDefaults()
	}
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("unexpected arguments %q", rest)
	}
	if *out == "" {
		return workloads.Generate(os.Stdout, opts)
	}
	return writeFileAtomically(*out, func(w io.Writer) error { return workloads.Generate(w, opts) })
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
