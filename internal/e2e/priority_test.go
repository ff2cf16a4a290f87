package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/internal/stacktest"
	"github.com/daytradinginc/daytrader/trading"
	"github.com/daytradinginc/daytrader/web"
	"github.com/daytradinginc/daytrader/workflows"
	"github.com/shopspring/decimal"
	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
)

// TestAccountPriorityAsTheServerReportsIt: an account the web UI's update
// opens runs on the interactive task queue at the interactive priority, one
// the workload starter's signal opens on the bulk queue at the bulk
// priority, as the embedded Temporal server describes them, both with
// AccountTaskTimeout; a later command by the other path leaves both as they
// were.
func TestAccountPriorityAsTheServerReportsIt(t *testing.T) {
	dev := stacktest.Start(t, stacktest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	accounts := workflows.NewAccounts(dev.Client)
	accounts.TaskQueue = dev.Config.TaskQueue

	if _, err := accounts.Execute(ctx, trading.Command{TxNum: 1, Name: trading.Add, User: "prioweb", Amount: "10.00"}); err != nil {
		t.Fatal(err)
	}
	if err := accounts.Send(ctx, "priobulk", []trading.Command{{TxNum: 2, Name: trading.Add, User: "priobulk", Amount: "10.00"}}); err != nil {
		t.Fatal(err)
	}
	// The other path to each existing account.
	if err := accounts.Send(ctx, "prioweb", []trading.Command{{TxNum: 3, Name: trading.Add, User: "prioweb", Amount: "1.00"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := accounts.Execute(ctx, trading.Command{TxNum: 4, Name: trading.Add, User: "priobulk", Amount: "1.00"}); err != nil {
		t.Fatal(err)
	}
	want := map[string]placement{
		"prioweb":  {workflows.InteractiveTaskQueue(dev.Config.TaskQueue), workflows.PriorityInteractive},
		"priobulk": {dev.Config.TaskQueue, workflows.PriorityBulk},
	}
	for user, w := range want {
		if got := placementOf(ctx, t, dev.Client, user); got != w {
			t.Errorf("account-%s runs on %+v, want %+v", user, got, w)
		}
		d, err := dev.Client.DescribeWorkflowExecution(ctx, workflows.AccountWorkflowID(user), "")
		if err != nil {
			t.Fatal(err)
		}
		if got := d.GetExecutionConfig().GetDefaultWorkflowTaskTimeout().AsDuration(); got != workflows.AccountTaskTimeout {
			t.Errorf("account-%s runs with a workflow task timeout of %v, want %v", user, got, workflows.AccountTaskTimeout)
		}
	}
}

// placement is where the server says an account's current run is: its task
// queue and priority key.
type placement struct {
	TaskQueue string
	Priority  int32
}

func placementOf(ctx context.Context, t *testing.T, cl client.Client, user string) placement {
	t.Helper()
	d, err := cl.DescribeWorkflowExecution(ctx, workflows.AccountWorkflowID(user), "")
	if err != nil {
		t.Fatal(err)
	}
	info := d.GetWorkflowExecutionInfo()
	return placement{info.GetTaskQueue(), info.GetPriority().GetPriorityKey()}
}

// waitForPlacement waits, a bounded while, until user's account runs where
// want says: a move to the interactive queue waits for the account to be idle.
func waitForPlacement(ctx context.Context, t *testing.T, cl client.Client, user string, want placement) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := placementOf(ctx, t, cl, user)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("account-%s still runs on %+v, want %+v", user, got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestMakeInteractiveMovesABulkAccount: an account the workload starter
// opened (bulk) that a trader signs in to gets the interactive priority and
// moves, by continue-as-new, to the interactive task queue, as the server
// describes its current run; its state comes along. A user without an
// account is no error and gets no workflow.
func TestMakeInteractiveMovesABulkAccount(t *testing.T) {
	dev := stacktest.Start(t, stacktest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	accounts := workflows.NewAccounts(dev.Client)
	accounts.TaskQueue, accounts.Namespace = dev.Config.TaskQueue, dev.Config.TemporalNamespace
	if err := accounts.Send(ctx, "raised", []trading.Command{{TxNum: 1, Name: trading.Add, User: "raised", Amount: "10.00"}}); err != nil {
		t.Fatal(err)
	}
	waitForCash(ctx, t, accounts, "raised", decimal.RequireFromString("10"))
	bulk := placement{dev.Config.TaskQueue, workflows.PriorityBulk}
	if got := placementOf(ctx, t, dev.Client, "raised"); got != bulk {
		t.Fatalf("before: %+v, want %+v", got, bulk)
	}
	if err := accounts.MakeInteractive(ctx, "raised"); err != nil {
		t.Fatal(err)
	}
	waitForPlacement(ctx, t, dev.Client, "raised",
		placement{workflows.InteractiveTaskQueue(dev.Config.TaskQueue), workflows.PriorityInteractive})
	// The account still works, with its cash, on its new queue; signing in
	// again changes nothing.
	if err := accounts.MakeInteractive(ctx, "raised"); err != nil {
		t.Fatal(err)
	}
	res, err := accounts.Execute(ctx, trading.Command{TxNum: 2, Name: trading.Add, User: "raised", Amount: "1.00"})
	if err != nil || !res.OK {
		t.Fatalf("ADD after the move: %+v, %v", res, err)
	}
	if sum := summary(ctx, t, accounts, "raised"); !sum.Cash.Equal(decimal.RequireFromString("11")) {
		t.Errorf("cash after the move and an ADD of 1.00: %s, want 11", sum.Cash)
	}
	if err := accounts.MakeInteractive(ctx, "nobodyyet"); err != nil {
		t.Errorf("a user without an account: %v", err)
	}
	if ok, err := accounts.HasAccount(ctx, "nobodyyet"); err != nil || ok {
		t.Errorf("a user without an account has one now (%v, %v)", ok, err)
	}
}

// TestEmbeddedServerDispatchesByPriority: the embedded Temporal server
// (v1.32's priority matcher, matching.useNewMatcher, on by default) hands
// out a backlogged interactive account's workflow task before the bulk
// accounts' tasks that were queued earlier on the same queue (as on the
// bulk queue for an account a trader signs in to before it moves). No
// worker runs: the test polls the task queue itself. Both kinds of account
// are on one queue here, the interactive one: the client's queue is
// already interactive, so Send starts there too.
func TestEmbeddedServerDispatchesByPriority(t *testing.T) {
	dev := stacktest.Start(t, stacktest.Options{NoWorker: true})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	accounts := workflows.NewAccounts(dev.Client)
	accounts.TaskQueue = workflows.InteractiveTaskQueue(dev.Config.TaskQueue)
	for i := range 5 {
		user := fmt.Sprintf("bulk%d", i)
		if err := accounts.Send(ctx, user, []trading.Command{{TxNum: int64(i + 1), Name: trading.Add, User: user, Amount: "1.00"}}); err != nil {
			t.Fatal(err)
		}
	}
	// The interactive account's update waits for a worker: send it in the
	// background, and let it time out when the test ends.
	go func() {
		_, _ = accounts.Execute(ctx, trading.Command{TxNum: 100, Name: trading.Add, User: "trader", Amount: "1.00"})
	}()
	waitForAccount(ctx, t, accounts, "trader")
	resp, err := dev.Client.WorkflowService().PollWorkflowTaskQueue(ctx, &workflowservice.PollWorkflowTaskQueueRequest{
		Namespace: dev.Config.TemporalNamespace,
		TaskQueue: &taskqueuepb.TaskQueue{Name: accounts.TaskQueue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
		Identity:  "priority-test",
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.GetWorkflowExecution().GetWorkflowId(); got != workflows.AccountWorkflowID("trader") {
		t.Errorf("first task polled is %s's, want the interactive account-trader's (queued after 5 bulk ones)", got)
	}
}

func waitForAccount(ctx context.Context, t *testing.T, accounts *workflows.Accounts, user string) {
	t.Helper()
	for {
		ok, err := accounts.HasAccount(ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSignInRaisesTheAccountsPriority: a trader whose account the workload
// starter opened signs in to the web UI (a login an administrator created),
// and the running account gets the interactive priority and queue.
func TestSignInRaisesTheAccountsPriority(t *testing.T) {
	dev := stacktest.Start(t, stacktest.Options{Web: true})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	accounts := workflows.NewAccounts(dev.Client)
	accounts.TaskQueue = dev.Config.TaskQueue
	if err := accounts.Send(ctx, "signsin", []trading.Command{{TxNum: 1, Name: trading.Add, User: "signsin", Amount: "10.00"}}); err != nil {
		t.Fatal(err)
	}
	if err := web.CreateUser(ctx, dev.DB, "signsin", "correct horse", web.RoleTrader); err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.PostForm(dev.WebURL+"/login", url.Values{"username": {"signsin"}, "password": {"correct horse"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: status %d", resp.StatusCode)
	}
	// Raised and moved in the background: wait for it, a bounded while.
	waitForPlacement(ctx, t, dev.Client, "signsin",
		placement{workflows.InteractiveTaskQueue(dev.Config.TaskQueue), workflows.PriorityInteractive})
}
