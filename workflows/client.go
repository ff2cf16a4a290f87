package workflows

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/daytradinginc/daytrader/activities"
	"github.com/daytradinginc/daytrader/trading"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// Accounts is the client side of the account workflows: what the web UI,
// the CLI and the workload starter use to reach a trader's account.
type Accounts struct {
	Client    client.Client
	TaskQueue string
	Namespace string // for MakeInteractive; "" is "default"
}

// NewAccounts returns an Accounts on the default task queue.
func NewAccounts(c client.Client) *Accounts { return &Accounts{Client: c, TaskQueue: TaskQueue} }

// Task priorities (Temporal's task queue priority, 1 = first; unset is 3):
// when a task queue backs up, the workflow and activity tasks of an account
// a trader uses go first. Priority belongs to the workflow run (its tasks,
// activities and children inherit it, and so does the run it continues as
// new), so it is chosen when the account starts: by the web UI's update
// (interactive) or by the workload starter's signal (bulk). CLI and curl
// starts keep Temporal's default.
//
// An interactive account also runs on a queue of its own
// (InteractiveTaskQueue), where workers keep slots for it that bulk tasks
// never take: priority orders one queue's backlog, but cannot help a task
// whose worker slots are all held by bulk tasks already running.
const (
	PriorityInteractive = 1
	PriorityBulk        = 5
)

func (s *Accounts) startOptions(user string, priority int) client.StartWorkflowOptions {
	tq := s.TaskQueue
	if priority == PriorityInteractive {
		tq = InteractiveTaskQueue(tq)
	}
	return client.StartWorkflowOptions{
		ID:                       AccountWorkflowID(user),
		TaskQueue:                tq,
		WorkflowTaskTimeout:      AccountTaskTimeout,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		Priority:                 temporal.Priority{PriorityKey: priority},
	}
}

// Send delivers an ordered batch of one user's commands in one signal,
// starting the account workflow if it is not running. When Send returns nil
// Temporal has durably recorded the batch: it will be processed.
//
// A failure that passes by itself is retried, for up to SendRetryFor: on a
// multi-node cluster a node that dies takes the frontend and the history
// shards it served with it, and calls fail (Unavailable, or the SDK's 10 s
// per call running out) until another node has taken its shards over. A
// retry cannot double a batch that did arrive: the account ignores
// transaction numbers it has seen.
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
	return retryPassing(ctx, func() error {
		_, err := s.Client.SignalWithStartWorkflow(ctx, AccountWorkflowID(user), SignalCommands, cmds,
			s.startOptions(user, PriorityBulk), Account, AccountInput{User: user})
		return err
	})
}

// SendRetryFor is how long Send keeps retrying a passing failure: longer
// than a Temporal node's shards take to move (seconds), short enough that
// a cluster that is down is reported.
const SendRetryFor = time.Minute

// retryPassing calls call until it succeeds, fails for good, ctx ends or
// SendRetryFor has passed, waiting 100 ms, then twice as long each time up
// to 2 s, between attempts.
func retryPassing(ctx context.Context, call func() error) error {
	giveUp := time.Now().Add(SendRetryFor)
	wait := 100 * time.Millisecond
	for {
		err := call()
		if err == nil || !passing(err) || ctx.Err() != nil || time.Now().Add(wait).After(giveUp) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// passing reports whether err may pass by itself: the service unreachable
// or out of time for the one call (the caller's ctx is checked apart).
func passing(err error) bool {
	var unavailable *serviceerror.Unavailable
	var deadline *serviceerror.DeadlineExceeded
	return errors.As(err, &unavailable) || errors.As(err, &deadline) || errors.Is(err, context.DeadlineExceeded)
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
	start := s.Client.NewWithStartWorkflowOperation(s.startOptions(cmd.User, PriorityInteractive), Account, AccountInput{User: cmd.User})
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

// MakeInteractive makes user's running account interactive, for an
// account the workload starter opened (bulk) that a trader now uses on the
// web: Temporal's UpdateWorkflowExecutionOptions gives the run the
// interactive priority at once (its later workflow tasks, an update's too,
// its activities and continued runs take it), and SignalInteractive moves
// it to the interactive task queue when it is next idle. A user without a
// running account is left alone: the web UI's first command starts it
// interactive.
func (s *Accounts) MakeInteractive(ctx context.Context, user string) error {
	if err := trading.CheckUser(user); err != nil {
		return err
	}
	_, err := s.Client.WorkflowService().UpdateWorkflowExecutionOptions(ctx, &workflowservice.UpdateWorkflowExecutionOptionsRequest{
		Namespace:                cmp.Or(s.Namespace, "default"),
		WorkflowExecution:        &commonpb.WorkflowExecution{WorkflowId: AccountWorkflowID(user)},
		WorkflowExecutionOptions: &workflowpb.WorkflowExecutionOptions{Priority: &commonpb.Priority{PriorityKey: PriorityInteractive}},
		UpdateMask:               &fieldmaskpb.FieldMask{Paths: []string{"priority.priority_key"}},
	})
	if err == nil {
		err = s.Client.SignalWorkflow(ctx, AccountWorkflowID(user), "", SignalInteractive, nil)
	}
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return nil
	}
	return err
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
