package workflows

import (
	"context"
	"errors"
	"fmt"

	"github.com/daytradinginc/daytrader/activities"
	"github.com/daytradinginc/daytrader/trading"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
)

// Accounts is the client side of the account workflows: what the web UI,
// the CLI and the workload starter use to reach a trader's account.
type Accounts struct {
	Client    client.Client
	TaskQueue string
}

// NewAccounts returns an Accounts on the default task queue.
func NewAccounts(c client.Client) *Accounts { return &Accounts{Client: c, TaskQueue: TaskQueue} }

func (s *Accounts) startOptions(user string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:                       AccountWorkflowID(user),
		TaskQueue:                s.TaskQueue,
		WorkflowTaskTimeout:      AccountTaskTimeout,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
	}
}

// Send delivers an ordered batch of one user's commands in one signal,
// starting the account workflow if it is not running. When Send returns nil
// Temporal has durably recorded the batch: it will be processed.
func (s *Accounts) Send(ctx context.Context, user string, cmds []trading.Command) error {
	// Checked here, not left to Temporal: the SDK cannot even address an id
	// with non-ASCII characters, and "" or "../x" would start a workflow that
	// can only fail while the caller believes its commands were recorded.
	if err := trading.CheckUser(user); err != nil {
		return err
	}
	for _, c := range cmds {
		if c.User != user {
			return fmt.Errorf("command %s is not for user %s", c, user)
		}
	}
	_, err := s.Client.SignalWithStartWorkflow(ctx, AccountWorkflowID(user), SignalCommands, cmds,
		s.startOptions(user), Account, AccountInput{User: user})
	return err
}

// Execute runs one command on its account and returns the result once it is
// applied and audited. An invalid command is refused before it reaches the
// account's history. Retrying with the same TxNum never applies it twice.
func (s *Accounts) Execute(ctx context.Context, cmd trading.Command) (trading.Result, error) {
	if err := cmd.Validate(); err != nil {
		return trading.Result{}, err
	}
	if cmd.User == "" {
		return trading.Result{}, errors.New("the system-wide DUMPLOG is run with RunGlobalDumpLog")
	}
	start := s.Client.NewWithStartWorkflowOperation(s.startOptions(cmd.User), Account, AccountInput{User: cmd.User})
	handle, err := s.Client.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: start,
		UpdateOptions: client.UpdateWorkflowOptions{
			UpdateID:     fmt.Sprintf("tx-%d", cmd.TxNum),
			UpdateName:   UpdateExecute,
			Args:         []any{cmd},
			WaitForStage: client.WorkflowUpdateStageCompleted,
		},
	})
	if err != nil {
		return trading.Result{}, err
	}
	var res trading.Result
	err = handle.Get(ctx, &res)
	return res, err
}

// Summary returns the account's summary; a user without an account workflow
// gets an empty summary with Exists false.
func (s *Accounts) Summary(ctx context.Context, user string) (trading.Summary, error) {
	if err := trading.CheckUser(user); err != nil {
		return trading.Summary{}, err
	}
	v, err := s.Client.QueryWorkflow(ctx, AccountWorkflowID(user), "", QuerySummary)
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return trading.Summary{User: user}, nil
	}
	if err != nil {
		return trading.Summary{}, err
	}
	var sum trading.Summary
	err = v.Get(&sum)
	return sum, err
}

// HasAccount reports whether Temporal knows user's account workflow
// account-<user>: it is running, or it has closed and is still kept (within
// the namespace's retention). A command sent by signal or update counts from
// the moment Temporal accepted it, before the workflow has run it, because the
// signal or update starts the workflow in the same call. An invalid user id
// is an error and never reaches Temporal.
func (s *Accounts) HasAccount(ctx context.Context, user string) (bool, error) {
	if err := trading.CheckUser(user); err != nil {
		return false, err
	}
	_, err := s.Client.DescribeWorkflowExecution(ctx, AccountWorkflowID(user), "")
	var notFound *serviceerror.NotFound
	switch {
	case errors.As(err, &notFound):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// Progress returns how many commands an account has processed.
func (s *Accounts) Progress(ctx context.Context, user string) (Progress, error) {
	if err := trading.CheckUser(user); err != nil {
		return Progress{}, err
	}
	v, err := s.Client.QueryWorkflow(ctx, AccountWorkflowID(user), "", QueryProgress)
	if err != nil {
		return Progress{}, err
	}
	var p Progress
	err = v.Get(&p)
	return p, err
}

// RunGlobalDumpLog runs the administrator's system-wide DUMPLOG and waits
// for the file. Running it again for the same transaction number reuses the
// first run.
func (s *Accounts) RunGlobalDumpLog(ctx context.Context, txNum int64, filename string) (activities.DumpResult, error) {
	if err := trading.ValidFilename(filename); err != nil {
		return activities.DumpResult{}, err
	}
	run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       DumpLogWorkflowID(txNum),
		TaskQueue:                s.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, DumpLog, activities.DumpRequest{TxNum: txNum, Filename: filename})
	if err != nil {
		return activities.DumpResult{}, err
	}
	var out activities.DumpResult
	err = run.Get(ctx, &out)
	return out, err
}
