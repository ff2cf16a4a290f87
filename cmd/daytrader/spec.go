package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/daytradinginc/daytrader/internal/stack"
)

// spec declares a command: the settings it reads, its own flags and its
// arguments. parse builds the command's flag set from it alone, so a
// command accepts exactly the flags it uses and its help lists exactly
// those.
type spec struct {
	name     string // "web", or "workload run" in a group
	summary  string // one line in `daytrader -h`
	args     string // positional arguments in the usage line: "USER"
	nargs    int    // exactly this many positional arguments
	about    string // what `daytrader <name> -h` says first
	settings []string
	// defaults changes the table's defaults for this command (before the
	// environment and the flags apply).
	defaults func(*stack.Config)
	// flags defines the command's own flags and returns how it runs.
	flags func(fs *flag.FlagSet) runFunc
}

type runFunc func(ctx context.Context, cfg stack.Config, args []string) error

// commands is every command, in the order of `daytrader -h`.
func commands() []*spec {
	return slices.Concat(serveCommands(), []*spec{temporalNodeSpec()}, workloadCommands())
}

// parse reads sp's settings from the environment, then its flags and
// arguments from args. It starts nothing: the returned function does.
func (c cli) parse(sp *spec, args []string) (func(context.Context) error, error) {
	cfg := stack.Defaults()
	if sp.defaults != nil {
		sp.defaults(&cfg)
	}
	// A bad variable must not keep -h from showing what the command takes:
	// the error waits until the flags are parsed. Load reads a Temporal
	// config profile first for the commands that dial Temporal.
	envErr := cfg.Load(c.env, sp.settings...)
	fs := flag.NewFlagSet("daytrader "+sp.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // run reports errors; help is written below
	if err := cfg.BindFlags(fs, sp.settings...); err != nil {
		return nil, err
	}
	run := sp.flags(fs)
	positional, err := parseInterspersed(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		c.commandHelp(sp, fs, &cfg)
		return nil, err
	case envErr != nil || err != nil:
		return nil, usageError{errors.Join(envErr, flagError(sp, err))}
	case len(positional) != sp.nargs:
		return nil, usagef("want %s, got %q; see `daytrader %s -h`", cmp.Or(sp.args, "no arguments"), positional, sp.name)
	}
	return func(ctx context.Context) error { return run(ctx, cfg, positional) }, nil
}

// flagValueError matches the flag package's refusal of a value, whose
// last part is our value's "want ...".
var flagValueError = regexp.MustCompile(`^invalid (?:boolean )?value ("(?:[^"\\]|\\.)*") for (?:flag )?-(\S+): (.*)$`)

// flagError rewords the flag package's errors like LoadEnv's
// (--secure-cookies="yes": want true or false) and points at the
// command's help; an unknown flag is most often one another command takes.
func flagError(sp *spec, err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		return fmt.Errorf("unknown flag --%s: %s does not take it; `daytrader %s -h` lists its flags", name, sp.name, sp.name)
	}
	if m := flagValueError.FindStringSubmatch(msg); m != nil {
		msg = "--" + m[2] + "=" + m[1] + ": " + m[3]
	}
	return fmt.Errorf("%s; see `daytrader %s -h`", msg, sp.name)
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

// commandHelp is `daytrader <name> -h`: usage, the command's own flags,
// then its settings with their variables and current values.
func (c cli) commandHelp(sp *spec, fs *flag.FlagSet, cfg *stack.Config) {
	w := c.stdout
	fmt.Fprintf(w, "%s\n\n%s\n", strings.TrimSpace("usage: daytrader "+sp.name+" [flags] "+sp.args), sp.about)
	own := false
	fs.VisitAll(func(f *flag.Flag) {
		if stack.IsSettingFlag(f.Name) {
			return
		}
		if !own {
			fmt.Fprintln(w, "\nflags:")
			own = true
		}
		typ, usage := flag.UnquoteUsage(f)
		fmt.Fprintf(w, "  %s\n      %s%s\n", strings.TrimSpace("--"+f.Name+" "+typ), usage, defaultNote(f))
	})
	if len(sp.settings) > 0 {
		fmt.Fprintln(w, "\nsettings (environment variable or flag; the flag wins):")
		_ = cfg.WriteHelp(w, sp.settings...) // the names were checked by BindFlags
	}
	if slices.Contains(sp.settings, "TEMPORAL_ADDRESS") {
		fmt.Fprintln(w, temporalClientHelp)
	}
}

func defaultNote(f *flag.Flag) string {
	switch f.DefValue {
	case "", "0", "false":
		return ""
	}
	return fmt.Sprintf(" (default %s)", f.DefValue)
}

// version is `daytrader version`: what the binary was built from.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "daytrader (no build information), " + runtime.Version()
	}
	return formatVersion(info)
}

func formatVersion(info *debug.BuildInfo) string {
	parts := []string{"daytrader " + info.Main.Version}
	vcs := map[string]string{}
	for _, s := range info.Settings {
		vcs[s.Key] = s.Value
	}
	if rev := vcs["vcs.revision"]; rev != "" {
		if vcs["vcs.modified"] == "true" {
			rev += "+modified"
		}
		parts = append(parts, "revision "+rev)
		if t := vcs["vcs.time"]; t != "" {
			parts = append(parts, "committed "+t)
		}
	} else {
		parts = append(parts, "revision unknown (built with -buildvcs=false)")
	}
	parts = append(parts, info.GoVersion, runtime.GOOS+"/"+runtime.GOARCH)
	return strings.Join(parts, ", ")
}

// temporalClientHelp ends the help of the commands that dial Temporal:
// the SDK's settings they read besides the table's.
const temporalClientHelp = `
Temporal client (the SDK's environment configuration, as the Temporal CLI reads it):
  TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE   a TOML profile (default file: temporalio/temporal.toml in the
      user config dir, profile "default"): address, namespace, api_key, [tls]
  TEMPORAL_API_KEY, TEMPORAL_TLS, TEMPORAL_TLS_SERVER_CA_CERT_PATH, TEMPORAL_TLS_CLIENT_CERT_PATH,
  TEMPORAL_TLS_CLIENT_KEY_PATH (or *_DATA), TEMPORAL_TLS_SERVER_NAME, TEMPORAL_TLS_DISABLE_HOST_VERIFICATION,
  TEMPORAL_CLIENT_AUTHORITY, TEMPORAL_GRPC_META_*   override the profile
  address and namespace: flag, then TEMPORAL_ADDRESS/TEMPORAL_NAMESPACE, then the profile, then the default`
