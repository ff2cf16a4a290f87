package workflows

import (
	"fmt"
	"time"

	"github.com/daytradinginc/daytrader/trading"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

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
	// QuoteTimeout bounds one attempt of a batch's or a trigger's quote
	// fetch (0: DefaultQuoteTimeout); see quoteActivityOptions.
	QuoteTimeout time.Duration
}

// DefaultQuoteTimeout is QuoteTimeout's default.
const DefaultQuoteTimeout = 15 * time.Second

// DefaultAccountOptions are the production settings. It is a function, not
// a variable, so that no test or caller can change them for everyone else:
// pass options to the worker instead (worker.Options.Account).
func DefaultAccountOptions() AccountOptions {
	return AccountOptions{
		DuplicateWindow:   4096,
		TriggerCheckEvery: 30 * time.Second,
		ChildDebounce:     2 * time.Second,
		MaxChildDelay:     20 * time.Second,
		MaxHistoryEvents:  20000,
		MaxCommandsPerRun: 20000,
		QuoteTimeout:      DefaultQuoteTimeout,
	}
}

// Workflows are the Account and Trigger workflows bound to one set of
// options; a worker registers their methods under AccountWorkflowType and
// TriggerWorkflowType.
type Workflows struct{ opts AccountOptions }

// NewWorkflows binds the workflows to opts; the zero AccountOptions means
// DefaultAccountOptions().
func NewWorkflows(opts AccountOptions) *Workflows {
	if opts == (AccountOptions{}) {
		opts = DefaultAccountOptions()
	}
	return &Workflows{opts: opts}
}

// accountRun is the in-memory state of one run of the account workflow.
type accountRun struct {
	ctx  workflow.Context
	opts AccountOptions
	user string
	wfID string
	st   *AccountState
	// maxTx is the highest transaction number in st.RecentTxNums so far: a
	// number above it cannot be in the window, which is then not searched
	// (workload files and the interactive sequence both number upwards).
	maxTx int64

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
	// moveCh receives SignalInteractive; moveTo is the task queue the
	// account moves to at its next continue-as-new ("" for none).
	moveCh workflow.ReceiveChannel
	moveTo string
}

// queued is one command waiting to run; wait is set for an Update's command
// so the handler can return the result.
type queued struct {
	cmd  trading.Command
	wait *updateWait
}

type updateWait struct {
	done   bool
	result trading.Result
	span   any // the update's trace span (under TraceSpanKey); nil without tracing
}

// answer keeps res for the update waiting on q, if any; the update returns
// it once the batch is audited.
func (q queued) answer(res trading.Result) {
	if q.wait != nil {
		q.wait.result = res
	}
}

// Account is the workflow of one trader's account with the default
// options: what clients start (its name is AccountWorkflowType) and what
// replay tests register.
func Account(ctx workflow.Context, in AccountInput) error {
	return NewWorkflows(DefaultAccountOptions()).Account(ctx, in)
}

// Account is the workflow of one trader's account.
func (w *Workflows) Account(ctx workflow.Context, in AccountInput) error {
	if err := validateAccountInput(in); err != nil {
		return err
	}
	if err := checkAccountID(ctx, in.User); err != nil {
		return err
	}
	r := newAccountRun(ctx, in, w.opts)
	if err := r.registerHandlers(); err != nil {
		return err
	}
	for {
		r.drain()
		r.takeMoveRequest()
		if len(r.queue) > 0 || len(r.hits) > 0 {
			if err := r.processBatch(); err != nil {
				return err
			}
			continue
		}
		if r.closable() {
			// A user who never opened an account leaves nothing to keep.
			return nil
		}
		if (r.shouldContinueAsNew() || r.moveTo != "") && workflow.AllHandlersFinished(ctx) {
			return r.continueAsNew()
		}
		if err := r.idle(); err != nil {
			return err
		}
	}
}

// checkAccountID refuses a start under another workflow ID than
// account-<user>: any Temporal client could start account-zed with the
// input user bob, a second account of bob's whose records would be filed
// under bob beside the real one's.
func checkAccountID(ctx workflow.Context, user string) error {
	if id := workflow.GetInfo(ctx).WorkflowExecution.ID; id != AccountWorkflowID(user) {
		msg := fmt.Sprintf("workflow ID %.80q is not %q: an account runs only under its own ID", id, AccountWorkflowID(user))
		return temporal.NewNonRetryableApplicationError(msg, InvalidInputError, nil)
	}
	return nil
}

// validateAccountInput refuses a start that no DayTrader client makes but
// any Temporal client could: a malformed user id. Every command would fail
// and the id would reach audit records and quote requests; the workflow
// fails at once instead of waiting for commands.
func validateAccountInput(in AccountInput) error {
	if err := trading.CheckUser(in.User); err != nil {
		return temporal.NewNonRetryableApplicationError(err.Error(), InvalidInputError, nil)
	}
	return nil
}

func newAccountRun(ctx workflow.Context, in AccountInput, opts AccountOptions) *accountRun {
	st := in.State
	if st == nil {
		st = &AccountState{Account: trading.NewAccount(in.User), ChainID: workflow.GetInfo(ctx).FirstRunID}
	}
	r := &accountRun{ctx: ctx, opts: opts, user: in.User, wfID: workflow.GetInfo(ctx).WorkflowExecution.ID, st: st,
		cmdCh: workflow.GetSignalChannel(ctx, SignalCommand), cmdsCh: workflow.GetSignalChannel(ctx, SignalCommands),
		hitCh: workflow.GetSignalChannel(ctx, SignalTriggerHit), moveCh: workflow.GetSignalChannel(ctx, SignalInteractive)}
	for _, tx := range st.RecentTxNums {
		r.maxTx = max(r.maxTx, tx)
	}
	for _, c := range st.Queue {
		r.queue = append(r.queue, queued{cmd: c})
	}
	st.Queue = nil
	return r
}

// idle waits for the next command, trigger hit or timer; when the timer
// fires it does the housekeeping that is due.
func (r *accountRun) idle() error {
	r.armTimer()
	err := workflow.Await(r.ctx, func() bool {
		return r.cmdCh.Len() > 0 || r.cmdsCh.Len() > 0 || r.hitCh.Len() > 0 || r.moveCh.Len() > 0 || len(r.queue) > 0 ||
			(r.timer != nil && r.timer.IsReady())
	})
	if err != nil {
		return err
	}
	if r.timer != nil && r.timer.IsReady() {
		r.timer, r.timerAt = nil, time.Time{}
		r.housekeeping()
	}
	return nil
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
	return workflow.SetUpdateHandlerWithOptions(r.ctx, UpdateExecute, r.execute,
		workflow.UpdateHandlerOptions{Validator: r.validateExecute})
}

// execute is the handler of UpdateExecute: it queues the command behind
// everything received before it and returns the result once it is audited.
func (r *accountRun) execute(ctx workflow.Context, cmd trading.Command) (trading.Result, error) {
	// Signals delivered before this update go first: the queue follows the
	// order in which the account received commands.
	r.drain()
	w := &updateWait{span: ctx.Value(TraceSpanKey)}
	r.queue = append(r.queue, queued{cmd: cmd, wait: w})
	if err := workflow.Await(ctx, func() bool { return w.done }); err != nil {
		return trading.Result{}, err
	}
	return w.result, nil
}

// validateExecute refuses an update before it reaches the history: rejected
// updates leave no trace, so bad input changes nothing. Signalled commands
// get the same checks from the rules, as audited failures.
func (r *accountRun) validateExecute(_ workflow.Context, cmd trading.Command) error {
	return cmd.ValidFor(r.user)
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
	return workflow.NewContinueAsNewError(r.continueAsNewContext(), AccountWorkflowType, AccountInput{User: r.user, State: r.st})
}
