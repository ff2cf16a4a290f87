package health_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/daytradinginc/daytrader/internal/health"
	"github.com/daytradinginc/daytrader/internal/testdb"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"
	grpchealth "google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// TestReadyz: /readyz answers 200 with every dependency ok while Postgres
// (a real database) and the Temporal frontend (a gRPC server answering the
// health service the SDK asks) are reachable, and 503 naming the one that is
// down: an unreachable Temporal address, a closed pool, a frontend reporting
// NOT_SERVING. /healthz asks nothing and stays 200 throughout.
func TestReadyz(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, testdb.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	frontend, serving := fakeFrontend(t)
	up := lazyClient(t, frontend)
	down := lazyClient(t, closedAddr(t))
	closed, err := pgxpool.New(ctx, testdb.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()

	for _, c := range []struct {
		name     string
		checks   []health.Check
		notServe bool
		status   int
		failing  string
	}{
		{"all up", []health.Check{health.Postgres(pool), health.Temporal(up)}, false, http.StatusOK, ""},
		{"temporal unreachable", []health.Check{health.Postgres(pool), health.Temporal(down)}, false, http.StatusServiceUnavailable, "temporal"},
		{"postgres closed", []health.Check{health.Postgres(closed), health.Temporal(up)}, false, http.StatusServiceUnavailable, "postgres"},
		{"temporal not serving", []health.Check{health.Postgres(pool), health.Temporal(up)}, true, http.StatusServiceUnavailable, "temporal"},
	} {
		t.Run(c.name, func(t *testing.T) {
			status := healthpb.HealthCheckResponse_SERVING
			if c.notServe {
				status = healthpb.HealthCheckResponse_NOT_SERVING
			}
			serving.SetServingStatus("temporal.api.workflowservice.v1.WorkflowService", status)
			var mu sync.Mutex
			var logged []string
			mux := http.NewServeMux()
			mux.HandleFunc("/healthz", health.Live)
			mux.Handle("/readyz", health.Ready(func(_ context.Context, name string, err error) {
				mu.Lock()
				defer mu.Unlock()
				logged = append(logged, name)
			}, c.checks...))
			srv := httptest.NewServer(mux)
			defer srv.Close()

			rep, code := getReport(t, srv.URL+"/readyz")
			if code != c.status || rep.Ready != (c.status == http.StatusOK) {
				t.Errorf("/readyz = %d %+v, want %d", code, rep, c.status)
			}
			for _, name := range []string{"postgres", "temporal"} {
				st, ok := rep.Checks[name]
				if !ok {
					t.Errorf("no %s in %+v", name, rep)
				}
				if wantOK := name != c.failing; st.OK != wantOK || (st.Error == "") != wantOK {
					t.Errorf("%s = %+v, want ok %v with an error exactly when not", name, st, wantOK)
				}
			}
			if c.failing != "" && (len(logged) != 1 || logged[0] != c.failing) {
				t.Errorf("logged %v, want [%s]", logged, c.failing)
			}
			resp, err := http.Get(srv.URL + "/healthz")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("/healthz = %d while %s", resp.StatusCode, c.name)
			}
		})
	}
}

func getReport(t *testing.T, url string) (health.Report, int) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	var rep health.Report
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		t.Fatal(err)
	}
	return rep, resp.StatusCode
}

// fakeFrontend serves gRPC's standard health service, which is what the
// Temporal SDK's CheckHealth asks a frontend (a real frontend would cost a
// whole embedded Temporal server here).
func fakeFrontend(t *testing.T) (string, *grpchealth.Server) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer()
	hs := grpchealth.NewServer()
	healthpb.RegisterHealthServer(s, hs)
	workflowservice.RegisterWorkflowServiceServer(s, systemInfoOnly{})
	go func() { _ = s.Serve(ln) }()
	t.Cleanup(s.Stop)
	return ln.Addr().String(), hs
}

// systemInfoOnly answers the one call the SDK makes before its health
// check (the server's capabilities).
type systemInfoOnly struct {
	workflowservice.UnimplementedWorkflowServiceServer
}

func (systemInfoOnly) GetSystemInfo(context.Context, *workflowservice.GetSystemInfoRequest) (*workflowservice.GetSystemInfoResponse, error) {
	return &workflowservice.GetSystemInfoResponse{}, nil
}

// closedAddr is a local address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func lazyClient(t *testing.T, addr string) client.Client {
	t.Helper()
	cl, err := client.NewLazyClient(client.Options{HostPort: addr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}
