package workflows

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/daytradinginc/daytrader/activities"
	"github.com/daytradinginc/daytrader/trading"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// batchQuotes are the quotes fetched for one batch, by symbol: GetQuotesV2's
// result type itself, which the data converter reads without reflection.
type batchQuotes = map[string]activities.QuoteResult

// processBatch runs every queued command and trigger hit in arrival order,
// then writes their audit events in one go and answers waiting updates.
func (r *accountRun) processBatch() error {
	batch, hits := r.takeBatch(), r.hits
	r.hits = nil
	r.worked = true
	now := workflow.Now(r.ctx)

	ctx := r.batchContext(batch)
	quotes := r.prefetchQuotes(ctx, batch, hits, now)
	r.checkHits(hits, quotes, now)
	env := trading.Env{Now: now, Quote: r.quoter(quotes, now)}
	for _, q := range batch {
		if err := r.apply(q, env); err != nil {
			return err
		}
	}
	r.recordUnusedLegacyHits(quotes, firstTxNum(batch))
	if err := r.flushAudit(ctx); err != nil {
		return err
	}
	for _, q := range batch {
		if q.wait != nil {
			q.wait.done = true
		}
	}
	r.markChildrenDirty(now)
	return nil
}

// MaxBatchCommands is the most commands one batch (one workflow task, one
// audit write) runs; the rest wait in the queue for the next batch. The
// audit activity's input holds the batch's records (1.7 a command on
// average, a few hundred bytes each), and Temporal fails a workflow task
// whose payload passes 2 MB, again on every retry: without a bound, an
// account that received some ten thousand commands at once never ran them
// (TestManyCommandsAtOnceForOneAccount). 1,000 keeps a batch's records
// well under the limit (TestBatchAuditFitsTemporalsPayloadLimit).
const MaxBatchCommands = 1000

// batchLimitChange (workflow.GetVersion): from version 1 on, a batch runs
// at most MaxBatchCommands. Histories from before ran the whole queue.
const batchLimitChange = "max-batch-commands"

// takeBatch takes the commands of the next batch off the queue. The
// version is asked only when the queue is longer than the limit, so
// accounts that never see such a queue record no marker.
func (r *accountRun) takeBatch() []queued {
	n := len(r.queue)
	if n > MaxBatchCommands && workflow.GetVersion(r.ctx, batchLimitChange, workflow.DefaultVersion, 1) >= 1 {
		n = MaxBatchCommands
	}
	batch := r.queue[:n:n]
	r.queue = slices.Clone(r.queue[n:])
	return batch
}

// quoter prices a command: the account's own valid quote first, else the
// one the batch fetched.
func (r *accountRun) quoter(quotes batchQuotes, now time.Time) trading.Quoter {
	return func(sym string) (trading.Quote, bool, error) {
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
}

// checkHits runs the triggers that Trigger workflows reported. A hit is only
// a hint (any client can send one): the account checks its trigger against a
// quote it fetched itself, never the hit's.
func (r *accountRun) checkHits(hits []TriggerHit, quotes batchQuotes, now time.Time) {
	for _, h := range hits {
		res, ok := quotes[h.Key.Symbol]
		if !ok || res.Err != "" {
			continue // the watcher checks again
		}
		evs, _ := r.st.Account.CheckTriggers(res.Quote, 0, now)
		r.record(evs)
	}
}

// apply runs one queued command through the rules, records its audit events
// and keeps its result for a waiting update.
func (r *accountRun) apply(q queued, env trading.Env) error {
	cmd := q.cmd
	if res, skip := r.skip(cmd); skip {
		q.answer(res)
		return nil
	}
	env.ResultUnread = q.wait == nil // a signal's result is dropped
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
	q.answer(out.Result)
	return nil
}

// skip says whether cmd must not run at all, and the result an update that
// sent it gets.
func (r *accountRun) skip(cmd trading.Command) (trading.Result, bool) {
	logger := workflow.GetLogger(r.ctx)
	if cmd.TxNum > 0 && r.seen(cmd.TxNum) {
		// Applied before (a redelivered signal, a retried update): once only.
		logger.Warn("duplicate command ignored", "txNum", cmd.TxNum, "command", cmd.Name)
		return trading.Result{TxNum: cmd.TxNum, Command: cmd.Name, OK: false,
			Message: fmt.Sprintf("transaction %d was already processed", cmd.TxNum)}, true
	}
	if !cmd.Name.Known() || cmd.TxNum <= 0 {
		// No audit record can describe it (logfile.xsd knows only the spec's
		// commands and positive transaction numbers): refuse it here.
		// Updates never get this far: their validator refuses it.
		logger.Warn("malformed command ignored", "txNum", cmd.TxNum, "command", cmd.Name)
		return trading.Result{TxNum: cmd.TxNum, Command: cmd.Name, OK: false,
			Message: "malformed command: unknown name or transaction number not positive"}, true
	}
	return trading.Result{}, false
}

// recordUnusedLegacyHits audits the legacy hits that no command used (its
// command failed first): they are billed all the same, so they are audited
// under the batch's first transaction.
func (r *accountRun) recordUnusedLegacyHits(quotes batchQuotes, txNum int64) {
	//workflowcheck:ignore (sorted: the map's order never shows)
	for _, sym := range slices.Sorted(maps.Keys(quotes)) {
		if res := quotes[sym]; res.LegacyHit && res.Err == "" {
			r.record([]trading.Event{trading.QuoteEvent(res.Quote, txNum)})
		}
	}
}

// prefetchQuotes asks, in one local activity, for every symbol the batch
// will price that the account has no valid quote for: the legacy server is
// slow, so asking for all of them in parallel is what keeps a batch fast.
func (r *accountRun) prefetchQuotes(ctx workflow.Context, batch []queued, hits []TriggerHit, now time.Time) batchQuotes {
	symbols := r.symbolsToFetch(batch, hits, now)
	out := batchQuotes{}
	if len(symbols) == 0 {
		return out
	}
	ctx = workflow.WithLocalActivityOptions(ctx, quoteActivityOptions(r.opts.QuoteTimeout))
	// The claimant is the key of the batch's first audit record: the same
	// when a lost workflow task runs the batch again.
	req := activities.QuotesRequest{User: r.user, Symbols: symbols, Claimant: r.auditKey(r.st.EventSeq + 1)}
	if err := workflow.ExecuteLocalActivity(ctx, quotesActivity(r.ctx), req).Get(ctx, &out); err != nil {
		// Quotes unavailable: commands that need one fail with a clear error.
		for _, sym := range symbols {
			out[sym] = activities.QuoteResult{Err: "quote service unavailable: " + err.Error()}
		}
	}
	return out
}

// compactQuotesChange (workflow.GetVersion): from version 1 on, quotes come
// from GetQuotesV2, whose result is recorded in the compact form (a new name,
// so that an older worker fails a history holding it instead of misreading
// it). Histories from before name GetQuotes, which answers the same.
const compactQuotesChange = "compact-quote-results"

// quotesActivity is the local activity an account or a trigger asks for its
// quotes. The version is asked only when quotes are fetched, so a run that
// never fetches records no marker.
func quotesActivity(ctx workflow.Context) func(context.Context, activities.QuotesRequest) (map[string]activities.QuoteResult, error) {
	var a *activities.Activities
	if workflow.GetVersion(ctx, compactQuotesChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return a.GetQuotes
	}
	return a.GetQuotesV2
}

// quoteAttempts is how many times a quote fetch (GetQuotesV2) runs before
// the commands that needed its quotes fail.
const quoteAttempts = 3

// quoteActivityOptions are the quote fetch's local activity options; timeout is
// one attempt's (0: DefaultQuoteTimeout). The quote client gives up on a
// symbol after ~4 s itself and a failure becomes a per-symbol error, so an
// attempt fails only on a worker crash or when the worker is so loaded that
// a batch's hundreds of symbols take longer than timeout. A retry then finds
// most of them in the worker's cache, where the late attempt left them.
// ScheduleToClose is what lets it retry at all: left unset it defaults to
// StartToClose, so the first attempt's timeout used up the whole budget and
// a 1,000,000-command run on an overloaded worker failed some 10,000 BUYs
// and QUOTEs with "quote service unavailable: deadline exceeded".
func quoteActivityOptions(timeout time.Duration) workflow.LocalActivityOptions {
	timeout = cmp.Or(timeout, DefaultQuoteTimeout)
	return workflow.LocalActivityOptions{
		StartToCloseTimeout:    timeout,
		ScheduleToCloseTimeout: quoteAttempts*timeout + time.Second, // the backoffs: 0.1 s, 0.2 s
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: 100 * time.Millisecond, MaximumAttempts: quoteAttempts},
	}
}

// symbolsToFetch lists, sorted, the well-formed symbols the batch's hits and
// commands need a quote for and the account holds no valid quote of. An
// account that is not open (and is not being opened by the batch) asks for
// nothing: its commands fail before they price anything.
func (r *accountRun) symbolsToFetch(batch []queued, hits []TriggerHit, now time.Time) []string {
	need := map[string]bool{}
	for _, h := range hits {
		need[h.Key.Symbol] = trading.ValidSymbol(h.Key.Symbol)
	}
	opening := r.st.Account.Opened || anyAdd(batch)
	for _, q := range batch {
		c := q.cmd
		if !c.Name.NeedsQuote() || !trading.ValidSymbol(c.Symbol) || !opening {
			continue
		}
		if lq, ok := r.st.Account.LastQuotes[c.Symbol]; ok && lq.ValidAt(now) {
			continue
		}
		if c.ValidFor(r.user) != nil && r.skipsRefusedQuotes() {
			continue
		}
		need[c.Symbol] = true
	}
	maps.DeleteFunc(need, func(_ string, ok bool) bool { return !ok }) //workflowcheck:ignore (order-free)
	return slices.Sorted(maps.Keys(need))                              //workflowcheck:ignore (sorted)
}

// refusedQuotesChange (workflow.GetVersion): from version 1 on, a command
// the rules will refuse (malformed, or for another user) gets no quote
// fetched for it: a legacy hit is billed and audited, and a refused command
// must change nothing. Histories from before keep fetching them on replay.
const refusedQuotesChange = "no-quote-for-refused-commands"

// skipsRefusedQuotes is asked only when a refused command would need a
// quote, so accounts that never see one record no version marker.
func (r *accountRun) skipsRefusedQuotes() bool {
	return workflow.GetVersion(r.ctx, refusedQuotesChange, workflow.DefaultVersion, 1) >= 1
}

func anyAdd(batch []queued) bool {
	return slices.ContainsFunc(batch, func(q queued) bool { return q.cmd.Name == trading.Add })
}

// remember adds tx to the duplicate-detection window, forgetting the oldest
// numbers beyond its size.
func (r *accountRun) remember(tx int64) {
	if tx <= 0 {
		return
	}
	r.lastTxNum = tx
	r.maxTx = max(r.maxTx, tx)
	r.st.RecentTxNums = append(r.st.RecentTxNums, tx)
	if over := len(r.st.RecentTxNums) - r.opts.DuplicateWindow; over > 0 {
		// Dropped from the front: append copies only the window when it
		// next grows the array, so the dropped numbers are not kept.
		r.st.RecentTxNums = r.st.RecentTxNums[over:]
	}
}

// seen says whether tx is in the duplicate window. Most numbers are above
// every one before them and are not searched for; a set beside the window
// held 52 MB of a 1,000,000-command run's 401 MB live heap.
func (r *accountRun) seen(tx int64) bool {
	return tx <= r.maxTx && slices.Contains(r.st.RecentTxNums, tx)
}

func firstTxNum(batch []queued) int64 {
	for _, q := range batch {
		if q.cmd.TxNum > 0 {
			return q.cmd.TxNum
		}
	}
	return 1
}
