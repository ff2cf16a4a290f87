package workflows

import (
	"time"

	"github.com/daytradinginc/daytrader/activities"
	"github.com/daytradinginc/daytrader/trading"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// DumpLog is the administrator's system-wide DUMPLOG: it records the command
// and writes every account's history into the dump directory.
func DumpLog(ctx workflow.Context, req activities.DumpRequest) (activities.DumpResult, error) {
	if err := trading.ValidFilename(req.Filename); err != nil {
		return activities.DumpResult{}, temporal.NewNonRetryableApplicationError(err.Error(), "InvalidFilename", err)
	}
	req.User = ""
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 5},
	})
	var a *activities.Activities
	if err := workflow.ExecuteActivity(ctx, a.GlobalDumpCommand, req).Get(ctx, nil); err != nil {
		return activities.DumpResult{}, err
	}
	var out activities.DumpResult
	err := workflow.ExecuteActivity(ctx, a.DumpLog, req).Get(ctx, &out)
	return out, err
}
