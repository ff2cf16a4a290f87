package workflows_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/trading"
	"github.com/daytradinginc/daytrader/workflows"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
)

// flakyClient fails its first SignalWithStartWorkflow calls with errs, in
// turn, then succeeds. Only that method is called; the rest is nil.
type flakyClient struct {
	client.Client
	errs  []error
	calls int
}

func (f *flakyClient) SignalWithStartWorkflow(context.Context, string, string, any, client.StartWorkflowOptions,
	any, ...any) (client.WorkflowRun, error) {
	f.calls++
	if f.calls <= len(f.errs) {
		return nil, f.errs[f.calls-1]
	}
	return nil, nil
}

func sendOne(ctx context.Context, c *flakyClient) error {
	cmd := trading.Command{TxNum: 1, User: "alice", Name: trading.Add, Amount: "10.00"}
	return workflows.NewAccounts(c).Send(ctx, "alice", []trading.Command{cmd})
}

// TestSendCarriesOnThroughAFailover: while a Temporal node's shards move,
// signals fail with Unavailable or run out of time; Send retries them.
func TestSendCarriesOnThroughAFailover(t *testing.T) {
	c := &flakyClient{errs: []error{serviceerror.NewUnavailable("shard moving"),
		serviceerror.NewDeadlineExceeded("10 s"), context.DeadlineExceeded}}
	if err := sendOne(context.Background(), c); err != nil {
		t.Fatalf("Send = %v, want nil after the failover", err)
	}
	if c.calls != 4 {
		t.Errorf("%d calls, want 4 (3 failures, then the one that arrived)", c.calls)
	}
}

// TestSendDoesNotRetryRefusals: a refusal is final, and the caller's ctx
// ends the retries.
func TestSendDoesNotRetryRefusals(t *testing.T) {
	refused := serviceerror.NewInvalidArgument("bad")
	c := &flakyClient{errs: []error{refused}}
	if err := sendOne(context.Background(), c); !errors.Is(err, refused) || c.calls != 1 {
		t.Errorf("Send = %v after %d calls, want the refusal after 1", err, c.calls)
	}

	down := &flakyClient{errs: make([]error, 1000)}
	for i := range down.errs {
		down.errs[i] = serviceerror.NewUnavailable("down")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := sendOne(ctx, down)
	var unavailable *serviceerror.Unavailable
	if !errors.As(err, &unavailable) || time.Since(start) > 2*time.Second {
		t.Errorf("Send = %v after %s, want Unavailable when ctx ends", err, time.Since(start))
	}
}
