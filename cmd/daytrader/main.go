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
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

type command struct {
	summary string
	run     func(ctx context.Context, args []string) error
}

var commands = map[string]command{}

func register(name, summary string, run func(ctx context.Context, args []string) error) {
	commands[name] = command{summary, run}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: daytrader <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-12s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(os.Stderr, "\nRun `daytrader <command> -h` for its flags. Settings also come from environment variables (see README).")
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	cmd, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "daytrader: unknown command %q\n\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := cmd.run(ctx, os.Args[2:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintf(os.Stderr, "daytrader %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}
