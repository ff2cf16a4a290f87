package workflows

import (
	"errors"
	"fmt"

	"github.com/daytradinginc/daytrader/activities"
	"github.com/daytradinginc/daytrader/trading"
	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// triggerRun is one run of a Trigger workflow.
type triggerRun struct {
	ctx    workflow.Context
	in     TriggerInput
	info   *workflow.Info
	logger log.Logger
	// lactx runs the local activities (quote, audit of a legacy hit), both
	// with the options of a quote fetch (quoteActivityOptions): three
	// attempts and the time for them.
	lactx workflow.Context
}

// Trigger is the watcher of one trigger with the default options: what
// replay tests register.
func Trigger(ctx workflow.Context, in TriggerInput) error {
	return NewWorkflows(DefaultAccountOptions()).Trigger(ctx, in)
}

// Trigger watches the price of one order's symbol. Every CheckEvery it gets
// a quote (from the shared cache when one is valid) and, when the trigger
// condition holds, tells the account, which re-checks and executes. The
// account cancels this workflow once the order is executed or cancelled.
func (w *Workflows) Trigger(ctx workflow.Context, in TriggerInput) error {
	if err := in.validate(); err != nil {
		// Nothing could ever be priced or reported: end instead of
		// failing a check every interval for good.
		return temporal.NewNonRetryableApplicationError(err.Error(), InvalidInputError, nil)
	}
	t := &triggerRun{ctx: ctx, in: in, info: workflow.GetInfo(ctx), logger: workflow.GetLogger(ctx),
		lactx: workflow.WithLocalActivityOptions(ctx, quoteActivityOptions(w.opts.QuoteTimeout))}
	t.followReprices()
	every := in.CheckEvery
	if every <= 0 {
		every = w.opts.TriggerCheckEvery
	}
	for {
		if err := workflow.Sleep(ctx, every); err != nil {
			if errors.Is(err, workflow.ErrCanceled) || temporal.IsCanceledError(err) {
				return nil // the order executed or was cancelled
			}
			return err
		}
		t.check()
		if t.info.GetContinueAsNewSuggested() || t.info.GetCurrentHistoryLength() > 2000 {
			return workflow.NewContinueAsNewError(ctx, TriggerWorkflowType, t.in)
		}
	}
}

// validate refuses input no account sends.
func (in TriggerInput) validate() error {
	if err := trading.CheckUser(in.User); err != nil {
		return err
	}
	if in.Key.Side != trading.BuySide && in.Key.Side != trading.SellSide {
		return fmt.Errorf("trigger side %q must be %q or %q", in.Key.Side, trading.BuySide, trading.SellSide)
	}
	if !trading.ValidSymbol(in.Key.Symbol) {
		return fmt.Errorf("stock symbol %q must be 1 to 3 upper-case letters", in.Key.Symbol)
	}
	if !in.Price.IsPositive() {
		return fmt.Errorf("trigger price %s must be greater than 0", in.Price)
	}
	return nil
}

// followReprices applies every SignalReprice to the watched price.
func (t *triggerRun) followReprices() {
	reprice := workflow.GetSignalChannel(t.ctx, SignalReprice)
	workflow.Go(t.ctx, func(ctx workflow.Context) {
		for {
			var p decimal.Decimal
			if !reprice.Receive(ctx, &p) {
				return
			}
			t.in.Price = p
		}
	})
}

// check gets a quote and tells the account when the condition holds. A
// failed check is logged and left to the next one.
func (t *triggerRun) check() {
	var quotes map[string]activities.QuoteResult
	// The claimant is the key this check's legacy hit is audited under.
	req := activities.QuotesRequest{User: t.in.User, Symbols: []string{t.in.Key.Symbol}, Claimant: t.hitKey(t.in.Checks + 1)}
	if err := workflow.ExecuteLocalActivity(t.lactx, quotesActivity(t.ctx), req).Get(t.ctx, &quotes); err != nil {
		t.logger.Warn("trigger price check failed", "err", err)
		return
	}
	res := quotes[t.in.Key.Symbol]
	if res.Err != "" {
		t.logger.Warn("trigger price check failed", "err", res.Err)
		return
	}
	t.in.Checks++
	if res.LegacyHit {
		t.auditLegacyHit(res.Quote)
	}
	if t.in.Key.Side.Fires(res.Quote.Price, t.in.Price) {
		t.tellAccount(res.Quote)
	}
}

// auditLegacyHit records the billed quote this watcher fetched itself.
func (t *triggerRun) auditLegacyHit(q trading.Quote) {
	ev := trading.QuoteEvent(q, 1)
	ev.Key = t.hitKey(t.in.Checks)
	var a *activities.Activities
	if err := workflow.ExecuteLocalActivity(t.lactx, a.WriteAudit, activities.AuditRecords{ev}).Get(t.ctx, nil); err != nil {
		t.logger.Error("auditing a trigger's quote failed", "err", err)
	}
}

// hitKey is the audit key of the legacy hit of check number n.
func (t *triggerRun) hitKey(n int64) string {
	return fmt.Sprintf("%s/%s/q%d", t.info.WorkflowExecution.ID, t.info.FirstRunID, n)
}

// tellAccount signals the hit; the account prices it again itself.
func (t *triggerRun) tellAccount(q trading.Quote) {
	hit := TriggerHit{Key: t.in.Key, Quote: q}
	err := workflow.SignalExternalWorkflow(t.ctx, AccountWorkflowID(t.in.User), "", SignalTriggerHit, hit).Get(t.ctx, nil)
	if err != nil {
		t.logger.Warn("telling the account about a trigger hit failed", "err", err)
	}
}
