// Package workflows holds DayTrader's Temporal workflows: one long-lived
// Account workflow per trader, a Trigger child workflow per live buy or sell
// trigger, and the administrator's global DumpLog. The trading rules live in
// package trading; the workflows only order commands, fetch quotes, keep
// timers and children, and write the audit through activities.
package workflows

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/daytradinginc/daytrader/activities"
	"github.com/daytradinginc/daytrader/trading"
	"github.com/shopspring/decimal"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Names used by every client of the account workflow. They are the public
// interface documented in the README: any Temporal client can use them.
const (
	TaskQueue = "daytrader"

	// SignalCommand carries one trading.Command as JSON.
	SignalCommand = "command"
	// SignalCommands carries an ordered JSON array of trading.Command.
	SignalCommands = "commands"
	// SignalTriggerHit is sent by a Trigger workflow when its price is reached.
	SignalTriggerHit = "trigger-hit"
	// UpdateExecute runs one command and returns its trading.Result once the
	// command is applied and audited.
	UpdateExecute = "execute"
	// QuerySummary returns the account's trading.Summary.
	QuerySummary = "summary"
	// QueryProgress returns Progress (how many commands were processed).
	QueryProgress = "progress"
)

// How a batch's audit records are written (workflow.GetVersion change ID
// auditWriteChange): the audit must hold exactly what the committed history
// did, also when a worker dies mid-task and another retries the task.
const (
	auditWriteChange = "quotes-recorded-before-audit"
	// auditInTask (DefaultVersion): a local activity in the batch's task.
	auditInTask = workflow.DefaultVersion
	// Version 1 (end the task after the quote fetch, then a local activity)
	// never left development and is not supported.
	// auditByActivity: a regular activity, scheduled by the task that ran
	// the batch, so it runs only once that task is in the history, with the
	// records that history implies; its retries reuse the same input.
	auditByActivity workflow.Version = 2
)

func (r *accountRun) auditVersion() workflow.Version {
	return workflow.GetVersion(r.ctx, auditWriteChange, auditInTask, auditByActivity)
}

// AccountTaskTimeout is the account workflows' workflow task timeout. Short,
// so that a local activity retrying for seconds (Postgres down) releases the
// task; a busy task is kept alive by the SDK's heartbeats meanwhile.
const AccountTaskTimeout = 3 * time.Second

// AccountWorkflowID is the workflow ID of a user's account.
func AccountWorkflowID(user string) string { return "account-" + user }

// AccountInput starts an account workflow. State is nil on the very first
// start and carries everything across continue-as-new.
type AccountInput struct {
	User  string        `json:"user"`
	State *AccountState `json:"state,omitempty"`
}

// AccountState is what survives continue-as-new.
type AccountState struct {
	Account *trading.Account `json:"account"`
	// ChainID is the first run's ID: audit event keys are ChainID/EventSeq,
	// unique across continue-as-new and across a new workflow for the user.
	ChainID  string `json:"chainId"`
	EventSeq int64  `json:"eventSeq"`
	// RecentTxNums is the duplicate-detection window: a command whose
	// transaction number is in it has already been applied.
	RecentTxNums []int64 `json:"recentTxNums"`
	Processed    int64   `json:"processed"`
	// Watched are the triggers a Trigger workflow is running for, with the
	// price it watches.
	Watched []WatchedTrigger `json:"watched"`
	// Queue holds commands received but not yet processed at continue-as-new.
	Queue []trading.Command `json:"queue,omitempty"`
}

// WatchedTrigger is a running Trigger child workflow.
type WatchedTrigger struct {
	Key   trading.TriggerKey `json:"key"`
	Price decimal.Decimal    `json:"price"`
}

// Progress is the answer of QueryProgress.
type Progress struct {
	Processed int64 `json:"processed"`
	LastTxNum int64 `json:"lastTxNum"`
}

// TriggerHit is what a Trigger workflow reports: the quote at which its
// condition held. The account re-checks the condition before executing.
type TriggerHit struct {
	Key   trading.TriggerKey `json:"key"`
	Quote trading.Quote      `json:"quote"`
}

// AccountOptions tune the workflow; tests shorten intervals.
type AccountOptions struct {
	// DuplicateWindow is how many recent transaction numbers are remembered.
	DuplicateWindow int
	// TriggerCheckEvery is how often a Trigger workflow checks the price.
	TriggerCheckEvery time.Duration
	// ChildDebounce delays starting and stopping Trigger workflows while
	// commands keep arriving, so a burst that sets and cancels a trigger does
	// not start a workflow for nothing. MaxChildDelay bounds the delay.
	ChildDebounce time.Duration
	MaxChildDelay time.Duration
	// MaxHistoryEvents continues-as-new even before the server suggests it.
	MaxHistoryEvents int
	// MaxCommandsPerRun continues-as-new after this many commands in one run
	// (0 = no limit): a second, simpler bound on the history's growth.
	MaxCommandsPerRun int
}

// DefaultAccountOptions are the production settings.
var DefaultAccountOptions = AccountOptions{
	DuplicateWindow:   4096,
	TriggerCheckEvery: 30 * time.Second,
	ChildDebounce:     2 * time.Second,
	MaxChildDelay:     20 * time.Second,
	MaxHistoryEvents:  20000,
	MaxCommandsPerRun: 20000,
}

// accountRun is the in-memory state of one run of the account workflow.
type accountRun struct {
	ctx    workflow.Context
	opts   AccountOptions
	user   string
	wfID   string
	st     *AccountState
	recent map[int64]bool

	queue []queued
	hits  []TriggerHit
	// events waiting to be written to the audit store, in order.
	unwritten []trading.Event

	timerAt     time.Time // deadline of the armed timer, zero if none
	timer       workflow.Future
	childrenDue time.Time // when the watched triggers must be reconciled
	firstDirty  time.Time
	lastTxNum   int64
	// worked is set once this run has processed a batch: a brand-new
	// workflow waits for its first command before deciding anything.
	worked bool
	// ranCommands counts commands processed by this run.
	ranCommands int

	cmdCh, cmdsCh, hitCh workflow.ReceiveChannel
}

// queued is one command waiting to run; done is set for an Update's command
// so the handler can return the result.
type queued struct {
	cmd  trading.Command
	wait *updateWait
}

type updateWait struct {
	done   bool
	result trading.Result
}

// Account is the workflow of one trader's account.
func Account(ctx workflow.Context, in AccountInput) error {
	return AccountWithOptions(ctx, in, DefaultAccountOptions)
}

// AccountWithOptions is Account with explicit options (tests register it
// under the same name with short intervals).
func AccountWithOptions(ctx workflow.Context, in AccountInput, opts AccountOptions) error {
	r := newAccountRun(ctx, in, opts)
	if err := r.registerHandlers(); err != nil {
		return err
	}
	for {
		r.drain()
		if len(r.queue) == 0 && len(r.hits) == 0 {
			if r.closable() {
				// A user who never opened an account leaves nothing to keep.
				return nil
			}
			if r.shouldContinueAsNew() && workflow.AllHandlersFinished(ctx) {
				return r.continueAsNew()
			}
			r.armTimer()
			err := workflow.Await(ctx, func() bool {
				return r.cmdCh.Len() > 0 || r.cmdsCh.Len() > 0 || r.hitCh.Len() > 0 || len(r.queue) > 0 ||
					(r.timer != nil && r.timer.IsReady())
			})
			if err != nil {
				return err
			}
			if r.timer != nil && r.timer.IsReady() {
				r.timer, r.timerAt = nil, time.Time{}
				r.housekeeping()
			}
			continue
		}
		if err := r.processBatch(); err != nil {
			return err
		}
	}
}

// drain moves every signal received so far into the queue, in the order of
// each channel.
func (r *accountRun) drain() {
	for {
		var c trading.Command
		if !r.cmdCh.ReceiveAsync(&c) {
			break
		}
		r.queue = append(r.queue, queued{cmd: c})
	}
	for {
		var cs []trading.Command
		if !r.cmdsCh.ReceiveAsync(&cs) {
			break
		}
		for _, c := range cs {
			r.queue = append(r.queue, queued{cmd: c})
		}
	}
	for {
		var h TriggerHit
		if !r.hitCh.ReceiveAsync(&h) {
			break
		}
		r.hits = append(r.hits, h)
	}
}

func newAccountRun(ctx workflow.Context, in AccountInput, opts AccountOptions) *accountRun {
	st := in.State
	if st == nil {
		st = &AccountState{Account: trading.NewAccount(in.User), ChainID: workflow.GetInfo(ctx).FirstRunID}
	}
	r := &accountRun{ctx: ctx, opts: opts, user: in.User, wfID: workflow.GetInfo(ctx).WorkflowExecution.ID, st: st,
		recent: make(map[int64]bool, len(st.RecentTxNums)),
		cmdCh:  workflow.GetSignalChannel(ctx, SignalCommand), cmdsCh: workflow.GetSignalChannel(ctx, SignalCommands),
		hitCh: workflow.GetSignalChannel(ctx, SignalTriggerHit)}
	for _, tx := range st.RecentTxNums {
		r.recent[tx] = true
	}
	for _, c := range st.Queue {
		r.queue = append(r.queue, queued{cmd: c})
	}
	st.Queue = nil
	return r
}

func (r *accountRun) registerHandlers() error {
	if err := workflow.SetQueryHandler(r.ctx, QuerySummary, func() (trading.Summary, error) {
		return r.st.Account.Summary(workflow.Now(r.ctx)), nil
	}); err != nil {
		return err
	}
	if err := workflow.SetQueryHandler(r.ctx, QueryProgress, func() (Progress, error) {
		return Progress{Processed: r.st.Processed, LastTxNum: r.lastTxNum}, nil
	}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(r.ctx, UpdateExecute,
		func(ctx workflow.Context, cmd trading.Command) (trading.Result, error) {
			// Signals delivered before this update go first: the queue
			// follows the order in which the account received commands.
			r.drain()
			w := &updateWait{}
			r.queue = append(r.queue, queued{cmd: cmd, wait: w})
			if err := workflow.Await(ctx, func() bool { return w.done }); err != nil {
				return trading.Result{}, err
			}
			return w.result, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, cmd trading.Command) error {
			// Rejected updates leave no trace in the history: bad input changes nothing.
			if err := cmd.Validate(); err != nil {
				return err
			}
			if cmd.User != r.user {
				return fmt.Errorf("command for user %q sent to the account of %q", cmd.User, r.user)
			}
			if cmd.Name == trading.DumpLog && cmd.User == "" {
				return fmt.Errorf("the system-wide DUMPLOG is not an account command")
			}
			return nil
		}})
}

// processBatch runs every queued command and trigger hit in arrival order,
// then writes their audit events in one go and answers waiting updates.
func (r *accountRun) processBatch() error {
	batch, hits := r.queue, r.hits
	r.queue, r.hits = nil, nil
	r.worked = true
	now := workflow.Now(r.ctx)

	quotes, err := r.prefetchQuotes(batch, hits, now)
	if err != nil {
		return err
	}
	quoter := func(sym string) (trading.Quote, bool, error) {
		if q, ok := r.st.Account.LastQuotes[sym]; ok && q.ValidAt(now) {
			return q, false, nil
		}
		res, ok := quotes[sym]
		if !ok {
			return trading.Quote{}, false, fmt.Errorf("no quote fetched for %s", sym)
		}
		if res.Err != "" {
			return trading.Quote{}, false, fmt.Errorf("%s", res.Err)
		}
		// A legacy hit is audited by the first command that uses it.
		hit := res.LegacyHit
		res.LegacyHit = false
		quotes[sym] = res
		return res.Quote, hit, nil
	}
	env := trading.Env{Now: now, Quote: quoter}

	for _, h := range hits {
		// A hit is only a hint (any client can send one): the account checks
		// its trigger against a quote it fetched itself, never the hit's.
		res, ok := quotes[h.Key.Symbol]
		if !ok || res.Err != "" {
			continue // the watcher checks again
		}
		evs, _ := r.st.Account.CheckTriggers(res.Quote, 0, now)
		r.record(evs)
	}
	var waits []queued
	for _, q := range batch {
		cmd := q.cmd
		if cmd.TxNum > 0 && r.recent[cmd.TxNum] {
			// Applied before (a redelivered signal, a retried update): once only.
			if q.wait != nil {
				q.wait.result = trading.Result{TxNum: cmd.TxNum, Command: cmd.Name, OK: false,
					Message: fmt.Sprintf("transaction %d was already processed", cmd.TxNum)}
				waits = append(waits, q)
			}
			workflow.GetLogger(r.ctx).Warn("duplicate command ignored", "txNum", cmd.TxNum, "command", cmd.Name)
			continue
		}
		if !cmd.Name.Known() || cmd.TxNum <= 0 {
			// No audit record can describe it (logfile.xsd knows only the
			// spec's commands and positive transaction numbers): refuse it
			// here. Updates never get this far: their validator refuses it.
			workflow.GetLogger(r.ctx).Warn("malformed command ignored", "txNum", cmd.TxNum, "command", cmd.Name)
			continue
		}
		out := r.st.Account.Execute(cmd, env)
		r.remember(cmd.TxNum)
		r.st.Processed++
		r.ranCommands++
		r.record(out.Events)
		if cmd.Name == trading.DumpLog && out.Result.OK {
			if err := r.dumpLog(cmd, &out.Result); err != nil {
				return err
			}
		}
		if q.wait != nil {
			q.wait.result = out.Result
			waits = append(waits, q)
		}
	}
	// Legacy hits that no command used (its command failed first) are
	// billed all the same, so they are audited under the batch's first command.
	for _, sym := range slices.Sorted(maps.Keys(quotes)) {
		if res := quotes[sym]; res.LegacyHit && res.Err == "" {
			r.record([]trading.Event{trading.QuoteEvent(res.Quote, firstTxNum(batch))})
		}
	}
	if err := r.flushAudit(); err != nil {
		return err
	}
	for _, q := range waits {
		q.wait.done = true
	}
	r.markChildrenDirty(now)
	return nil
}

// prefetchQuotes asks, in one local activity, for every symbol the batch
// will price that the account has no valid quote for: the legacy server is
// slow, so asking for all of them in parallel is what keeps a batch fast.
func (r *accountRun) prefetchQuotes(batch []queued, hits []TriggerHit, now time.Time) (map[string]activities.QuoteResult, error) {
	need := map[string]bool{}
	for _, h := range hits {
		need[h.Key.Symbol] = trading.ValidSymbol(h.Key.Symbol)
	}
	for _, q := range batch {
		c := q.cmd
		if !c.Name.NeedsQuote() || !trading.ValidSymbol(c.Symbol) || !r.st.Account.Opened && c.Name != trading.Add && !anyAdd(batch) {
			continue
		}
		if lq, ok := r.st.Account.LastQuotes[c.Symbol]; ok && lq.ValidAt(now) {
			continue
		}
		need[c.Symbol] = true
	}
	out := map[string]activities.QuoteResult{}
	maps.DeleteFunc(need, func(_ string, ok bool) bool { return !ok })
	if len(need) == 0 {
		return out, nil
	}
	req := activities.QuotesRequest{User: r.user, Symbols: slices.Sorted(maps.Keys(need))}
	ctx := workflow.WithLocalActivityOptions(r.ctx, workflow.LocalActivityOptions{
		// The quote client gives up after ~4 s itself; a failure becomes a
		// per-symbol error, so the activity only fails on a worker crash.
		StartToCloseTimeout: 15 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 100 * time.Millisecond, MaximumAttempts: 3},
	})
	var a *activities.Activities
	if err := workflow.ExecuteLocalActivity(ctx, a.GetQuotes, req).Get(ctx, &out); err != nil {
		// Quotes unavailable: commands that need one fail with a clear error.
		for _, sym := range req.Symbols {
			out[sym] = activities.QuoteResult{Err: "quote service unavailable: " + err.Error()}
		}
	}
	return out, nil
}

func anyAdd(batch []queued) bool {
	return slices.ContainsFunc(batch, func(q queued) bool { return q.cmd.Name == trading.Add })
}

// record numbers events with this account's audit keys and queues them.
func (r *accountRun) record(evs []trading.Event) {
	for _, ev := range evs {
		r.st.EventSeq++
		ev.Key = fmt.Sprintf("%s/%s/%d", r.wfID, r.st.ChainID, r.st.EventSeq)
		r.unwritten = append(r.unwritten, ev)
	}
}

// flushAudit writes the queued events. It retries until Postgres takes them:
// an account does not move on while its audit is behind, so nothing
// acknowledged can be missing from the history.
func (r *accountRun) flushAudit() error {
	if len(r.unwritten) == 0 {
		return nil
	}
	var a *activities.Activities
	if r.auditVersion() == auditByActivity {
		ctx := workflow.WithActivityOptions(r.ctx, workflow.ActivityOptions{
			StartToCloseTimeout: 30 * time.Second,
			// Unlimited retries: during a Postgres outage the account waits
			// (and answers queries); its updates stay unacknowledged.
			RetryPolicy: &temporal.RetryPolicy{InitialInterval: 200 * time.Millisecond, BackoffCoefficient: 2,
				MaximumInterval: 5 * time.Second},
		})
		if err := workflow.ExecuteActivity(ctx, a.WriteAudit, r.unwritten).Get(ctx, nil); err != nil {
			return err
		}
		r.unwritten = nil
		return nil
	}
	ctx := workflow.WithLocalActivityOptions(r.ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		// A retry whose backoff is longer than the workflow task timeout
		// (AccountTaskTimeout) waits on a workflow timer instead of holding
		// the task: during a Postgres outage the account still answers
		// queries, and its updates wait, unacknowledged, for the audit.
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 200 * time.Millisecond, BackoffCoefficient: 2,
			MaximumInterval: 10 * time.Second},
	})
	if err := workflow.ExecuteLocalActivity(ctx, a.WriteAudit, r.unwritten).Get(ctx, nil); err != nil {
		return err
	}
	r.unwritten = nil
	return nil
}

// dumpLog writes the user's history, including this command's own record,
// into the dump directory.
func (r *accountRun) dumpLog(cmd trading.Command, res *trading.Result) error {
	if err := r.flushAudit(); err != nil {
		return err
	}
	ctx := workflow.WithActivityOptions(r.ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 5},
	})
	var a *activities.Activities
	var out activities.DumpResult
	err := workflow.ExecuteActivity(ctx, a.DumpLog, activities.DumpRequest{TxNum: cmd.TxNum, User: r.user, Filename: cmd.Filename}).Get(ctx, &out)
	if err != nil {
		res.OK = false
		res.Message = "DUMPLOG failed: " + err.Error()
		r.record([]trading.Event{{Type: trading.ErrorEvent, Time: workflow.Now(r.ctx), TxNum: cmd.TxNum, Command: trading.DumpLog,
			User: r.user, Filename: cmd.Filename, Message: res.Message}})
		return nil
	}
	res.Message = fmt.Sprintf("wrote %d records to %s", out.Events, out.Path)
	return nil
}

func (r *accountRun) remember(tx int64) {
	if tx <= 0 {
		return
	}
	r.lastTxNum = tx
	r.recent[tx] = true
	r.st.RecentTxNums = append(r.st.RecentTxNums, tx)
	if over := len(r.st.RecentTxNums) - r.opts.DuplicateWindow; over > 0 {
		for _, old := range r.st.RecentTxNums[:over] {
			delete(r.recent, old)
		}
		r.st.RecentTxNums = slices.Clone(r.st.RecentTxNums[over:])
	}
}

// markChildrenDirty schedules a reconcile of Trigger workflows after the
// burst of commands settles (debounced, but never later than MaxChildDelay).
func (r *accountRun) markChildrenDirty(now time.Time) {
	if slices.Equal(r.watchedKeys(), r.desiredTriggers()) && r.pricesMatch() {
		return
	}
	if r.firstDirty.IsZero() {
		r.firstDirty = now
	}
	due := now.Add(r.opts.ChildDebounce)
	if limit := r.firstDirty.Add(r.opts.MaxChildDelay); due.After(limit) {
		due = limit
	}
	r.childrenDue = due
}

// armTimer keeps one timer for the next thing that must happen by itself:
// a pending trade expiring, or the Trigger workflows being reconciled.
func (r *accountRun) armTimer() {
	next := r.st.Account.NextExpiry()
	if !next.IsZero() {
		// Timers fire on whole seconds past the deadline so a burst of trades
		// made within a second shares one timer; the rules already refuse a
		// late COMMIT, so the drop can be a little late without harm.
		next = next.Truncate(time.Second).Add(time.Second)
	}
	if !r.childrenDue.IsZero() && (next.IsZero() || r.childrenDue.Before(next)) {
		next = r.childrenDue
	}
	if next.IsZero() || (!r.timerAt.IsZero() && !next.Before(r.timerAt)) {
		return
	}
	d := next.Sub(workflow.Now(r.ctx))
	if d < time.Millisecond {
		d = time.Millisecond
	}
	r.timerAt = next
	r.timer = workflow.NewTimer(r.ctx, d)
}

// housekeeping runs when the timer fires: drop expired pending trades and
// bring the Trigger workflows in line with the account's triggers.
func (r *accountRun) housekeeping() {
	now := workflow.Now(r.ctx)
	r.record(r.st.Account.ExpirePending(now))
	if !r.childrenDue.IsZero() && !now.Before(r.childrenDue) {
		r.reconcileChildren()
		r.childrenDue, r.firstDirty = time.Time{}, time.Time{}
	}
	r.st.Account.ForgetStaleQuotes(now)
	if err := r.flushAudit(); err != nil {
		workflow.GetLogger(r.ctx).Error("audit flush failed; will retry with the next batch", "error", err)
	}
}

func (r *accountRun) desiredTriggers() []trading.TriggerKey { return r.st.Account.Triggers() }

func (r *accountRun) watchedKeys() []trading.TriggerKey {
	keys := make([]trading.TriggerKey, len(r.st.Watched))
	for i, w := range r.st.Watched {
		keys[i] = w.Key
	}
	return keys
}

func (r *accountRun) pricesMatch() bool {
	for _, w := range r.st.Watched {
		if p, ok := r.st.Account.TriggerPrice(w.Key); !ok || !p.Equal(w.Price) {
			return false
		}
	}
	return true
}

// reconcileChildren starts a Trigger workflow for each new trigger, tells a
// running one about a changed price, and cancels those whose trigger is gone
// (executed or cancelled). Children are abandoned on continue-as-new and
// addressed by workflow ID, so they outlive any one run of the account.
func (r *accountRun) reconcileChildren() {
	desired := r.desiredTriggers()
	var kept []WatchedTrigger
	for _, w := range r.st.Watched {
		price, ok := r.st.Account.TriggerPrice(w.Key)
		id := TriggerWorkflowID(r.user, w.Key)
		if !ok {
			r.async("cancel trigger workflow", workflow.RequestCancelExternalWorkflow(r.ctx, id, ""))
			continue
		}
		if !price.Equal(w.Price) {
			r.async("reprice trigger workflow", workflow.SignalExternalWorkflow(r.ctx, id, "", SignalReprice, price))
			w.Price = price
		}
		kept = append(kept, w)
	}
	for _, k := range desired {
		if slices.ContainsFunc(kept, func(w WatchedTrigger) bool { return w.Key == k }) {
			continue
		}
		price, _ := r.st.Account.TriggerPrice(k)
		// Disconnected: ending this run (continue-as-new) must not cancel
		// the watcher; it is abandoned and found again by its ID.
		dctx, _ := workflow.NewDisconnectedContext(r.ctx)
		cctx := workflow.WithChildOptions(dctx, workflow.ChildWorkflowOptions{
			WorkflowID:            TriggerWorkflowID(r.user, k),
			ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
			WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		})
		child := workflow.ExecuteChildWorkflow(cctx, Trigger, TriggerInput{
			User: r.user, Key: k, Price: price, CheckEvery: r.opts.TriggerCheckEvery,
		})
		r.async("start trigger workflow", child.GetChildWorkflowExecution())
		kept = append(kept, WatchedTrigger{Key: k, Price: price})
	}
	r.st.Watched = kept
}

// async waits for a fire-and-forget command in the background and logs a
// failure; the account never blocks on its children.
func (r *accountRun) async(what string, f workflow.Future) {
	workflow.Go(r.ctx, func(ctx workflow.Context) {
		if err := f.Get(ctx, nil); err != nil {
			workflow.GetLogger(ctx).Info(what+" did not complete", "error", err)
		}
	})
}

func (r *accountRun) closable() bool {
	return r.worked && !r.st.Account.Opened && len(r.st.Watched) == 0 && len(r.unwritten) == 0 &&
		workflow.AllHandlersFinished(r.ctx)
}

func (r *accountRun) shouldContinueAsNew() bool {
	info := workflow.GetInfo(r.ctx)
	return info.GetContinueAsNewSuggested() || info.GetCurrentHistoryLength() > r.opts.MaxHistoryEvents ||
		(r.opts.MaxCommandsPerRun > 0 && r.ranCommands >= r.opts.MaxCommandsPerRun)
}

// continueAsNew carries the whole state, including commands that arrived
// after the last batch, into a fresh run.
func (r *accountRun) continueAsNew() error {
	r.drain()
	for _, q := range r.queue {
		r.st.Queue = append(r.st.Queue, q.cmd)
	}
	if len(r.hits) > 0 {
		// Hits are only hints: the watchers check again within a minute.
		workflow.GetLogger(r.ctx).Info("trigger hits dropped at continue-as-new", "count", len(r.hits))
	}
	return workflow.NewContinueAsNewError(r.ctx, Account, AccountInput{User: r.user, State: r.st})
}

func firstTxNum(batch []queued) int64 {
	for _, q := range batch {
		if q.cmd.TxNum > 0 {
			return q.cmd.TxNum
		}
	}
	return 1
}
