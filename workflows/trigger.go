package workflows

import (
	"errors"
	"fmt"
	"time"

	"github.com/daytradinginc/daytrader/activities"
	"github.com/daytradinginc/daytrader/trading"
	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// SignalReprice tells a Trigger workflow its order's trigger price changed
// (payload: the new price as a decimal string).
const SignalReprice = "reprice"

// TriggerWorkflowID is the ID of the workflow that watches one trigger.
func TriggerWorkflowID(user string, k trading.TriggerKey) string {
	return fmt.Sprintf("trigger-%s-%s-%s", user, k.Side, k.Symbol)
}

// TriggerInput starts the watcher of one buy or sell trigger.
type TriggerInput struct {
	User       string             `json:"user"`
	Key        trading.TriggerKey `json:"key"`
	Price      decimal.Decimal    `json:"price"`
	CheckEvery time.Duration      `json:"checkEvery"`
	// Checks counts price checks across continue-as-new (audit keys).
	Checks int64 `json:"checks,omitempty"`
}

// Trigger watches the price of one order's symbol. Every CheckEvery it gets
// a quote (from the shared cache when one is valid) and, when the trigger
// condition holds, tells the account, which re-checks and executes. The
// account cancels this workflow once the order is executed or cancelled.
func Trigger(ctx workflow.Context, in TriggerInput) error {
	logger := workflow.GetLogger(ctx)
	info := workflow.GetInfo(ctx)
	reprice := workflow.GetSignalChannel(ctx, SignalReprice)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var p decimal.Decimal
			if !reprice.Receive(ctx, &p) {
				return
			}
			in.Price = p
		}
	})
	var a *activities.Activities
	lactx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: 15 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 3},
	})
	every := in.CheckEvery
	if every <= 0 {
		every = DefaultAccountOptions.TriggerCheckEvery
	}
	for {
		if err := workflow.Sleep(ctx, every); err != nil {
			if errors.Is(err, workflow.ErrCanceled) || temporal.IsCanceledError(err) {
				return nil // the order executed or was cancelled
			}
			return err
		}
		var quotes map[string]activities.QuoteResult
		req := activities.QuotesRequest{User: in.User, Symbols: []string{in.Key.Symbol}}
		if err := workflow.ExecuteLocalActivity(lactx, a.GetQuotes, req).Get(ctx, &quotes); err != nil {
			logger.Warn("trigger price check failed", "error", err)
			continue
		}
		res := quotes[in.Key.Symbol]
		if res.Err != "" {
			logger.Warn("trigger price check failed", "error", res.Err)
			continue
		}
		in.Checks++
		if res.LegacyHit {
			ev := trading.QuoteEvent(res.Quote, 1)
			ev.Key = fmt.Sprintf("%s/%s/q%d", info.WorkflowExecution.ID, info.FirstRunID, in.Checks)
			if err := workflow.ExecuteLocalActivity(lactx, a.WriteAudit, []trading.Event{ev}).Get(ctx, nil); err != nil {
				logger.Error("auditing a trigger's quote failed", "error", err)
			}
		}
		p := res.Quote.Price
		holds := (in.Key.Side == trading.BuySide && p.LessThanOrEqual(in.Price)) ||
			(in.Key.Side == trading.SellSide && p.GreaterThanOrEqual(in.Price))
		if holds {
			hit := TriggerHit{Key: in.Key, Quote: res.Quote}
			if err := workflow.SignalExternalWorkflow(ctx, AccountWorkflowID(in.User), "", SignalTriggerHit, hit).Get(ctx, nil); err != nil {
				logger.Warn("telling the account about a trigger hit failed", "error", err)
			}
		}
		if info.GetContinueAsNewSuggested() || info.GetCurrentHistoryLength() > 2000 {
			return workflow.NewContinueAsNewError(ctx, Trigger, in)
		}
	}
}
