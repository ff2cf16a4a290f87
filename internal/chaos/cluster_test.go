package chaos

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/internal/stack"
	"github.com/daytradinginc/daytrader/internal/testdb"
	"github.com/daytradinginc/daytrader/internal/testenv"
	"github.com/daytradinginc/daytrader/temporal"
	"github.com/daytradinginc/daytrader/workflows"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/server/api/adminservice/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// clusterSize is TestClusterNodeKill's workload unless CHAOS_USERS and
// CHAOS_LINES say otherwise: big enough that the node dies with thousands
// of commands outstanding (`make chaos` runs 50,000).
var clusterSize = size{Users: 20, Lines: 6000}

// historyShards is the cluster's shard count (temporal.ClusterOptions).
const historyShards = 8

// TestClusterNodeKill runs a two-node Temporal cluster (two `daytrader
// temporal-node` processes: all four services each, shared PostgreSQL
// persistence, ringpop membership through it), two `daytrader worker`s
// and the test's client, all three dialing both frontends
// (TEMPORAL_FRONTENDS). When a third of the workload is processed it kills
// -9 the node that owns the most history shards. The other node must take
// every shard over and the workers and the client carry on through it:
// every acknowledged command processed exactly once, every ledger exact.
// Then the killed node is started again and must get shards back.
//
// It runs twice: plaintext, and with TLS on both nodes (a self-signed CA
// made here): their frontends, which the workers and the client reach
// through the SDK's TEMPORAL_TLS_* variables while a plaintext client is
// refused, and their services' traffic between the nodes (mutual TLS on
// the internal ports, which refuse a plaintext connection).
func TestClusterNodeKill(t *testing.T) {
	sz := scenarioSizeOr(t, clusterSize)
	t.Run("plain", func(t *testing.T) { clusterNodeKill(t, sz, false) })
	t.Run("tls", func(t *testing.T) { clusterNodeKill(t, sz, true) })
}

func clusterNodeKill(t *testing.T, sz size, withTLS bool) {
	w := generateWorkload(t, sz)
	cl := startCluster(t, w, withTLS)
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	workers := []*process{startWorker(t, cl.cfg, "worker-1"), startWorker(t, cl.cfg, "worker-2")}
	cl.checkTLS(t, workers)
	accounts := workflows.NewAccounts(dialCluster(t, cl.cfg))
	db, err := pgxpool.New(ctx, cl.cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	owners := cl.waitForRing(ctx, t, 2)
	t.Logf("before the kill: %s", owners)

	run := sendInBackground(ctx, accounts, w)
	sent := run.sent
	c := run.waitFor(ctx, t, db, len(sent)/3)
	victim := owners.busiest()
	cl.nodes[victim].kill(t)
	killedAt := time.Now()
	survivor := cl.waitForRing(ctx, t, 1)
	recovery := time.Since(killedAt)
	faults := fmt.Sprintf("kill -9 node %d (%d of %d shards) at %d/%d processed; node %d owned all %d shards %s later",
		victim+1, len(owners[victim]), historyShards, c.Processed, len(sent), 1-victim+1, historyShards, recovery.Round(100*time.Millisecond))
	if err := <-run.done; err != nil {
		t.Fatal(err)
	}
	done := waitForAudit(ctx, t, db, sent, len(sent), time.Minute)
	elapsed := time.Since(run.start)
	tal := finish(ctx, t, "node kill", faults, run.start, db, accounts, w, sent)
	stats, err := checkLedger(ctx, t, audit.NewStore(db), accounts, w)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(stats)
	t.Logf("cluster figures: tls=%v commands=%d commands/s=%.0f (%d in %s, first send to last audited) lost=%d duplicated=%d "+
		"time to recover=%s (kill -9 until the surviving node owned every shard; %s)", withTLS,
		tal.Sent, float64(done.Processed)/elapsed.Seconds(), done.Processed, elapsed.Round(time.Millisecond),
		tal.Lost, tal.Duplicated, recovery.Round(100*time.Millisecond), survivor)
	cl.restartNode(ctx, t, victim, accounts, w.Users)
}

// restartNode starts the killed node again on its ports and data dir: it
// must join the ring and get shards back, and every account still answer.
func (cl *cluster) restartNode(ctx context.Context, t *testing.T, victim int, accounts *workflows.Accounts, users []string) {
	t.Helper()
	restartedAt := time.Now()
	cl.nodes[victim] = cl.startNode(t, victim)
	whole := cl.waitForRing(ctx, t, 2)
	t.Logf("node %d restarted: the cluster is whole again %s later: %s", victim+1,
		time.Since(restartedAt).Round(100*time.Millisecond), whole)
	notReady, err := answerAll(ctx, accounts, users, time.Minute)
	if err != nil {
		t.Errorf("the accounts do not answer after the node came back: %v", err)
		return
	}
	t.Logf("every account answered its query after the restart (%d first refused as not ready)", notReady)
}

// answerAll waits until every account answers a progress query, and says
// how many were first refused as not ready. A workflow task cut off while
// the shards move back to the restarted node is retried by the server,
// which refuses queries at once (WorkflowNotReady, "Workflow Task in
// failed state") from its third attempt until one completes. Seen once at
// 100 users (the tls run; nothing of it is TLS's), where timers and
// triggers keep tasks running after the workload, and the workers logged
// "Workflow task not found" for completions the moved shards no longer
// knew. Those queries are asked again for up to within; any other error
// fails at once.
func answerAll(ctx context.Context, accounts *workflows.Accounts, users []string, within time.Duration) (int, error) {
	deadline := time.Now().Add(within)
	notReady := 0
	for _, u := range users {
		for refused := false; ; {
			_, err := accounts.Progress(ctx, u)
			if err == nil {
				break
			}
			if !errors.As(err, new(*serviceerror.WorkflowNotReady)) || time.Now().After(deadline) {
				return notReady, fmt.Errorf("progress of %s: %w", u, err)
			}
			if !refused {
				refused, notReady = true, notReady+1
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	return notReady, nil
}

// checkTLS: the nodes and the workers say they run with TLS as the test
// set it (tls=on or tls=off in their logs) and, with TLS on, plaintext
// clients are refused: the TLS run cannot pass with TLS silently off.
func (cl *cluster) checkTLS(t *testing.T, workers []*process) {
	t.Helper()
	mode := "tls=off"
	if cl.cfg.TLS != nil {
		mode = "tls=on"
	}
	for _, p := range cl.nodes {
		if !p.logged("Temporal node running", mode) {
			t.Errorf("%s did not log %q with 'Temporal node running':\n%s", p.name, mode, p.out.tail())
		}
	}
	for _, p := range workers {
		if !p.logged("connected to Temporal", mode) {
			t.Errorf("%s did not log %q with 'connected to Temporal':\n%s", p.name, mode, p.out.tail())
		}
	}
	if cl.cfg.TLS != nil {
		checkPlaintextRefused(t, cl.cfg)
	}
	cl.checkInternalPorts(t)
	if t.Failed() {
		t.FailNow() // no workload on a cluster whose TLS is not what the test set
	}
}

// checkPlaintextRefused: a client without TLS is refused by each of cfg's
// TLS nodes, saying how to turn it on, and a `daytrader worker` without it
// stops at start.
func checkPlaintextRefused(t *testing.T, cfg stackConfig) {
	t.Helper()
	plain := cfg
	plain.TLS = nil
	for _, frontend := range cfg.Frontends {
		one := plain
		one.Frontends = []string{frontend}
		err := dialClusterErr(one)
		t.Logf("a plaintext client of %s: %v", frontend, err)
		if err == nil || !strings.Contains(err.Error(), "TLS off") || !strings.Contains(err.Error(), "TEMPORAL_TLS=true") {
			t.Errorf("a plaintext client of the TLS node at %s: %v; want it refused, saying TLS was off and to set TEMPORAL_TLS=true",
				frontend, err)
		}
	}
	start := time.Now()
	out, err := runToExit(t, "plaintext-worker", plain.env(plain.Frontend), time.Minute, "worker")
	t.Logf("a plaintext worker exited after %s (%v): %s", time.Since(start).Round(time.Millisecond), err, strings.TrimSpace(out))
	if err == nil || !strings.Contains(out, "TLS off") || !strings.Contains(out, "TEMPORAL_TLS=true") {
		t.Errorf("a plaintext worker of the TLS nodes: exit %v, output:\n%s\nwant it stopped, saying TLS was off and to set TEMPORAL_TLS=true", err, out)
	}
}

// checkInternalPorts: each node's history, matching and worker gRPC ports
// (the first three of --internal-ports) take a plaintext connection in the
// plain run and refuse it with TLS on, so the traffic between the nodes is
// what the run says (a probe that never connects cannot pass the plain run).
func (cl *cluster) checkInternalPorts(t *testing.T) {
	t.Helper()
	wantPlain := cl.cfg.TLS == nil
	for i, base := range cl.portBases {
		for port := base; port < base+3; port++ {
			addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
			if got := plaintextConnects(t, addr); got != wantPlain {
				t.Errorf("node %d's internal port %s: a plaintext gRPC connection came up: %v, want %v", i+1, addr, got, wantPlain)
			}
		}
	}
}

// plaintextConnects says whether a gRPC connection without TLS to addr
// becomes ready (the server's HTTP/2 preface read) within 5 s. The first
// failed attempt answers no: a TLS port fails it in about a millisecond,
// and gRPC would only retry it until the 5 s were up.
func plaintextConnects(t *testing.T, addr string) bool {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn.Connect()
	for state := conn.GetState(); state != connectivity.Ready; state = conn.GetState() {
		if state == connectivity.TransientFailure || !conn.WaitForStateChange(ctx, state) {
			return false
		}
	}
	return true
}

// dialCluster connects the test's client to the cluster as its processes
// connect: stack.Config over the variables they get (every frontend, and
// with TLS the SDK's TEMPORAL_TLS_SERVER_CA_CERT_PATH) and stack.Dial.
func dialCluster(t testing.TB, cfg stackConfig) client.Client {
	t.Helper()
	c, err := clusterClientConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	cl, err := stack.Dial(ctx, c, quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// dialClusterErr is how a dial with cfg's variables fails (nil: it
// connected and the frontend answered), within 20 s.
func dialClusterErr(cfg stackConfig) error {
	c, err := clusterClientConfig(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl, err := stack.Dial(ctx, c, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer cl.Close()
	_, err = cl.CheckHealth(ctx, nil)
	return err
}

func clusterClientConfig(cfg stackConfig) (stack.Config, error) {
	c := stack.Defaults()
	err := c.Load(stack.MapEnv(cfg.vars("")), "TEMPORAL_ADDRESS", "TEMPORAL_FRONTENDS", "TEMPORAL_NAMESPACE", "TEMPORAL_FRONTEND_ADDR")
	return c, err
}

// cluster is TestClusterNodeKill's Temporal cluster: two node processes
// with their own frontend, internal ports and data dir, one database.
type cluster struct {
	cfg       stackConfig // the workers' and the client's: every frontend
	nodeCfgs  []stackConfig
	portBases []int
	nodes     []*process
	admin     adminservice.AdminServiceClient
}

// startCluster starts the quote emulator (in the test) and two nodes, the
// second once the first has set up the databases; withTLS, their
// frontends serve TLS with a fresh CA's certificate (cfg.TLS), and the
// test's admin connection trusts that CA.
func startCluster(t *testing.T, w *workload, withTLS bool) *cluster {
	t.Helper()
	databaseURL := testdb.URL(t)
	createClusterDatabases(t, databaseURL)
	cfg := newStackConfig(t, databaseURL, w.PricesFile)
	cfg.Frontends = freeAddrs(t, 2)
	creds := insecure.NewCredentials()
	if withTLS {
		cfg.TLS = testenv.NewTLSCerts(t)
		creds = credentials.NewTLS(cfg.TLS.ClientConfig())
	}
	startQuoteEmulator(t, cfg)
	cl := &cluster{cfg: cfg, portBases: freeInternalPorts(t, 2)}
	for i, frontend := range cfg.Frontends {
		nc := cfg
		nc.Frontend = frontend
		nc.DataDir = filepath.Join(t.TempDir(), fmt.Sprintf("node-%d", i+1))
		cl.nodeCfgs = append(cl.nodeCfgs, nc)
		cl.nodes = append(cl.nodes, cl.startNode(t, i))
	}
	target, dialOpts := stack.FrontendsTarget(cfg.Frontends)
	conn, err := grpc.NewClient(target, append(dialOpts, grpc.WithTransportCredentials(creds))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	cl.admin = adminservice.NewAdminServiceClient(conn)
	return cl
}

// startNode runs node i (0 or 1): `daytrader temporal-node`.
func (cl *cluster) startNode(t *testing.T, i int) *process {
	t.Helper()
	return startProcess(t, fmt.Sprintf("temporal-node-%d", i+1), cl.nodeCfgs[i].env(""), "Temporal node running",
		"temporal-node", "--internal-ports", strconv.Itoa(cl.portBases[i]))
}

// createClusterDatabases creates the cluster's two databases, empty, beside
// the test's (the first node sets them up), and drops them when the test
// ends, after its processes are killed (cleanups run last-registered
// first).
func createClusterDatabases(t *testing.T, databaseURL string) {
	t.Helper()
	clusterURL, err := stack.ClusterDatabaseURL(databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(clusterURL)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	testdb.EmptyNamed(t, name)
	testdb.EmptyNamed(t, name+temporal.VisibilitySuffix)
}

// startQuoteEmulator serves the workload's fixed prices at cfg.QuoteAddr.
func startQuoteEmulator(t *testing.T, cfg stackConfig) {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	qs, err := stack.StartQuoteServer(stack.Config{QuoteServerAddr: cfg.QuoteAddr, QuoteLatency: "none",
		QuotePrices: cfg.QuotePrices}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { qs.Close() })
}

// freeInternalPorts returns n bases of 7 consecutive free ports each, all
// below 32768 (Temporal stores membership ports as SMALLINT, so the
// kernel's free ports, above 32767, will not do).
func freeInternalPorts(t testing.TB, n int) []int {
	t.Helper()
	var bases []int
	for tries := 0; len(bases) < n && tries < 100; tries++ {
		base := 20000 + rand.IntN(12000)
		if slices.ContainsFunc(bases, func(b int) bool { return base < b+7 && b < base+7 }) {
			continue
		}
		if portsFree(base, 7) {
			bases = append(bases, base)
		}
	}
	if len(bases) < n {
		t.Fatalf("found only %d blocks of 7 free ports below 32768", len(bases))
	}
	return bases
}

func portsFree(base, n int) bool {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for p := base; p < base+n; p++ {
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			return false
		}
		lns = append(lns, ln)
	}
	return true
}

// shardOwners are the shards each node owns, by node index.
type shardOwners [][]int32

func (o shardOwners) String() string {
	var parts []string
	for i, shards := range o {
		parts = append(parts, fmt.Sprintf("node %d owns shards %v", i+1, shards))
	}
	return strings.Join(parts, ", ")
}

// busiest is the node that owns the most shards.
func (o shardOwners) busiest() int {
	best := 0
	for i := range o {
		if len(o[i]) > len(o[best]) {
			best = i
		}
	}
	return best
}

// shardOwners asks the cluster which history host owns each shard (the
// frontend routes DescribeHistoryHost to the shard's owner, which answers
// with its address) and maps the hosts to nodes by their history port.
func (cl *cluster) shardOwners(ctx context.Context) (shardOwners, error) {
	owners := make(shardOwners, len(cl.nodes))
	for shard := int32(1); shard <= historyShards; shard++ {
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		resp, err := cl.admin.DescribeHistoryHost(actx, &adminservice.DescribeHistoryHostRequest{ShardId: shard})
		cancel()
		if err != nil {
			return nil, fmt.Errorf("shard %d: %w", shard, err)
		}
		node := slices.IndexFunc(cl.portBases, func(base int) bool {
			return resp.GetAddress() == net.JoinHostPort("127.0.0.1", strconv.Itoa(base))
		})
		if node < 0 {
			return nil, fmt.Errorf("shard %d is owned by %s, no node's history", shard, resp.GetAddress())
		}
		owners[node] = append(owners[node], shard)
	}
	return owners, nil
}

// waitForRing waits until the history ring has members members (as the
// frontend that answers sees it) and every shard answers from a node, and
// returns who owns which.
func (cl *cluster) waitForRing(ctx context.Context, t *testing.T, members int) shardOwners {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	var last error
	for time.Now().Before(deadline) {
		last = cl.historyRingHas(ctx, members)
		if last == nil {
			owners, err := cl.shardOwners(ctx)
			if err == nil {
				return owners
			}
			last = err
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("the cluster did not settle on %d history hosts within 2 minutes: %v", members, last)
	return nil
}

// historyRingHas checks that the history ring has members members.
func (cl *cluster) historyRingHas(ctx context.Context, members int) error {
	actx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := cl.admin.DescribeCluster(actx, &adminservice.DescribeClusterRequest{})
	if err != nil {
		return err
	}
	for _, ring := range resp.GetMembershipInfo().GetRings() {
		if ring.GetRole() == "history" {
			if n := int(ring.GetMemberCount()); n != members {
				return fmt.Errorf("the history ring has %d members", n)
			}
			return nil
		}
	}
	return fmt.Errorf("no history ring in %v", resp.GetMembershipInfo())
}
