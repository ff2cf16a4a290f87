package workloads

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/daytradinginc/daytrader/activities"
	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/trading"
	"github.com/schollz/progressbar/v3"
)

// Sender delivers commands to the accounts (workflows.Accounts implements it).
type Sender interface {
	// Send delivers an ordered batch of one user's commands; once it
	// returns nil the batch is durably recorded and will be processed.
	// It must not keep cmds (the slice) once it returns: Run reuses it.
	Send(ctx context.Context, user string, cmds []trading.Command) error
	// RunGlobalDumpLog runs the administrator's system-wide DUMPLOG and
	// waits for the file.
	RunGlobalDumpLog(ctx context.Context, txNum int64, filename string) (activities.DumpResult, error)
}

// AuditReader is what a run reads from the audit history (audit.Store
// implements it).
type AuditReader interface {
	LastEventID(ctx context.Context) (int64, error)
	CountUserCommandsAfter(ctx context.Context, afterID int64) (count, lastID int64, err error)
	CountSince(ctx context.Context, afterID int64) (map[trading.EventType]int64, error)
	UserCommandsAfter(ctx context.Context, afterID int64, limit int) ([]audit.CommandTime, error)
	// UserCommandsBetween is user's userCommand records with ids above
	// afterID up to upToID: those UserCommandsAfter passed over because
	// they were committed late.
	UserCommandsBetween(ctx context.Context, user string, afterID, upToID int64) ([]audit.CommandTime, error)
	ErrorCounts(ctx context.Context, afterID int64, users []string) ([]audit.ErrorCount, error)
	// ProcessedCommands says which commands were already processed (a
	// re-run is refused at once instead of stalling on duplicates).
	ProcessedCommands(ctx context.Context, cmds []audit.UserTxNum, limit int) ([]audit.UserTxNum, error)
	// Write stores events idempotently by key: the errorEvents of lines no
	// account can take.
	Write(ctx context.Context, server string, events []trading.Event) error
}

// DefaultBatchSize is how many of one user's commands go in one signal
// unless told otherwise: as many as an account runs in one batch
// (workflows.MaxBatchCommands), since a batch's workflow tasks and audit
// activity cost about the same for 200 commands as for 1,000. On the
// 1,000,000-command file, back to back: 1,000 a signal ran 20,213
// commands/s in 76 CPU seconds, 500 ran 12,818 in 93, 200 ran 8,368 in 111.
const DefaultBatchSize = 1000

// DefaultPollInterval is RunOptions.PollInterval's default.
const DefaultPollInterval = 500 * time.Millisecond

// DefaultWindow is RunOptions.Window's default: 50 batches of
// DefaultBatchSize in flight, a few seconds of work on one machine.
const DefaultWindow = 50_000

// RunOptions tune Run. Zero values mean the defaults.
type RunOptions struct {
	// BatchSize is how many of one user's commands go in one signal
	// (default DefaultBatchSize). Embedded Temporal takes a few hundred
	// signals a second, so batching is what makes thousands of commands a
	// second.
	BatchSize int
	// Concurrency is how many users are sent at the same time (default 64).
	Concurrency int
	// StallTimeout fails the run when no command was processed for this
	// long (default 2 minutes).
	StallTimeout time.Duration
	// Window is how many commands may be sent but not yet processed
	// (default DefaultWindow; negative: no limit). It keeps the backlog in
	// Temporal a few seconds long, however long the workload.
	Window int
	// TraderWindow is the window while traders use the stack, when the
	// AuditReader is a TraderWatch (default DefaultTraderWindow; negative:
	// the Window always).
	TraderWindow int
	// TraderWait is the longest a trader's command should wait: when the
	// AuditReader is also a WaitWatch, the traders' window grows from
	// TraderWindow while their waits stay well under it and halves when
	// one is longer (waitControl). Default DefaultTraderWait; negative:
	// the traders' window stays TraderWindow.
	TraderWait time.Duration
	// PollInterval is how often the audit history is counted (default
	// 500 ms). The end is noticed within one interval; a poll reads the
	// records stored since the previous one. The end reported is exact
	// when the AuditReader notifies commits (audit.Store does).
	PollInterval time.Duration

	// Progress receives progress output; nil means none.
	Progress io.Writer
	// ProgressBar draws a bar on Progress (a terminal); otherwise a line is
	// written every ProgressEvery (default 5 s).
	ProgressBar   bool
	ProgressEvery time.Duration
	// Counted, when set, is told the run's processed count at each count
	// (on the run's goroutine: it must not block). `workload mixed` uses
	// it to send its late trader in while the workload still runs.
	Counted func(processed, total int64)

	// File names the workload in the report.
	File string
	// ParseErrors are the malformed lines the workload was parsed without
	// (ParseFile in lenient mode); the report lists them.
	ParseErrors []*ParseError
	// ValidateXSD, when set, is the logfile.xsd that each global DUMPLOG
	// file is checked against with `xmllint --noout --schema`.
	ValidateXSD string
	// Server is the <server> of the errorEvents written for lines with a
	// bad user id (default: the host name).
	Server string
}

func (o RunOptions) withDefaults() RunOptions {
	o.BatchSize = cmp.Or(o.BatchSize, DefaultBatchSize)
	o.Concurrency = cmp.Or(o.Concurrency, 64)
	o.Window = cmp.Or(o.Window, DefaultWindow)
	o.TraderWindow = cmp.Or(o.TraderWindow, DefaultTraderWindow)
	o.TraderWait = cmp.Or(o.TraderWait, DefaultTraderWait)
	o.StallTimeout = cmp.Or(o.StallTimeout, 2*time.Minute)
	o.PollInterval = cmp.Or(o.PollInterval, DefaultPollInterval)
	o.ProgressEvery = cmp.Or(o.ProgressEvery, 5*time.Second)
	return o
}

// Run sends the workload and reports on it:
//
//   - The workload is read line by line: once to plan the run, then to
//     send it, a group of users per read (a window's worth of their
//     commands, plan.passes), so its length does not bound the memory a run
//     needs and each account receives its commands close together.
//   - Each user's commands are sent in file order, in batches of up to
//     BatchSize (one signal each, the next batch only once the previous one
//     is recorded); the group's batches go out as the file fills them, at
//     most Concurrency at a time and at most Window commands ahead of the
//     ones processed.
//   - Progress is read from the audit history: a command is processed once
//     its userCommand record is stored, and every record of a command is
//     stored in the same statement, so it is then fully audited. Run counts
//     the userCommand records stored after the newest record it found when
//     it started, which assumes nothing else issues commands on the same
//     stack meanwhile (another client's commands would count as this run's).
//   - When every command is processed, the global lines run in file order
//     after all of them (the course files end with one: DUMPLOG,./testLOG).
//
// Run fails when a transaction number is used twice in the workload (the
// accounts would ignore the second one as a duplicate, and the report
// matches records to commands by number), when a Send fails, and when no
// command is processed for StallTimeout.
func Run(ctx context.Context, src Source, s Sender, a AuditReader, opts RunOptions) (*Report, error) {
	opts = opts.withDefaults()
	if opts.BatchSize < 1 || opts.Concurrency < 1 {
		return nil, fmt.Errorf("batch size (%d) and concurrency (%d) must be at least 1", opts.BatchSize, opts.Concurrency)
	}
	p, err := src.plan()
	if err != nil {
		return nil, err
	}
	if err := checkNotProcessed(ctx, p, a); err != nil {
		return nil, err
	}
	// Lines refused while parsing are audited before the run's mark: they
	// are reported with the malformed lines, not among the run's commands.
	if err := auditRejected(ctx, a, opts); err != nil {
		return nil, err
	}
	clock := listenCommits(ctx, a)
	defer clock.stop()
	mark, err := a.LastEventID(ctx)
	if err != nil {
		return nil, err
	}
	rep, log, err := sendAndWait(ctx, src, p, s, a, mark, clock, opts)
	if err != nil {
		return nil, err
	}
	rep.runGlobals(ctx, p.global, s, opts.ValidateXSD)
	if err := rep.fillFromAudit(ctx, a, mark, p, log); err != nil {
		return nil, err
	}
	rep.MostAwaitingAudit, rep.AuditReadAgain = log.most()
	return rep, nil
}

// sendAndWait sends every command and waits until all are processed; the
// report it returns has the counts and times of that part.
func sendAndWait(ctx context.Context, src Source, p *plan, s Sender, a AuditReader, mark int64,
	clock *commitClock, opts RunOptions) (*Report, *sentLog, error) {
	start := time.Now()
	sendCtx, stopSending := context.WithCancel(ctx)
	defer stopSending()
	log := newSentLog(p, mark)
	sender := newBatchSender(p, s, opts, log)
	sendDone := make(chan error, 1)
	yielded := make(chan time.Duration, 1)
	gate := &traderGate{}
	if tw, ok := a.(TraderWatch); ok && opts.yieldsToTraders() {
		// Asked once before sending: a run that starts while traders
		// trade starts with their window.
		gate = newTraderGate(tw, sender.window, opts)
		gate.check(ctx)
		go func() { yielded <- watchTraders(sendCtx, gate) }()
	} else {
		yielded <- 0
	}
	go func() { sendDone <- sender.sendAll(sendCtx, src) }()

	progress := newProgressView(opts, p.total, start)
	doneAt, processed, err := waitProcessed(ctx, a, mark, p.total, sender, sendDone, clock, progress, opts)
	progress.finish(err == nil)
	stopSending()
	traderSeconds := (<-yielded).Seconds()
	if err != nil {
		return nil, nil, err
	}
	doneAt = clock.end(start, sender.lastSent(), doneAt)
	clock.stop()

	rep := &Report{
		File: opts.File, Users: len(p.users), Commands: p.total, Sent: sender.sent.Load(),
		Batches: sender.batches.Load(), Processed: processed, MostReadAhead: sender.mostHeld.Load(),
		BatchSize: opts.BatchSize, Concurrency: opts.Concurrency, Window: opts.Window,
		SendSeconds: sender.lastSent().Sub(start).Seconds(),
		WallSeconds: doneAt.Sub(start).Seconds(), TraderWindow: opts.TraderWindow, TraderWindowSeconds: traderSeconds,
		TraderWindowMost: gate.most,
	}
	if rep.WallSeconds > 0 {
		rep.CommandsPerSecond = float64(processed) / rep.WallSeconds
	}
	rep.Progress = progress.samplesUntil(rep.WallSeconds, rep.Sent, processed)
	for _, pe := range opts.ParseErrors {
		rep.ParseErrors = append(rep.ParseErrors, LineError{Line: pe.LineNo, Text: pe.Text, Error: pe.Err.Error()})
	}
	return rep, log, nil
}

// runGlobals runs the lines without a user in file order, after every
// command: the global DUMPLOG; any other command without a user id cannot
// reach an account and is reported as skipped.
func (rep *Report) runGlobals(ctx context.Context, globals []Line, s Sender, xsd string) {
	for _, g := range globals {
		if g.Cmd.Name != trading.DumpLog {
			// (Text stays empty: the command would print as a different line.)
			rep.Skipped = append(rep.Skipped, LineError{Line: g.LineNo,
				Error: fmt.Sprintf("%s has an empty user id; only DUMPLOG runs without one", g.Cmd.Name)})
			continue
		}
		rep.Dumps = append(rep.Dumps, runGlobalDump(ctx, s, g, xsd))
	}
}

// waitProcessed polls the audit history until total commands are processed
// and every batch is sent (runCount.poll). It returns when the last count
// was taken (a count sees what was committed when its query began, so that
// moment bounds the end from above, within one PollInterval) and how many
// were counted. While the traders' window is in force it also counts at
// each audit commit notified (commitWake), so that the next batch goes out
// as soon as the stack is done with one, not at the next poll: with a
// batch or two in flight a poll's lag was idle time. The poll after such a
// count waits a whole interval again, so that a poll that finds nothing
// new (and counts exactly) means the stack was quiet that long.
func waitProcessed(ctx context.Context, a AuditReader, mark, total int64, sender *batchSender,
	sendDone <-chan error, clock *commitClock, progress *progressView, opts RunOptions) (time.Time, int64, error) {
	count := &runCount{a: a, mark: mark, total: total, cursor: mark}
	sendFinished, woke := false, false
	lastChange := time.Now()
	timer := time.NewTimer(opts.PollInterval)
	defer timer.Stop()
	for {
		before := count.processed
		c, err := count.poll(ctx, sender, woke)
		if err != nil {
			if ctx.Err() != nil {
				return time.Time{}, 0, count.interrupted(ctx)
			}
			return time.Time{}, 0, err
		}
		if count.processed != before {
			lastChange = c.at
		}
		progress.update(sender.sent.Load(), count.processed)
		if c.exact && sendFinished && count.processed >= total {
			return c.at, count.processed, nil
		}
		if stalled := time.Since(lastChange); stalled >= opts.StallTimeout {
			return time.Time{}, 0, stallError(stalled, count.processed, total, sender.sent.Load())
		}
		woke = false
		select {
		case err := <-sendDone:
			if err != nil {
				return time.Time{}, 0, fmt.Errorf("%w (%d of %d commands sent, %d processed)", err, sender.sent.Load(), total, count.processed)
			}
			sendFinished = true
			sendDone = nil // a nil channel never fires again
		case <-timer.C:
			timer.Reset(pollInterval(sender.window, opts))
		case <-commitWake(clock, sender.window, opts):
			woke = true
			timer.Reset(pollInterval(sender.window, opts))
		case <-ctx.Done():
			return time.Time{}, 0, count.interrupted(ctx)
		}
	}
}

// runCount is waitProcessed's count of the run's processed commands.
//
// Counting every record of the run at each poll would cost a scan of the
// whole run, more the longer it gets; instead each poll counts only the
// records after the last one it saw. That running sum can fall short (see
// audit.Store.CountUserCommandsAfter) but never over, so whenever a poll
// finds it stopped growing, or it or the sent log reaches the total, an
// exact count from the run's start settles it: the end is always decided
// by an exact count.
type runCount struct {
	a                 AuditReader
	mark, total       int64
	processed, cursor int64 // the count so far, and the id of the newest record counted
}

// poll counts the records stored since the last poll and reads them into
// the sent log's latency histograms (sender.fold), then opens the window to
// the commands known to be processed: the count or the log's, whichever is
// higher. The log finds a record the running count passed over (committed
// late under a lower id) once a later command of its user is read
// (sentLog.findLate); counted alone, such commands held the traders' window
// shut until the next exact count (at a window of 2,000, counting at each
// commit ran 100User 1.2-1.4 times as fast with the log's count as
// without). It folds before it opens the window, so that what awaits its
// record stays within the window. woke says a commit started this poll:
// then no exact count when nothing is new.
func (r *runCount) poll(ctx context.Context, sender *batchSender, woke bool) (processedCount, error) {
	c, err := countProcessed(ctx, r.a, r.mark, r.cursor, r.processed, r.total, !woke)
	if err != nil {
		return c, err
	}
	found, err := sender.fold(ctx, r.a)
	if err != nil {
		return c, err
	}
	if !c.exact && found >= r.total {
		// Every command's record was read: the end, once counted exactly.
		if c, err = exactCount(ctx, r.a, r.mark); err != nil {
			return c, err
		}
	}
	r.processed, r.cursor = c.processed, c.cursor
	sender.window.setProcessed(max(c.processed, found))
	return c, nil
}

func (r *runCount) interrupted(ctx context.Context) error {
	return fmt.Errorf("interrupted with %d of %d commands processed: %w", r.processed, r.total, ctx.Err())
}

// processedCount is one poll's count of the run's userCommand records.
type processedCount struct {
	processed, cursor int64     // the count, and the id of the newest record counted
	at                time.Time // when the counting query began
	exact             bool      // counted from the run's mark
}

// countProcessed adds the records after cursor to processed, and counts
// exactly from mark when processed reaches total or, with settleIdle, when
// none were added. (A count at a commit does not settle: the commit's
// records may be counted already, and a scan of the whole run at each
// commit would cost more than it saves.)
func countProcessed(ctx context.Context, a AuditReader, mark, cursor, processed, total int64, settleIdle bool) (processedCount, error) {
	c := processedCount{at: time.Now()}
	n, last, err := a.CountUserCommandsAfter(ctx, cursor)
	if err != nil {
		return c, err
	}
	c.processed, c.cursor = processed+n, last
	if n == 0 && settleIdle || c.processed >= total {
		return exactCount(ctx, a, mark)
	}
	return c, nil
}

// exactCount counts the run's records from its mark.
func exactCount(ctx context.Context, a AuditReader, mark int64) (processedCount, error) {
	c := processedCount{at: time.Now(), exact: true}
	var err error
	c.processed, c.cursor, err = a.CountUserCommandsAfter(ctx, mark)
	return c, err
}

func stallError(stalled time.Duration, processed, total, sent int64) error {
	return fmt.Errorf("no command was processed for %s: %d of %d commands are missing (%d sent, %d processed). "+
		"Is a worker running on the stack's task queue? If this workload, or another with the same users and "+
		"transaction numbers, already ran on this stack, the accounts ignore its commands as duplicate transaction "+
		"numbers: run it on a fresh stack (`daytrader workload run --embedded`)",
		stalled.Round(time.Second), total-processed, total, sent, processed)
}

// runGlobalDump runs one global DUMPLOG line, timed, and validates the file.
func runGlobalDump(ctx context.Context, s Sender, g Line, xsd string) DumpReport {
	d := DumpReport{Line: g.LineNo, TxNum: g.Cmd.TxNum, Filename: g.Cmd.Filename}
	began := time.Now()
	res, err := s.RunGlobalDumpLog(ctx, g.Cmd.TxNum, g.Cmd.Filename)
	d.Seconds = time.Since(began).Seconds()
	if err != nil {
		d.Error = err.Error()
		return d
	}
	d.Path, d.Records = res.Path, res.Events
	if xsd != "" {
		v := validateXML(ctx, xsd, d.Path)
		d.Valid, d.Validation, d.ValidatorPeakRSSMiB = &v.valid, v.message, v.peakRSSMiB
	}
	return d
}

// maxValidationLines caps how much of xmllint's output a report keeps: an
// invalid dump can have an error per record.
const maxValidationLines = 10

// validation is xmllint's verdict on a file, what it said (at most
// maxValidationLines) and the most memory it held.
type validation struct {
	valid      bool
	message    string
	peakRSSMiB float64 // 0: not known
}

// validateXML checks the file at path against the schema with xmllint.
// xmllint streams the file (--stream): without it xmllint builds the whole
// document in memory, 4.75 GiB for the 1.7 million records (431 MB) of a
// 1,000,000-command run's DUMPLOG, more than the stack that wrote it;
// streamed, 185 MiB, in about the same time (20.2 s against 18.0).
func validateXML(ctx context.Context, xsd, path string) validation {
	if _, err := os.Stat(path); err != nil {
		return validation{message: fmt.Sprintf("cannot validate: the dump is not readable here (%v); was it written by a worker on another machine?", err)}
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "xmllint", "--noout", "--stream", "--schema", xsd, path)
	cmd.Stdout, cmd.Stderr = &out, &out
	peak, err := runWatchingMemory(cmd)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) > maxValidationLines {
		lines = append(lines[:maxValidationLines], fmt.Sprintf("... and %d more lines", len(lines)-maxValidationLines))
	}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return validation{message: fmt.Sprintf("cannot run xmllint: %v", err)}
	}
	return validation{valid: err == nil, message: strings.Join(lines, "\n"), peakRSSMiB: peak}
}

// runWatchingMemory runs cmd and returns, with Wait's error, the most
// memory it held in MiB: the highest VmHWM its /proc status showed, read
// every 20 ms (0 without /proc). The kernel's rusage of a child cannot
// say: a child of this process counts this process's pages until it execs.
func runWatchingMemory(cmd *exec.Cmd) (peakMiB float64, err error) {
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var peakKiB int64
	for {
		select {
		case err := <-done:
			return float64(peakKiB) / 1024, err
		case <-tick.C:
			peakKiB = max(peakKiB, highWaterKiB(status))
		}
	}
}

// highWaterKiB is the VmHWM line of a /proc/PID/status file, 0 if none.
func highWaterKiB(status string) int64 {
	b, err := os.ReadFile(status)
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		var kib int64
		if _, err := fmt.Sscanf(line, "VmHWM: %d kB", &kib); err == nil {
			return kib
		}
	}
	return 0
}

// maxProgressSamples bounds the samples a run keeps: at the 0.5 s poll a
// run of 8.5 minutes has that many, and a longer one keeps every other.
const maxProgressSamples = 1024

// progressView shows sent and processed commands: a bar on a terminal, or
// a line every ProgressEvery otherwise; it keeps polls as samples for the
// report, one every stride (doubled each time maxProgressSamples are kept).
type progressView struct {
	w       io.Writer
	total   int64
	bar     *progressbar.ProgressBar
	every   time.Duration
	start   time.Time
	samples []ProgressSample
	stride  int // keep one poll in stride
	polls   int // polls since the last one kept

	lastLine      time.Time
	lastProcessed int64
	lastSent      int64
	counted       func(processed, total int64) // RunOptions.Counted
}

func newProgressView(opts RunOptions, total int64, start time.Time) *progressView {
	v := &progressView{w: opts.Progress, total: total, every: opts.ProgressEvery, lastLine: time.Now(), start: start,
		stride: 1, counted: opts.Counted}
	if v.w == nil || total == 0 {
		v.w = nil
		return v
	}
	if opts.ProgressBar {
		v.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(v.w),
			progressbar.OptionSetDescription("sent 0"),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("cmd"),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionShowElapsedTimeOnFinish(),
			progressbar.OptionSetRenderBlankState(true),
		)
	}
	return v
}

func (v *progressView) update(sent, processed int64) {
	v.sample(ProgressSample{Seconds: time.Since(v.start).Seconds(), Sent: sent, Processed: processed})
	if v.counted != nil {
		v.counted(processed, v.total)
	}
	if v.w == nil {
		return
	}
	if v.bar != nil {
		v.bar.Describe(fmt.Sprintf("sent %d, processed", sent))
		_ = v.bar.Set64(min(processed, v.total))
		return
	}
	now := time.Now()
	if now.Sub(v.lastLine) < v.every && processed < v.total {
		return
	}
	if processed == v.lastProcessed && sent == v.lastSent && processed < v.total {
		return
	}
	rate := float64(processed-v.lastProcessed) / now.Sub(v.lastLine).Seconds()
	fmt.Fprintf(v.w, "workload: sent %d/%d, processed %d/%d (%.0f commands/s)\n", sent, v.total, processed, v.total, rate)
	v.lastLine, v.lastProcessed, v.lastSent = now, processed, sent
}

// sample keeps one poll in stride; at maxProgressSamples it keeps every
// other one and doubles the stride.
func (v *progressView) sample(s ProgressSample) {
	if v.polls++; v.polls < v.stride {
		return
	}
	v.polls = 0
	v.samples = append(v.samples, s)
	if len(v.samples) < maxProgressSamples {
		return
	}
	for i := range len(v.samples) / 2 {
		v.samples[i] = v.samples[2*i+1]
	}
	v.samples = v.samples[:len(v.samples)/2]
	v.stride *= 2
}

// samplesUntil are the polls before the run's end (the last poll may come
// after it: the end is the last commit, when known) and the end itself.
func (v *progressView) samplesUntil(end float64, sent, processed int64) []ProgressSample {
	var out []ProgressSample
	for _, s := range v.samples {
		if s.Seconds < end {
			out = append(out, s)
		}
	}
	return append(out, ProgressSample{Seconds: end, Sent: sent, Processed: processed})
}

func (v *progressView) finish(completed bool) {
	if v.bar == nil {
		return
	}
	if completed {
		_ = v.bar.Finish() // draws the full bar, which the throttle may have skipped
	} else {
		_ = v.bar.Exit()
	}
	fmt.Fprintln(v.w)
}
