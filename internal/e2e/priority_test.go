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
	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
)

// TestAccountPriorityAsTheServerReportsIt: an account the web UI's update
// opens runs at the interactive priority, one the workload starter's signal
// opens at the bulk priority, as the embedded Temporal server describes
// them; a later command by the other path leaves the priority as it was.
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
	for user, want := range map[string]int32{"prioweb": workflows.PriorityInteractive, "priobulk": workflows.PriorityBulk} {
		if got := priorityKey(ctx, t, dev.Client, user); got != want {
			t.Errorf("account-%s: priority key %d, want %d", user, got, want)
		}
	}
}

func priorityKey(ctx context.Context, t *testing.T, cl client.Client, user string) int32 {
	t.Helper()
	d, err := cl.DescribeWorkflowExecution(ctx, workflows.AccountWorkflowID(user), "")
	if err != nil {
		t.Fatal(err)
	}
	return d.GetWorkflowExecutionInfo().GetPriority().GetPriorityKey()
}

// TestMakeInteractiveRaisesABulkAccount: an account the workload starter
// opened (bulk) that a trader signs in to gets the interactive priority on
// the running workflow, as the server describes it; a user without an
// account is no error and gets no workflow.
func TestMakeInteractiveRaisesABulkAccount(t *testing.T) {
	dev := stacktest.Start(t, stacktest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	accounts := workflows.NewAccounts(dev.Client)
	accounts.TaskQueue, accounts.Namespace = dev.Config.TaskQueue, dev.Config.TemporalNamespace
	if err := accounts.Send(ctx, "raised", []trading.Command{{TxNum: 1, Name: trading.Add, User: "raised", Amount: "10.00"}}); err != nil {
		t.Fatal(err)
	}
	if got := priorityKey(ctx, t, dev.Client, "raised"); got != workflows.PriorityBulk {
		t.Fatalf("before: priority key %d, want %d", got, workflows.PriorityBulk)
	}
	if err := accounts.MakeInteractive(ctx, "raised"); err != nil {
		t.Fatal(err)
	}
	if got := priorityKey(ctx, t, dev.Client, "raised"); got != workflows.PriorityInteractive {
		t.Errorf("after: priority key %d, want %d", got, workflows.PriorityInteractive)
	}
	// The account still works, and its update runs at the new priority.
	if _, err := accounts.Execute(ctx, trading.Command{TxNum: 2, Name: trading.Add, User: "raised", Amount: "1.00"}); err != nil {
		t.Fatal(err)
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
// accounts' tasks that were queued earlier. No worker runs: the test polls
// the task queue itself.
func TestEmbeddedServerDispatchesByPriority(t *testing.T) {
	dev := stacktest.Start(t, stacktest.Options{NoWorker: true})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	accounts := workflows.NewAccounts(dev.Client)
	accounts.TaskQueue = dev.Config.TaskQueue
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
		TaskQueue: &taskqueuepb.TaskQueue{Name: dev.Config.TaskQueue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
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
// and the running account gets the interactive priority.
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
	// Raised in the background: wait for it, a bounded while.
	deadline := time.Now().Add(10 * time.Second)
	for priorityKey(ctx, t, dev.Client, "signsin") != workflows.PriorityInteractive {
		if time.Now().After(deadline) {
			t.Fatalf("priority key still %d after sign-in, want %d", priorityKey(ctx, t, dev.Client, "signsin"), workflows.PriorityInteractive)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
