package temporal_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/daytradinginc/daytrader/internal/testenv"
	"github.com/daytradinginc/daytrader/temporal"
)

// The restart test starts a server in a child process (this test binary,
// run again with firstRunDirEnv set), runs a workflow there and stops it;
// the parent then starts a server on the same data dir. A separate process
// guarantees that what the parent sees was read back from disk.
const (
	firstRunDirEnv = "TEMPORAL_TEST_FIRST_RUN_DIR"
	firstRunPGEnv  = "TEMPORAL_TEST_FIRST_RUN_POSTGRES" // Options.PostgresURL of both runs
	testNamespace  = "restart-test"
	taskQueue      = "greetings"
	firstWorkflow  = "greeting-before-restart"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(firstRunDirEnv); dir != "" {
		if err := firstRun(dir); err != nil {
			fmt.Fprintln(os.Stderr, "first run:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func Greet(ctx workflow.Context, name string) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	var greeting string
	err := workflow.ExecuteActivity(ctx, FormatGreeting, name).Get(ctx, &greeting)
	return greeting, err
}

func FormatGreeting(ctx context.Context, name string) (string, error) {
	return "hello, " + name + " (attempt " + fmt.Sprint(activity.GetInfo(ctx).Attempt) + ")", nil
}

// runGreeting runs Greet to completion with a worker of its own.
func runGreeting(ctx context.Context, c client.Client, workflowID, name string) (string, error) {
	w := worker.New(c, taskQueue, worker.Options{})
	w.RegisterWorkflow(Greet)
	w.RegisterActivity(FormatGreeting)
	if err := w.Start(); err != nil {
		return "", err
	}
	defer w.Stop()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflowID, TaskQueue: taskQueue}, Greet, name)
	if err != nil {
		return "", err
	}
	var greeting string
	err = run.Get(ctx, &greeting)
	return greeting, err
}

func firstRun(dir string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	started := time.Now()
	srv, err := temporal.Start(ctx, temporal.Options{DataDir: dir, Namespace: testNamespace, FrontendAddr: "127.0.0.1:0",
		PostgresURL: os.Getenv(firstRunPGEnv)})
	if err != nil {
		return err
	}
	fmt.Printf("first start (new database) took %v\n", time.Since(started).Round(time.Millisecond))
	c, err := client.Dial(client.Options{HostPort: srv.FrontendAddr(), Namespace: srv.Namespace()})
	if err != nil {
		return err
	}
	greeting, err := runGreeting(ctx, c, firstWorkflow, "trader")
	c.Close()
	if err != nil {
		return err
	}
	fmt.Printf("greeting: %s\n", greeting)
	return srv.Stop()
}

// startInChildThenRestart runs the first start in a child process (see
// firstRun) on dir and, when pgURL is set, on its Postgres databases; then
// it starts a server on the same persistence here, with the UI on, and
// returns it and a client of it.
func startInChildThenRestart(t *testing.T, ctx context.Context, dir, pgURL string) (*temporal.Server, client.Client) {
	t.Helper()
	child := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), firstRunDirEnv+"="+dir, firstRunPGEnv+"="+pgURL)
	out, err := child.CombinedOutput()
	t.Logf("first run output:\n%s", out)
	if err != nil {
		t.Fatalf("first run: %v", err)
	}
	if !strings.Contains(string(out), "greeting: hello, trader (attempt 1)") {
		t.Fatalf("first run did not complete the workflow")
	}

	started := time.Now()
	srv, err := temporal.Start(ctx, temporal.Options{
		DataDir:      dir,
		Namespace:    testNamespace,
		FrontendAddr: "127.0.0.1:0",
		UIAddr:       "127.0.0.1:0",
		PostgresURL:  pgURL,
	})
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	t.Logf("restart (existing database) took %v", time.Since(started).Round(time.Millisecond))
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	c, err := client.Dial(client.Options{HostPort: srv.FrontendAddr(), Namespace: srv.Namespace()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return srv, c
}

// checkFirstRunKept checks what the first run left (its namespace, its
// workflow's result) and that new workflows run.
func checkFirstRunKept(t *testing.T, ctx context.Context, c client.Client) {
	t.Run("namespace from first start exists", func(t *testing.T) {
		resp, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: testNamespace})
		if err != nil {
			t.Fatal(err)
		}
		if got := resp.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration(); got != temporal.DefaultRetention {
			t.Errorf("retention = %v, want %v", got, temporal.DefaultRetention)
		}
	})

	t.Run("workflow from first start kept its result", func(t *testing.T) {
		var greeting string
		// No worker runs here: the result is read from the stored history.
		if err := c.GetWorkflow(ctx, firstWorkflow, "").Get(ctx, &greeting); err != nil {
			t.Fatal(err)
		}
		if greeting != "hello, trader (attempt 1)" {
			t.Errorf("result = %q", greeting)
		}
		desc, err := c.DescribeWorkflowExecution(ctx, firstWorkflow, "")
		if err != nil {
			t.Fatal(err)
		}
		if status := desc.GetWorkflowExecutionInfo().GetStatus(); status != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
			t.Errorf("status = %v", status)
		}
	})

	t.Run("new workflows run after restart", func(t *testing.T) {
		greeting, err := runGreeting(ctx, c, "greeting-after-restart", "again")
		if err != nil {
			t.Fatal(err)
		}
		if greeting != "hello, again (attempt 1)" {
			t.Errorf("result = %q", greeting)
		}
	})
}

func TestWorkflowSurvivesRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dir := t.TempDir()
	srv, c := startInChildThenRestart(t, ctx, dir, "")
	checkFirstRunKept(t, ctx, c)
	if _, err := os.Stat(filepath.Join(dir, "temporal.db")); err != nil {
		t.Errorf("no SQLite file in the data dir: %v", err)
	}

	t.Run("UI serves the web app", func(t *testing.T) {
		body := httpGet(t, srv.UIURL()+"/")
		if !strings.Contains(strings.ToLower(body), "<!doctype html") {
			t.Errorf("UI root is not an HTML page: %.200s", body)
		}
		// A browser next loads the app's script: it must be served too.
		entry := regexp.MustCompile(`href="(/_app/immutable/entry/start[^"]*\.js)"`).FindStringSubmatch(body)
		if entry == nil {
			t.Fatalf("UI page names no start script: %.500s", body)
		}
		if script := httpGet(t, srv.UIURL()+entry[1]); !strings.Contains(script, "import") {
			t.Errorf("%s is not a JavaScript module: %.200s", entry[1], script)
		}
	})

	t.Run("UI API lists the namespace", func(t *testing.T) {
		var resp struct {
			Namespaces []struct {
				NamespaceInfo struct{ Name string } `json:"namespaceInfo"`
			} `json:"namespaces"`
		}
		body := httpGet(t, srv.UIURL()+"/api/v1/namespaces")
		if err := json.Unmarshal([]byte(body), &resp); err != nil {
			t.Fatalf("decode %.200s: %v", body, err)
		}
		var names []string
		for _, ns := range resp.Namespaces {
			names = append(names, ns.NamespaceInfo.Name)
		}
		if !strings.Contains(strings.Join(names, ","), testNamespace) {
			t.Errorf("namespaces = %v, want %s among them", names, testNamespace)
		}
	})

	t.Run("second server on the same data dir is refused", func(t *testing.T) {
		_, err := temporal.Start(ctx, temporal.Options{DataDir: dir, FrontendAddr: "127.0.0.1:0"})
		if err == nil || !strings.Contains(err.Error(), "in use") {
			t.Fatalf("err = %v, want data dir in use", err)
		}
	})
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %.200s", url, resp.Status, body)
	}
	return string(body)
}

func TestStartRejectsBadOptions(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	certs := testenv.NewTLSCerts(t)
	serverTLS := &temporal.TLSOptions{CertPEM: certs.ServerCertPEM, KeyPEM: certs.ServerKeyPEM, CAPEM: certs.CAPEM}

	for _, tc := range []struct {
		name    string
		opts    temporal.Options
		wantErr string
	}{
		{"no data dir", temporal.Options{}, "DataDir is required"},
		{"frontend address without port", temporal.Options{FrontendAddr: "127.0.0.1"}, "frontend address"},
		{"frontend port out of range", temporal.Options{FrontendAddr: "127.0.0.1:70000"}, "port must be"},
		{"frontend host not an IP", temporal.Options{FrontendAddr: "example.com:7233"}, "host must be"},
		{"UI address without port", temporal.Options{UIAddr: "nonsense"}, "UI address"},
		{"negative retention", temporal.Options{Retention: -time.Hour}, "negative retention"},
		{"Postgres URL of another scheme", temporal.Options{PostgresURL: "mysql://u@127.0.0.1/temporal"}, "must be a postgres:// URL"},
		{"Postgres URL without database", temporal.Options{PostgresURL: "postgres://u@127.0.0.1:5432/"}, "names no database"},
		{"frontend port in use", temporal.Options{FrontendAddr: busy.Addr().String()}, "cannot listen"},
		{"HTTP address without port", temporal.Options{FrontendAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1"}, "HTTP API address"},
		{"HTTP host other than the frontend's", temporal.Options{FrontendAddr: "127.0.0.1:0", HTTPAddr: "0.0.0.0:0"}, "host must be the frontend's"},
		{"HTTP port in use", temporal.Options{FrontendAddr: "127.0.0.1:0", HTTPAddr: busy.Addr().String()}, "cannot listen"},
		{"TLS with the web UI", temporal.Options{UIAddr: "127.0.0.1:0", TLS: serverTLS}, "UIAddr and HTTPAddr must be empty"},
		{"TLS without a CA", temporal.Options{TLS: &temporal.TLSOptions{CertPEM: certs.ServerCertPEM, KeyPEM: certs.ServerKeyPEM}},
			"needs CertPEM, KeyPEM and CAPEM"},
		{"TLS with another certificate's key", temporal.Options{TLS: &temporal.TLSOptions{CertPEM: certs.ServerCertPEM,
			KeyPEM: certs.ClientKeyPEM, CAPEM: certs.CAPEM}}, "Options.TLS certificate"},
		{"cluster node without Postgres", temporal.Options{Cluster: &temporal.ClusterOptions{InternalPortBase: 21000}}, "needs PostgresURL"},
		{"cluster node without internal ports", temporal.Options{PostgresURL: "postgres://u@127.0.0.1:5432/t",
			Cluster: &temporal.ClusterOptions{}}, "want 1 to 32761 (Temporal stores membership ports as SMALLINT)"},
		{"cluster membership port above a SMALLINT", temporal.Options{PostgresURL: "postgres://u@127.0.0.1:5432/t",
			Cluster: &temporal.ClusterOptions{InternalPortBase: 32762}}, "internal port base 32762: want 1 to 32761"},
		{"cluster address without port", temporal.Options{PostgresURL: "postgres://u@127.0.0.1:5432/t",
			Cluster: &temporal.ClusterOptions{InternalPortBase: 21000, Address: "nonsense"}}, "cluster address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name != "no data dir" {
				tc.opts.DataDir = t.TempDir() + "/data"
			}
			_, err := temporal.Start(context.Background(), tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
			}
			if tc.opts.DataDir != "" && tc.wantErr != "cannot listen" {
				if _, statErr := os.Stat(tc.opts.DataDir); !os.IsNotExist(statErr) {
					t.Errorf("bad options created the data dir (stat: %v)", statErr)
				}
			}
		})
	}
}

// BenchmarkGreetingWorkflow measures a workflow with one activity, end to
// end, on a fresh server: 16 at a time, as many accounts trading at once.
func BenchmarkGreetingWorkflow(b *testing.B) {
	ctx := context.Background()
	srv, err := temporal.Start(ctx, temporal.Options{DataDir: b.TempDir(), FrontendAddr: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Stop()
	c, err := client.Dial(client.Options{HostPort: srv.FrontendAddr(), Namespace: srv.Namespace()})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	w := worker.New(c, taskQueue, worker.Options{})
	w.RegisterWorkflow(Greet)
	w.RegisterActivity(FormatGreeting)
	if err := w.Start(); err != nil {
		b.Fatal(err)
	}
	defer w.Stop()

	var next atomic.Int64
	b.SetParallelism(8) // × GOMAXPROCS goroutines
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := fmt.Sprintf("bench-%d", next.Add(1))
			run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: taskQueue}, Greet, id)
			if err != nil {
				b.Error(err)
				return
			}
			if err := run.Get(ctx, nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
