package workloads

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/trading"
)

// Report is what a workload run did. Durations are in seconds, latencies in
// milliseconds, so the JSON needs no unit conversions.
type Report struct {
	File        string `json:"file,omitempty"`
	Users       int    `json:"users"`
	Commands    int64  `json:"commands"` // user commands in the workload (the global lines are apart)
	Sent        int64  `json:"sent"`
	Batches     int64  `json:"batches"` // signals sent
	BatchSize   int    `json:"batchSize"`
	Concurrency int    `json:"concurrency"`
	Window      int    `json:"window"`    // commands sent but not yet processed at most (negative: no limit)
	Processed   int64  `json:"processed"` // userCommand records the run stored

	// SendSeconds runs from the first send until the last batch was
	// recorded; WallSeconds until every command was processed and audited.
	SendSeconds       float64 `json:"sendSeconds"`
	WallSeconds       float64 `json:"wallSeconds"`
	CommandsPerSecond float64 `json:"commandsPerSecond"` // Processed / WallSeconds

	// PeakRSSMiB is the peak resident memory of the process that ran the
	// workload (with --embedded, the whole stack), set by the command.
	PeakRSSMiB float64 `json:"peakRssMiB,omitempty"`
	// MostReadAhead is the most commands the run held read but not yet
	// sent (batches being filled, queued or in a signal), MostAwaitingAudit
	// the most sent whose audit record it had not read yet: its two
	// structures that hold commands. The first is bounded by the options
	// and the users, the second by the window and the poll, neither by the
	// workload's length.
	MostReadAhead     int64 `json:"mostReadAhead"`
	MostAwaitingAudit int   `json:"mostAwaitingAudit"`
	// AuditReadAgain is how many commands still awaited their record when
	// the run ended, which a last read of the run's records from its start
	// found: records committed late that no later command of the same user
	// pointed to (sentLog.findLate).
	AuditReadAgain int `json:"auditReadAgain"`
	// TraderWindowSeconds is about how long a traders' window was in force
	// because traders used the stack (TraderWatch): TraderWindow, or up to
	// TraderWindowMost where it followed their waits (WaitWatch).
	TraderWindow        int     `json:"traderWindow,omitempty"`
	TraderWindowSeconds float64 `json:"traderWindowSeconds,omitempty"`
	TraderWindowMost    int64   `json:"traderWindowMost,omitempty"`

	// LegacyQuoteHits counts the quoteServer records the run stored, one
	// per (billed) request to the legacy quote server.
	LegacyQuoteHits int64 `json:"legacyQuoteHits"`

	// ByCommand has one row per command name in the workload, by name.
	ByCommand []CommandStats `json:"byCommand"`
	// All is every command together.
	All CommandStats `json:"all"`

	// Errors are the run's errorEvents grouped by command and message
	// pattern (see MessagePattern), most frequent first.
	Errors []ErrorGroup `json:"errors"`

	// Progress is what the run's polls of the audit history counted, one
	// sample a poll (--poll) and the exact end last: the commands sent and
	// processed by then. A long run keeps every other one each time there
	// are maxProgressSamples, so they stay evenly spaced and few. A poll's processed count may lag the commits it
	// missed until a later exact count (see waitProcessed), never run ahead.
	Progress []ProgressSample `json:"progress"`

	ParseErrors []LineError  `json:"parseErrors"` // malformed lines left out
	Skipped     []LineError  `json:"skipped"`     // well-formed lines that cannot be run (a command with an empty user id)
	Dumps       []DumpReport `json:"dumps"`       // the global DUMPLOGs, in file order
}

// ProgressSample is one poll of a run: Seconds after the first send, Sent
// commands had been sent and Processed were audited.
type ProgressSample struct {
	Seconds   float64 `json:"seconds"`
	Sent      int64   `json:"sent"`
	Processed int64   `json:"processed"`
}

// CommandStats is one command name's share of the run.
type CommandStats struct {
	Command trading.CommandName `json:"command,omitempty"`
	Count   int64               `json:"count"`  // commands sent
	Errors  int64               `json:"errors"` // errorEvents of these commands
	Latency Latency             `json:"latency"`
}

// Latency is the distribution (percentiles to four significant digits,
// the maximum exact) of the time from a command's batch being
// recorded by Temporal (Send returned) to the start of the workflow task
// that processed it, which is the time its audit records carry. It is the
// queueing delay of the system: the work done inside that task (the quote
// fetches, the audit write) is not in it; the wall time covers that.
type Latency struct {
	Samples int     `json:"samples"` // commands with a userCommand record
	P50Ms   float64 `json:"p50Ms"`
	P95Ms   float64 `json:"p95Ms"`
	P99Ms   float64 `json:"p99Ms"`
	MaxMs   float64 `json:"maxMs"`
}

// ErrorGroup counts the errorEvents of one command whose messages share a
// pattern; Example is one of the messages as recorded.
type ErrorGroup struct {
	Command trading.CommandName `json:"command"`
	Pattern string              `json:"pattern"`
	Count   int64               `json:"count"`
	Example string              `json:"example"`
}

// LineError is a workload line that was not run, and why.
type LineError struct {
	Line  int    `json:"line"`
	Text  string `json:"text"`
	Error string `json:"error"`
}

// DumpReport is one global DUMPLOG.
type DumpReport struct {
	Line       int     `json:"line"`
	TxNum      int64   `json:"txNum"`
	Filename   string  `json:"filename"`
	Path       string  `json:"path,omitempty"`       // where the worker wrote it
	Records    int64   `json:"records"`              // audit records in the file
	Seconds    float64 `json:"seconds"`              // from the request to the file written
	Error      string  `json:"error,omitempty"`      // the DUMPLOG failed
	Valid      *bool   `json:"valid,omitempty"`      // xmllint's verdict; nil when not checked
	Validation string  `json:"validation,omitempty"` // xmllint's output
	// ValidatorPeakRSSMiB is the most memory xmllint held while it checked
	// the file (0: not known).
	ValidatorPeakRSSMiB float64 `json:"validatorPeakRssMiB,omitempty"`
}

// fillFromAudit reads what the run left in the audit history: the
// latencies of the commands still waiting for theirs, errors and legacy
// quote hits.
func (r *Report) fillFromAudit(ctx context.Context, a AuditReader, mark int64, p *plan, log *sentLog) error {
	if _, err := log.read(ctx, a); err != nil {
		return err
	}
	if err := log.reread(ctx, a, mark); err != nil {
		return err
	}
	groups, err := a.ErrorCounts(ctx, mark, p.users)
	if err != nil {
		return err
	}
	r.Errors = groupErrors(groups, p.users)
	byName := map[trading.CommandName]*CommandStats{}
	var all histogram
	for name, t := range log.byName() {
		byName[name] = &CommandStats{Command: name, Count: t.count, Latency: t.latencies.latency()}
		all.merge(&t.latencies)
		r.All.Count += t.count
	}
	for _, g := range groups {
		if st := byName[g.Command]; st != nil {
			st.Errors += g.Count
		}
		r.All.Errors += g.Count
	}
	for _, st := range byName {
		r.ByCommand = append(r.ByCommand, *st)
	}
	slices.SortFunc(r.ByCommand, func(x, y CommandStats) int { return cmp.Compare(x.Command, y.Command) })
	r.All.Latency = all.latency()

	counts, err := a.CountSince(ctx, mark)
	if err != nil {
		return err
	}
	r.LegacyQuoteHits = counts[trading.QuoteServerEvent]

	// Empty lists rather than null in the JSON.
	r.ByCommand, r.Errors = nonNil(r.ByCommand), nonNil(r.Errors)
	r.ParseErrors, r.Skipped, r.Dumps = nonNil(r.ParseErrors), nonNil(r.Skipped), nonNil(r.Dumps)
	r.Progress = nonNil(r.Progress)
	return nil
}

// writeDumps writes a line per global DUMPLOG: its file and records, or
// why it failed, and whether xmllint found it valid.
func writeDumps(b *strings.Builder, dumps []DumpReport) {
	for _, d := range dumps {
		fmt.Fprintf(b, "DUMPLOG    line %d [%d] %s: ", d.Line, d.TxNum, d.Filename)
		switch {
		case d.Error != "":
			fmt.Fprintf(b, "FAILED after %.2f s: %s\n", d.Seconds, d.Error)
		default:
			fmt.Fprintf(b, "%d records in %s, written in %.2f s", d.Records, d.Path, d.Seconds)
			switch {
			case d.Valid == nil:
				b.WriteString("\n")
			case *d.Valid && d.ValidatorPeakRSSMiB > 0:
				fmt.Fprintf(b, "; valid (xmllint, peak RSS %.0f MiB)\n", d.ValidatorPeakRSSMiB)
			case *d.Valid:
				b.WriteString("; valid (xmllint)\n")
			default:
				fmt.Fprintf(b, "; NOT VALID:\n%s\n", indent(d.Validation))
			}
		}
	}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// groupErrors merges the exact messages of each command into patterns.
func groupErrors(counts []audit.ErrorCount, users []string) []ErrorGroup {
	userSet := make(map[string]bool, len(users))
	for _, u := range users {
		userSet[u] = true
	}
	type key struct {
		cmd     trading.CommandName
		pattern string
	}
	index := map[key]int{}
	var groups []ErrorGroup
	for _, c := range counts { // most frequent first, so Example is the most frequent message
		k := key{c.Command, MessagePattern(c.Message, userSet)}
		if i, ok := index[k]; ok {
			groups[i].Count += c.Count
			continue
		}
		index[k] = len(groups)
		groups = append(groups, ErrorGroup{Command: c.Command, Pattern: k.pattern, Count: c.Count, Example: c.Message})
	}
	slices.SortStableFunc(groups, func(x, y ErrorGroup) int {
		return cmp.Or(cmp.Compare(y.Count, x.Count), cmp.Compare(x.Command, y.Command), cmp.Compare(x.Pattern, y.Pattern))
	})
	return groups
}

var (
	messageToken  = regexp.MustCompile(`\$?[A-Za-z0-9_]+(?:\.[0-9]+)?`) // words, with amounts whole
	numberToken   = regexp.MustCompile(`^\$?[0-9]+(?:\.[0-9]+)?$`)
	symbolToken   = regexp.MustCompile(`^[A-Z]{1,3}$`)
	commandTokens = map[string]bool{"ADD": true, "BUY": true} // command names a message may quote
)

// MessagePattern turns an error message into its pattern so that messages
// differing only in values count together: numbers become N ($N for
// amounts), the given user ids USER, and stock symbols (1 to 3 capital
// letters, but for the command names ADD and BUY) SYM. For example
// "not enough cash to buy $12.50 of ABC: you have $3.00" becomes
// "not enough cash to buy $N of SYM: you have $N".
func MessagePattern(msg string, users map[string]bool) string {
	return messageToken.ReplaceAllStringFunc(msg, func(tok string) string {
		switch {
		case numberToken.MatchString(tok):
			if strings.HasPrefix(tok, "$") {
				return "$N"
			}
			return "N"
		case users[tok]:
			return "USER"
		case symbolToken.MatchString(tok) && !commandTokens[tok]:
			return "SYM"
		}
		return tok
	})
}

// maxErrorGroupsShown and maxLinesShown bound the text report; the JSON
// has everything.
const (
	maxErrorGroupsShown = 25
	maxLinesShown       = 20
)

// WriteText writes the report as a readable summary with tables.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	if r.File != "" {
		fmt.Fprintf(&b, "workload   %s\n", r.File)
	}
	fmt.Fprintf(&b, "commands   %d from %d users, %d sent in %d batches (batch size %d, %d signals at a time, %s) in %.2f s\n",
		r.Commands, r.Users, r.Sent, r.Batches, r.BatchSize, r.Concurrency, windowText(r.Window), r.SendSeconds)
	fmt.Fprintf(&b, "processed  %d in %.2f s: %.0f commands/s (first send to last command audited)\n",
		r.Processed, r.WallSeconds, r.CommandsPerSecond)
	fmt.Fprintf(&b, "errors     %d error events; %d malformed lines left out; %d lines skipped\n",
		r.All.Errors, len(r.ParseErrors), len(r.Skipped))
	fmt.Fprintf(&b, "quotes     %d legacy quote server hits\n", r.LegacyQuoteHits)
	if r.TraderWindowSeconds > 0 {
		fmt.Fprintf(&b, "traders    used the stack: at most %s commands in flight for about %.1f s\n", traderWindowText(r), r.TraderWindowSeconds)
	}
	if r.PeakRSSMiB > 0 {
		fmt.Fprintf(&b, "memory     peak RSS %.0f MiB (this process); at most %d commands read ahead, %d awaiting their audit record (%d at the end)\n",
			r.PeakRSSMiB, r.MostReadAhead, r.MostAwaitingAudit, r.AuditReadAgain)
	}
	writeDumps(&b, r.Dumps)

	b.WriteString("\nlatency: from the batch recorded by Temporal to the workflow task that ran it, in ms\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "command\tcount\terrors\tp50\tp95\tp99\tmax\t")
	row := func(name string, s CommandStats) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t\n", name, s.Count, s.Errors,
			s.Latency.P50Ms, s.Latency.P95Ms, s.Latency.P99Ms, s.Latency.MaxMs)
	}
	for _, s := range r.ByCommand {
		row(string(s.Command), s)
	}
	row("all", r.All)
	if err := tw.Flush(); err != nil {
		return err
	}

	if len(r.Errors) > 0 {
		b.WriteString("\nerrors by command and message (N: a number, SYM: a symbol, USER: a user id)\n")
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		for i, g := range r.Errors {
			if i == maxErrorGroupsShown {
				fmt.Fprintf(tw, "\t\t... and %d more patterns (--json lists them all)\n", len(r.Errors)-i)
				break
			}
			fmt.Fprintf(tw, "%7d\t%s\t%s\n", g.Count, g.Command, g.Pattern)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	writeLines(&b, "malformed lines (left out)", r.ParseErrors)
	writeLines(&b, "skipped lines", r.Skipped)
	_, err := io.WriteString(w, b.String())
	return err
}

// windowText describes Report.Window.
func windowText(w int) string {
	if w < 0 {
		return "no limit on commands in flight"
	}
	return fmt.Sprintf("at most %d in flight", w)
}

func writeLines(b *strings.Builder, title string, lines []LineError) {
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(b, "\n%s\n", title)
	for i, l := range lines {
		if i == maxLinesShown {
			fmt.Fprintf(b, "  ... and %d more\n", len(lines)-i)
			break
		}
		if l.Text == "" {
			fmt.Fprintf(b, "  line %d: %s\n", l.Line, l.Error)
		} else {
			fmt.Fprintf(b, "  line %d: %s: %q\n", l.Line, l.Error, l.Text)
		}
	}
}

func indent(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }

// traderWindowText is the traders' window a run kept: its size, or the
// range it followed the traders' waits in.
func traderWindowText(r *Report) string {
	if r.TraderWindowMost > int64(r.TraderWindow) {
		return fmt.Sprintf("%d to %d", r.TraderWindow, r.TraderWindowMost)
	}
	return fmt.Sprint(r.TraderWindow)
}
