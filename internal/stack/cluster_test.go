package stack

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"
)

// countingFrontend answers the SDK's connection check (GetSystemInfo) and
// counts the DescribeWorkflowExecution calls it serves.
type countingFrontend struct {
	workflowservice.UnimplementedWorkflowServiceServer
	addr  string
	calls atomic.Int64
	srv   *grpc.Server
}

func startCountingFrontend(t *testing.T) *countingFrontend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &countingFrontend{addr: ln.Addr().String(), srv: grpc.NewServer()}
	workflowservice.RegisterWorkflowServiceServer(f.srv, f)
	go func() { _ = f.srv.Serve(ln) }()
	t.Cleanup(f.srv.Stop)
	return f
}

func (f *countingFrontend) GetSystemInfo(context.Context, *workflowservice.GetSystemInfoRequest) (*workflowservice.GetSystemInfoResponse, error) {
	return &workflowservice.GetSystemInfoResponse{}, nil
}

func (f *countingFrontend) DescribeWorkflowExecution(context.Context, *workflowservice.DescribeWorkflowExecutionRequest) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	f.calls.Add(1)
	return &workflowservice.DescribeWorkflowExecutionResponse{}, nil
}

// describe makes n calls through the client, as the SDK makes them (a call
// cut off by a frontend that stops is retried); all must succeed.
func describe(t *testing.T, cl client.Client, n int) {
	t.Helper()
	for i := range n {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := cl.DescribeWorkflowExecution(ctx, "account-alice", "")
		cancel()
		if err != nil {
			t.Fatalf("call %d of %d: %v", i+1, n, err)
		}
	}
}

// TestDialSpreadsOverFrontends: with TEMPORAL_FRONTENDS the client calls
// every frontend, and when one stops its calls go to the other.
func TestDialSpreadsOverFrontends(t *testing.T) {
	a, b := startCountingFrontend(t), startCountingFrontend(t)
	c := Defaults()
	if err := c.LoadEnv(env{"TEMPORAL_FRONTENDS": a.addr + "," + b.addr}.lookup, "TEMPORAL_FRONTENDS"); err != nil {
		t.Fatal(err)
	}
	cl, err := Dial(context.Background(), c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	// round_robin picks among the connections that are ready: the second
	// may take a moment to be.
	for deadline := time.Now().Add(5 * time.Second); a.calls.Load() == 0 || b.calls.Load() == 0; {
		if time.Now().After(deadline) {
			t.Fatalf("calls per frontend after 5 s: %d and %d, want both used", a.calls.Load(), b.calls.Load())
		}
		describe(t, cl, 1)
		time.Sleep(time.Millisecond)
	}
	a.srv.Stop()
	before := b.calls.Load()
	describe(t, cl, 20)
	if got := b.calls.Load() - before; got != 20 {
		t.Errorf("after the first frontend stopped the second served %d of 20 calls", got)
	}
}

// TestDialWithAFrontendDown: a client starts while one frontend of the
// list is down.
func TestDialWithAFrontendDown(t *testing.T) {
	up := startCountingFrontend(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := ln.Addr().String()
	ln.Close()
	c := Defaults()
	c.TemporalFrontends = []string{down, up.addr}
	cl, err := Dial(context.Background(), c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	describe(t, cl, 5)
	if got := up.calls.Load(); got != 5 {
		t.Errorf("the live frontend served %d of 5 calls", got)
	}
}

func TestClusterDatabaseURL(t *testing.T) {
	got, err := ClusterDatabaseURL("postgres://u:p@db:5432/daytrader?sslmode=disable")
	if want := "postgres://u:p@db:5432/daytrader_cluster?sslmode=disable"; err != nil || got != want {
		t.Errorf("ClusterDatabaseURL = %q, %v; want %q", got, err, want)
	}
	// daytrader_cluster_visibility must fit PostgreSQL's 63 bytes.
	if got, err := ClusterDatabaseURL("postgres://db/" + strings.Repeat("x", 45)); err == nil {
		t.Errorf("ClusterDatabaseURL of a 45-byte name = %q, want an error", got)
	}
}
