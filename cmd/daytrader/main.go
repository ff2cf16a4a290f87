// Command daytrader is the whole DayTrader system in one binary:
//
//	daytrader dev          everything on one machine (embedded Temporal + UI, quote emulator, worker, web)
//	daytrader worker       a worker against TEMPORAL_ADDRESS and DATABASE_URL
//	daytrader web          the web UI against TEMPORAL_ADDRESS and DATABASE_URL
//	daytrader quoteserver  the legacy quote server emulator
//	daytrader migrate      apply the database migrations
//	daytrader workload     run or generate workload files
//	daytrader summary      print an account's summary (--json)
//	daytrader user         create a web user (trader or admin)
//	daytrader help [CMD]   usage; daytrader version: the build
//
// Each command reads only the settings it uses, from the environment and
// from flags; a bad value stops it before it starts anything (exit 2).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/daytradinginc/daytrader/internal/stack"
)

// Exit codes: 2 for a usage error (bad setting, unknown flag or command),
// 1 for a failure while running.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli{stdout: os.Stdout, stderr: os.Stderr, env: stack.OSEnv}.run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// cli is one invocation's surroundings, so tests can run it in-process.
type cli struct {
	stdout, stderr io.Writer
	env            stack.Env // the environment
}

// usageError is a mistake in the invocation: the process exits 2.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// run runs the command args name and returns the exit code.
func (c cli) run(ctx context.Context, args []string) int {
	name, start, err := c.prepare(args)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err == nil {
		err = start(ctx)
	}
	if err == nil {
		return exitOK
	}
	// LoadEnv reports every bad setting, one a line: each gets the prefix.
	for line := range strings.Lines(err.Error()) {
		fmt.Fprintf(c.stderr, "%s: %s\n", name, strings.TrimSuffix(line, "\n"))
	}
	if errors.As(err, new(usageError)) {
		return exitUsage
	}
	return exitFail
}

// prepare finds the command, reads its settings and parses its flags,
// without starting anything. name is how errors are prefixed.
// flag.ErrHelp means help or the version was printed.
func (c cli) prepare(args []string) (name string, start func(context.Context) error, err error) {
	if len(args) == 0 {
		c.usage(c.stderr)
		return "daytrader", nil, usagef("missing command")
	}
	switch args[0] {
	case "-h", "-help", "--help":
		c.usage(c.stdout)
		return "daytrader", nil, flag.ErrHelp
	case "help":
		return "daytrader help", nil, c.help(args[1:])
	case "version", "-version", "--version":
		switch {
		case len(args) == 2 && slices.Contains([]string{"-h", "-help", "--help"}, args[1]):
			fmt.Fprintln(c.stdout, "usage: daytrader version\n\nPrints the module version, the VCS revision and the Go version of this binary.")
			return "daytrader version", nil, flag.ErrHelp
		case len(args) > 1:
			return "daytrader version", nil, usagef("takes no arguments, got %q", args[1:])
		}
		fmt.Fprintln(c.stdout, version())
		return "daytrader version", nil, flag.ErrHelp
	}
	sp, rest, err := c.find(args)
	if err != nil {
		return "daytrader", nil, err
	}
	start, err = c.parse(sp, rest)
	return "daytrader " + sp.name, start, err
}

// find picks the command of args: "web", or a group's "workload run".
func (c cli) find(args []string) (*spec, []string, error) {
	if sp := lookup(args[0]); sp != nil {
		return sp, args[1:], nil
	}
	group := groupOf(args[0])
	if group == nil {
		return nil, nil, usagef("unknown command %q (daytrader -h lists the commands)", args[0])
	}
	if len(args) < 2 {
		c.groupUsage(c.stderr, args[0], group)
		return nil, nil, usagef("%s: missing subcommand", args[0])
	}
	switch args[1] {
	case "-h", "-help", "--help", "help":
		c.groupUsage(c.stdout, args[0], group)
		return nil, nil, flag.ErrHelp
	}
	if sp := lookup(args[0] + " " + args[1]); sp != nil {
		return sp, args[2:], nil
	}
	c.groupUsage(c.stderr, args[0], group)
	return nil, nil, usagef("%s: unknown subcommand %q", args[0], args[1])
}

// help is `daytrader help [COMMAND [SUBCOMMAND]]`: the same as -h.
func (c cli) help(args []string) error {
	if len(args) == 0 {
		c.usage(c.stdout)
		return flag.ErrHelp
	}
	if len(args) > 2 {
		return usagef("want at most a command and a subcommand, got %q", args)
	}
	_, _, err := c.prepare(append(args[:len(args):len(args)], "-h"))
	return err
}

// usage is `daytrader -h`.
func (c cli) usage(w io.Writer) {
	fmt.Fprintln(w, "usage: daytrader <command> [flags] [arguments]\n\ncommands:")
	for _, sp := range commands() {
		fmt.Fprintf(w, "  %-16s %s\n", sp.name, sp.summary)
	}
	fmt.Fprintln(w, "  help [command]   this text, or a command's flags and settings")
	fmt.Fprintln(w, "  version          the build: module version, VCS revision, Go version")
	fmt.Fprintln(w, "\nEvery setting is an environment variable and a flag (a flag wins);")
	fmt.Fprintln(w, "`daytrader <command> -h` lists those the command uses. A bad value stops it at start.")
}

func (c cli) groupUsage(w io.Writer, group string, specs []*spec) {
	fmt.Fprintf(w, "usage: daytrader %s <subcommand> [flags] [arguments]\n\nsubcommands:\n", group)
	for _, sp := range specs {
		fmt.Fprintf(w, "  %-16s %s\n", strings.TrimPrefix(sp.name, group+" "), sp.summary)
	}
	fmt.Fprintf(w, "\nRun `daytrader %s <subcommand> -h` for its flags.\n", group)
}

func lookup(name string) *spec {
	for _, sp := range commands() {
		if sp.name == name {
			return sp
		}
	}
	return nil
}

// groupOf is the commands named "group ...", or nil.
func groupOf(group string) []*spec {
	var specs []*spec
	for _, sp := range commands() {
		if strings.HasPrefix(sp.name, group+" ") {
			specs = append(specs, sp)
		}
	}
	return specs
}
