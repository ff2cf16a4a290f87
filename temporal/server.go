// Package temporal runs a single-process Temporal server inside our own
// binary for development and tests: all four Temporal services in one
// process, persisted in one SQLite file (or, with Options.PostgresURL, in
// PostgreSQL through Temporal's own postgres12 plugin and schema tooling),
// plus the Temporal web UI and the frontend's HTTP API (what curl and other
// HTTP clients talk to).
//
// Workflows survive a restart: the SQLite file lives in Options.DataDir and
// runs in WAL mode, which keeps commits cheap without giving up durability
// of anything but the last moments before an OS crash.
package temporal

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uioptions "github.com/temporalio/ui-server/v2/server/server_options"
	"go.temporal.io/api/workflowservice/v1"
	sdkclient "go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	serverlog "go.temporal.io/server/common/log"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	temporalserver "go.temporal.io/server/temporal"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Defaults for Options.
const (
	DefaultNamespace    = "default"
	DefaultFrontendAddr = "127.0.0.1:7233"
	DefaultUIAddr       = "127.0.0.1:8233"
	DefaultHTTPAddr     = "127.0.0.1:7243" // httpPort of the Temporal server's own configs (docker.yaml, development-*.yaml)
	DefaultRetention    = 7 * 24 * time.Hour
)

const (
	databaseFileName = "temporal.db"
	lockFileName     = "temporal.lock"
	clusterName      = "active"

	// The history shard count is fixed when the database is created: a
	// database made with another count keeps it (the server warns and uses
	// the stored one). SQLite has a single writer, so more shards only add
	// background work (4 on 100User: wall 1.10 of 1, three pairs in turn).
	// On PostgreSQL a shard's history queues and writes run beside the
	// others': 100User with 4 took 0.82 of the wall time of 1 (three pairs
	// in turn); 8 was no faster.
	sqliteHistoryShardCount   = 1
	postgresHistoryShardCount = 4

	// How long Start waits for the frontend (and UI) to answer when ctx
	// has no deadline of its own.
	defaultStartTimeout = 2 * time.Minute
)

// sqlitePragmas are applied to the server's SQLite connection. WAL lets a
// commit append to the log instead of rewriting pages twice;
// synchronous=normal fsyncs the WAL only at checkpoints, so a power loss can
// lose the last transactions but never corrupts the file (a process crash
// loses nothing). Measured with BenchmarkGreetingWorkflow (16 concurrent
// workflows of one activity, 2 cores): 20-24 ms per workflow against 50-59
// ms with SQLite's default rollback journal.
//
// The server keeps the SQLite plugin's default of one connection: with
// more, concurrent writers fail with SQLITE_BUSY (busy_timeout does not
// help when a read transaction must become a write transaction) and the
// benchmark got slower, not faster.
var sqlitePragmas = map[string]string{
	"journal_mode": "wal",
	"synchronous":  "normal",
	"busy_timeout": "10000", // the schema tools open their own connections
}

// dynamicConfig keeps the server lean on a small machine. Everything not
// listed keeps Temporal's default.
var dynamicConfig = map[dynamicconfig.Key]any{
	// One node needs one task queue partition: with the default of four, a
	// task can land in a partition no worker is polling and must be
	// forwarded, which adds latency and matching work.
	dynamicconfig.MatchingNumTaskqueueReadPartitions.Key():  1,
	dynamicconfig.MatchingNumTaskqueueWritePartitions.Key(): 1,
	// Mutable states kept in memory; enough for tens of thousands of
	// accounts without reloading histories, far less than the 128k default.
	dynamicconfig.HistoryCacheHostLevelMaxSize.Key(): 32 * 1024,
	// The web UI lists and counts workflows; the default (10/s) makes it
	// stall while a load test runs.
	dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key(): 100,
	// A history shard reads its task queues at most this often a second
	// (default 20, made for clusters of hundreds of shards). With our one
	// shard every workflow task that follows an activity or a timer waited
	// for the transfer queue's next read, up to 50 ms: a trader's command
	// on an idle stack took p50 44 ms, 31 of them there; 14.7 ms with 1,000
	// (`workload mixed`). Reads happen when tasks are written, so an idle
	// server does not read more often.
	dynamicconfig.TransferProcessorMaxPollRPS.Key():   1000,
	dynamicconfig.TimerProcessorMaxPollRPS.Key():      1000,
	dynamicconfig.VisibilityProcessorMaxPollRPS.Key(): 1000,
}

// Options configure Start.
type Options struct {
	// DataDir holds the SQLite database. Required. Created if missing.
	DataDir string
	// Namespace is created if missing. Default "default".
	Namespace string
	// FrontendAddr is the gRPC host:port clients dial. Default
	// 127.0.0.1:7233; port 0 picks a free port.
	FrontendAddr string
	// UIAddr is the web UI's host:port; port 0 picks a free port. ""
	// means no UI (DefaultUIAddr is the usual choice).
	UIAddr string
	// HTTPAddr is where the frontend serves Temporal's HTTP API
	// (/api/v1/...); port 0 picks a free port. "" means no HTTP API
	// (DefaultHTTPAddr is the usual choice). The server binds it on the
	// frontend's IP, so its host must be FrontendAddr's host.
	HTTPAddr string
	// Retention is how long closed workflows are kept, set when the
	// namespace is created. Default 7 days.
	Retention time.Duration
	// Logger receives the server's logs. Default slog.Default().
	Logger *slog.Logger
	// LogLevel drops server logs below it. Default slog.LevelWarn: at
	// info the server logs every shard, queue and membership change.
	// A *slog.LevelVar allows changing it while the server runs.
	LogLevel slog.Leveler
	// Cluster, when set, makes the server one node of a multi-node cluster
	// on PostgresURL (required) instead of a single node.
	Cluster *ClusterOptions
	// PostgresURL, when set, keeps the server's state in PostgreSQL
	// (Temporal's postgres12 plugin) instead of SQLite: a postgres:// URL
	// of its database, with visibility in the database of the same name
	// plus VisibilitySuffix on the same server. Start creates both when
	// missing and brings their schemas up to date; DataDir then holds only
	// the lock file.
	PostgresURL string
	// TLS, when set, serves the frontend's gRPC over TLS (or mutual TLS).
	// The web UI and the HTTP API must then be off.
	TLS *TLSOptions
}

// Server is a running embedded Temporal server.
type Server struct {
	namespace    string
	frontendAddr string // dialable host:port
	uiURL        string // "" without UI
	httpURL      string // "" without HTTP API

	clientTLS *tls.Config // how Start's readiness check dials a TLS frontend; nil: plaintext

	temporal temporalserver.Server
	ui       *uiserver.Server
	lockFile *os.File

	stopping atomic.Bool // set by Stopping to silence the shutdown's expected warnings
	stopOnce sync.Once
	stopErr  error
}

// listeners are the addresses Start serves on; a zero listenAddr (empty
// host) is a listener that is off.
type listeners struct {
	frontend, http, ui listenAddr
}

// Start starts the server and returns once its frontend answers requests
// for the namespace (and the HTTP API and the UI, if on, answer HTTP). ctx
// bounds only the start; Stop ends the server.
func Start(ctx context.Context, opts Options) (*Server, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	addrs, err := opts.listeners()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("temporal: create data dir: %w", err)
	}
	lockFile, err := lockDataDir(opts.DataDir)
	if err != nil {
		return nil, err
	}
	s := &Server{namespace: opts.Namespace, lockFile: lockFile}
	if err := s.start(ctx, opts, addrs); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

func (o Options) withDefaults() (Options, error) {
	if o.DataDir == "" {
		return o, errors.New("temporal: Options.DataDir is required")
	}
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	}
	if o.FrontendAddr == "" {
		o.FrontendAddr = DefaultFrontendAddr
	}
	if o.Retention == 0 {
		o.Retention = DefaultRetention
	}
	if o.Retention < 0 {
		return o, fmt.Errorf("temporal: negative retention %v", o.Retention)
	}
	if o.PostgresURL != "" {
		if _, _, err := postgresConfigs(o.PostgresURL); err != nil {
			return o, err
		}
	}
	if o.Cluster != nil {
		if err := o.Cluster.validate(o); err != nil {
			return o, err
		}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.LogLevel == nil {
		o.LogLevel = slog.LevelWarn
	}
	if o.TLS != nil {
		if o.UIAddr != "" || o.HTTPAddr != "" {
			return o, errors.New("temporal: Options.TLS serves only the gRPC frontend: UIAddr and HTTPAddr must be empty")
		}
		if err := o.TLS.check(); err != nil {
			return o, err
		}
	}
	return o, nil
}

// listeners parses the addresses; an empty UIAddr or HTTPAddr turns that
// listener off.
func (o Options) listeners() (listeners, error) {
	var l listeners
	var err error
	if l.frontend, err = parseListenAddr("frontend", o.FrontendAddr); err != nil {
		return l, err
	}
	if o.UIAddr != "" {
		if l.ui, err = parseListenAddr("UI", o.UIAddr); err != nil {
			return l, err
		}
	}
	if o.HTTPAddr != "" {
		if l.http, err = parseListenAddr("HTTP API", o.HTTPAddr); err != nil {
			return l, err
		}
		// The server opens the HTTP listener on the gRPC listener's IP
		// with only the port changed: another host cannot be honoured.
		if l.http.host != l.frontend.host {
			return l, fmt.Errorf("temporal: HTTP API address %q: host must be the frontend's (%s): the server serves both from one IP",
				o.HTTPAddr, l.frontend.host)
		}
	}
	return l, nil
}

// lockDataDir takes an exclusive lock so that two servers never share one
// SQLite file (each would think it owns the history shard). The lock dies
// with the process.
func lockDataDir(dataDir string) (*os.File, error) {
	path := filepath.Join(dataDir, lockFileName)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("temporal: open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("temporal: data dir %s is in use by another Temporal server", dataDir)
		}
		return nil, fmt.Errorf("temporal: lock data dir: %w", err)
	}
	return f, nil
}

func (s *Server) start(ctx context.Context, opts Options, addrs listeners) error {
	internalPorts, err := reserveAll(&addrs, opts.Cluster)
	if err != nil {
		return err
	}
	s.frontendAddr = addrs.frontend.dialAddr()
	if addrs.http.host != "" {
		s.httpURL = "http://" + addrs.http.dialAddr()
	}

	serverLogger := newServerLogger(opts.Logger, opts.LogLevel, &s.stopping)
	stores, err := prepareStores(opts, serverLogger)
	if err != nil {
		return err
	}
	conf := serverConfig(stores, addrs.frontend, addrs.http, internalPorts)
	if opts.TLS != nil {
		host, _, _ := net.SplitHostPort(s.frontendAddr)
		conf.Global.TLS = opts.TLS.rootTLS(host, opts.Cluster != nil)
		if s.clientTLS, err = opts.TLS.clientConfig(host); err != nil {
			return err
		}
	}
	s.temporal, err = temporalserver.NewServer(
		temporalserver.WithConfig(conf),
		temporalserver.ForServices(temporalserver.DefaultServices),
		temporalserver.WithStaticHosts(staticHosts(addrs.frontend, internalPorts)),
		temporalserver.WithLogger(serverLogger),
		temporalserver.WithDynamicConfigClient(dynamicconfig.StaticClient(dynamicConfig)),
	)
	if err != nil {
		return fmt.Errorf("temporal: build server: %w", err)
	}
	if err := s.temporal.Start(); err != nil {
		return fmt.Errorf("temporal: start server: %w", err)
	}

	if addrs.ui.host != "" {
		s.startUI(addrs.ui, serverLogger.logger)
	}
	return s.waitReady(ctx, serverLogger.logger)
}

// reserveAll picks every port in one reservation, so that none is handed
// out twice, and fills in the ports that were 0. It returns where each
// service listens (and, for a cluster node, its membership port); the
// frontend's HTTP API is configured apart from them.
func reserveAll(addrs *listeners, cluster *ClusterOptions) (serviceLayout, error) {
	reqs := append([]portRequest{
		{addrs.frontend.host, addrs.frontend.port},
		{addrs.ui.host, addrs.ui.port},
		{addrs.http.host, addrs.http.port},
	}, internalPortRequests(cluster)...)
	reserved, err := reservePorts(reqs...)
	if err != nil {
		return serviceLayout{}, err
	}
	addrs.frontend.port, addrs.ui.port, addrs.http.port = reserved[0], reserved[1], reserved[2]
	return newServiceLayout(reserved[0], reserved[3:], cluster), nil
}

// waitReady waits until the frontend answers for the namespace and the
// HTTP API and UI, when on, answer HTTP: a caller may use any of them as
// soon as Start returns.
func (s *Server) waitReady(ctx context.Context, logger *slog.Logger) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultStartTimeout)
		defer cancel()
	}
	if err := s.waitForFrontend(ctx, logger); err != nil {
		return err
	}
	if s.httpURL != "" {
		if err := waitForHTTP(ctx, s.httpURL+"/api/v1/namespaces/"+url.PathEscape(s.namespace)); err != nil {
			return fmt.Errorf("temporal: HTTP API at %s did not come up: %w", s.httpURL, err)
		}
	}
	if s.uiURL != "" {
		if err := waitForHTTP(ctx, s.uiURL+"/healthz"); err != nil {
			return fmt.Errorf("temporal: UI at %s did not come up: %w", s.uiURL, err)
		}
	}
	return nil
}

// stores are the SQL configs of the server's two stores: its own
// (executions, history, task queues, namespaces) and visibility's. SQLite
// keeps both in one file.
type stores struct {
	main, visibility *config.SQL
	historyShards    int32 // for a database made now
}

// prepareStores makes the database(s) ready, SQLite or PostgreSQL, then
// registers the namespace if it is missing. Registering it here, before
// the server starts, makes it usable at once; registered through the API
// it would appear only after the namespace cache refreshes.
func prepareStores(opts Options, logger serverlog.Logger) (stores, error) {
	var st stores
	var err error
	if opts.PostgresURL != "" {
		st, err = preparePostgres(opts.PostgresURL, logger)
	} else {
		st, err = prepareSQLite(filepath.Join(opts.DataDir, databaseFileName))
	}
	if err != nil {
		return st, err
	}
	// The helper lives in the SQLite schema package but is plain SQL
	// persistence: it works on any SQL plugin's store.
	namespaceConfig, err := sqliteschema.NewNamespaceConfig(clusterName, opts.Namespace, false, nil)
	if err != nil {
		return st, fmt.Errorf("temporal: namespace %q: %w", opts.Namespace, err)
	}
	namespaceConfig.Detail.Config.Retention = durationpb.New(opts.Retention)
	if err := sqliteschema.CreateNamespaces(st.main, namespaceConfig); err != nil {
		return st, fmt.Errorf("temporal: create namespace %q: %w", opts.Namespace, err)
	}
	return st, nil
}

func preparePostgres(rawURL string, logger serverlog.Logger) (stores, error) {
	main, visibility, err := postgresConfigs(rawURL)
	if err != nil {
		return stores{}, err
	}
	if err := setupPostgres(main, postgresSchema, logger); err != nil {
		return stores{}, err
	}
	if err := setupPostgres(visibility, postgresVisibilitySchema, logger); err != nil {
		return stores{}, err
	}
	return stores{main: main, visibility: visibility, historyShards: postgresHistoryShardCount}, nil
}

// prepareSQLite creates the SQLite schema if the file does not exist yet.
func prepareSQLite(path string) (stores, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if err := createDatabase(path); err != nil {
			return stores{}, err
		}
	} else if err != nil {
		return stores{}, fmt.Errorf("temporal: database file: %w", err)
	}
	sqlConfig := sqliteConfig(path, sqlitePragmas)
	return stores{main: sqlConfig, visibility: sqlConfig, historyShards: sqliteHistoryShardCount}, nil
}

// createDatabase builds the schema in a scratch file and renames it into
// place, so that a crash halfway leaves no half-built database behind.
func createDatabase(path string) error {
	scratch := path + ".partial"
	if err := os.Remove(scratch); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("temporal: remove stale %s: %w", scratch, err)
	}
	// No WAL while building: the schema must be entirely in the main file
	// when it is renamed.
	if err := sqliteschema.SetupSchema(sqliteConfig(scratch, nil)); err != nil {
		return fmt.Errorf("temporal: create schema: %w", err)
	}
	if err := os.Rename(scratch, path); err != nil {
		return fmt.Errorf("temporal: install database: %w", err)
	}
	return nil
}

func sqliteConfig(path string, pragmas map[string]string) *config.SQL {
	attributes := map[string]string{"mode": "rwc"}
	for k, v := range pragmas {
		attributes[k] = v
	}
	return &config.SQL{
		PluginName:        sqliteplugin.PluginName,
		DatabaseName:      path,
		ConnectAttributes: attributes,
	}
}

// serverConfig is the static configuration: persistence, one cluster, and
// where each service listens. The frontend also serves Temporal's HTTP API
// (curl can use it, and so does Nexus) unless frontendHTTP is off: the
// server treats HTTP port 0 as "no HTTP API".
func serverConfig(st stores, frontend, frontendHTTP listenAddr, layout serviceLayout) *config.Config {
	httpAddress := "" // what the cluster metadata advertises: nothing when off
	if frontendHTTP.host != "" {
		httpAddress = frontendHTTP.dialAddr()
	}
	const store, visibilityStore = "default", "visibility"
	var conf config.Config
	conf.Global.Membership.MaxJoinDuration = 30 * time.Second
	conf.Global.Membership.BroadcastAddress = loopback
	conf.Persistence.DefaultStore = store
	conf.Persistence.VisibilityStore = visibilityStore
	conf.Persistence.NumHistoryShards = st.historyShards
	conf.Persistence.DataStores = map[string]config.DataStore{store: {SQL: st.main}}
	if st.visibility == st.main {
		// SQLite: one file, one store, one connection.
		conf.Persistence.VisibilityStore = store
	} else {
		conf.Persistence.DataStores[visibilityStore] = config.DataStore{SQL: st.visibility}
	}
	conf.ClusterMetadata = &cluster.Config{
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{
			clusterName: {
				Enabled:                true,
				InitialFailoverVersion: 1,
				RPCAddress:             frontend.dialAddr(),
				HTTPAddress:            httpAddress,
				// ClusterID stays empty: the server generates one on first
				// start and keeps the stored one afterwards.
			},
		},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	conf.Services = make(map[string]config.Service, len(layout.grpc))
	for service, port := range layout.grpc {
		bindIP := loopback
		if service == primitives.FrontendService {
			bindIP = frontend.host
		}
		var svc config.Service
		svc.RPC.GRPCPort = port
		svc.RPC.BindOnIP = bindIP
		if service == primitives.FrontendService {
			svc.RPC.HTTPPort = frontendHTTP.port
		}
		conf.Services[string(service)] = svc
	}
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	conf.PublicClient.HostPort = frontend.dialAddr()
	if layout.cluster != nil {
		configureCluster(&conf, layout)
	}
	return &conf
}

// staticHosts is where a single node's services find each other; nil for
// a cluster node, which the server then gives ringpop membership instead.
func staticHosts(frontend listenAddr, layout serviceLayout) map[primitives.ServiceName]static.Hosts {
	if layout.cluster != nil {
		return nil
	}
	hosts := make(map[primitives.ServiceName]static.Hosts, len(layout.grpc))
	for service, port := range layout.grpc {
		hosts[service] = static.SingleLocalHost(net.JoinHostPort(loopback, strconv.Itoa(port)))
	}
	hosts[primitives.FrontendService] = static.SingleLocalHost(frontend.dialAddr())
	return hosts
}

func (s *Server) startUI(addr listenAddr, logger *slog.Logger) {
	s.ui = uiserver.NewServer(uioptions.WithConfigProvider(&uiconfig.Config{
		Host:                addr.host,
		Port:                addr.port,
		TemporalGRPCAddress: s.frontendAddr,
		EnableUI:            true,
		DefaultNamespace:    s.namespace,
		// Plain HTTP on a dev box: the CSRF cookie must not demand HTTPS.
		CORS:             uiconfig.CORS{CookieInsecure: true},
		HideLogs:         true,
		DisableNewsFetch: true, // no internet here, and no need
	}))
	s.uiURL = "http://" + addr.dialAddr()
	go func() {
		// Start blocks until Stop. The UI server exits the process itself
		// if it cannot listen; the port was free a moment ago.
		if err := s.ui.Start(); err != nil {
			logger.Error("temporal UI server failed", "err", err)
		}
	}()
}

// waitForFrontend polls until the frontend describes our namespace, which
// needs the frontend, history and persistence to be up.
func (s *Server) waitForFrontend(ctx context.Context, logger *slog.Logger) error {
	client, err := sdkclient.NewLazyClient(sdkclient.Options{
		HostPort:          s.frontendAddr,
		Namespace:         s.namespace,
		Logger:            sdklog.NewStructuredLogger(logger),
		ConnectionOptions: sdkclient.ConnectionOptions{TLS: s.clientTLS},
	})
	if err != nil {
		return fmt.Errorf("temporal: client: %w", err)
	}
	defer client.Close()
	var lastErr error
	for {
		_, lastErr = client.WorkflowService().DescribeNamespace(ctx,
			&workflowservice.DescribeNamespaceRequest{Namespace: s.namespace})
		if lastErr == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("temporal: frontend at %s did not answer: %w (last error: %v)", s.frontendAddr, ctx.Err(), lastErr)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func waitForHTTP(ctx context.Context, url string) error {
	var lastErr error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), lastErr)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// FrontendAddr is the host:port that Temporal clients dial.
func (s *Server) FrontendAddr() string { return s.frontendAddr }

// HTTPURL is the base URL of Temporal's HTTP API, e.g.
// http://127.0.0.1:7243 (routes under /api/v1/), or "" if it is off.
func (s *Server) HTTPURL() string { return s.httpURL }

// UIURL is the web UI's base URL, e.g. http://127.0.0.1:8233, or "" if the
// UI is off.
func (s *Server) UIURL() string { return s.uiURL }

// Namespace is the namespace Start made sure exists.
func (s *Server) Namespace() string { return s.namespace }

// Stopping tells the server that the process is stopping: from now on
// the warnings and cancelled calls a shutdown brings are not logged. Call
// it before stopping the workers and clients in this process, whose calls
// the stop cancels; Stop calls it too.
func (s *Server) Stopping() { s.stopping.Store(true) }

// Stop stops the UI and the server and releases the data dir. Calling it
// again returns the first call's result.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		s.Stopping()
		if s.ui != nil {
			s.ui.Stop()
		}
		if s.temporal != nil {
			s.stopErr = s.temporal.Stop()
		}
		if s.lockFile != nil {
			// Closing the file releases the flock.
			s.stopErr = errors.Join(s.stopErr, s.lockFile.Close())
		}
	})
	return s.stopErr
}
