package stack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/daytradinginc/daytrader/temporal"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"
)

// A multi-node Temporal cluster: `daytrader temporal-node` runs one node
// (temporal.ClusterOptions), the clients dial every node's frontend
// (TEMPORAL_FRONTENDS).

// clusterDatabaseSuffix makes the cluster's Temporal database name from
// DATABASE_URL's: NAME_cluster and NAME_cluster_visibility. Not the single
// node's NAME_temporal: the history shard count is fixed when a database
// is created, and a cluster needs several shards where one node has one.
const clusterDatabaseSuffix = "_cluster"

// ClusterDatabaseURL is the URL of the database the cluster's nodes share:
// DATABASE_URL with its database name followed by _cluster (Temporal adds
// _visibility for its second one).
func ClusterDatabaseURL(databaseURL string) (string, error) {
	return siblingDatabaseURL(databaseURL, clusterDatabaseSuffix)
}

// StartTemporalNode starts one node of a multi-node Temporal cluster: all
// four services, the frontend at TEMPORAL_FRONTEND_ADDR (with the HTTP API
// and the UI when their addresses are set), persistence and membership in
// ClusterDatabaseURL's databases. The cluster's address is the first of
// TEMPORAL_FRONTENDS, or this node's frontend. Each node needs a DATA_DIR
// of its own (it holds the node's lock).
func StartTemporalNode(ctx context.Context, c Config, internalPortBase int, logger *slog.Logger) (*temporal.Server, error) {
	pgURL, err := ClusterDatabaseURL(c.DatabaseURL)
	if err != nil {
		return nil, err
	}
	tlsOpts, err := frontendTLS(c)
	if err != nil {
		return nil, err
	}
	cluster := &temporal.ClusterOptions{InternalPortBase: internalPortBase}
	if len(c.TemporalFrontends) > 0 {
		cluster.Address = c.TemporalFrontends[0]
	}
	return temporal.Start(ctx, temporal.Options{
		DataDir: filepath.Join(c.DataDir, "temporal-node"), Namespace: c.TemporalNamespace,
		FrontendAddr: c.EmbeddedFrontend, UIAddr: c.TemporalUIAddr, HTTPAddr: c.TemporalHTTPAddr,
		Logger: logger, PostgresURL: pgURL, Cluster: cluster, TLS: tlsOpts,
	})
}

// frontendTLS is what a node's frontend serves TLS with, read from the
// TEMPORAL_FRONTEND_TLS_* files; nil when none is set. Only the frontend,
// which clients dial, is encrypted: the services' traffic between the
// nodes (history, matching, membership on the internal ports) stays
// plaintext on 127.0.0.1. Half a setting, or the web UI or HTTP API on
// beside it, stops the node rather than serve anything unencrypted that
// was meant to be encrypted.
func frontendTLS(c Config) (*temporal.TLSOptions, error) {
	files := [][2]string{{"TEMPORAL_FRONTEND_TLS_CERT_PATH", c.FrontendTLSCert},
		{"TEMPORAL_FRONTEND_TLS_KEY_PATH", c.FrontendTLSKey}, {"TEMPORAL_FRONTEND_TLS_CA_PATH", c.FrontendTLSCA}}
	var missing []string
	for _, f := range files {
		if f[1] == "" {
			missing = append(missing, f[0])
		}
	}
	switch {
	case len(missing) == len(files):
		return nil, nil
	case len(missing) > 0:
		return nil, fmt.Errorf("the frontend's TLS needs TEMPORAL_FRONTEND_TLS_CERT_PATH, _KEY_PATH and _CA_PATH; %s not set",
			strings.Join(missing, " and "))
	case c.TemporalUIAddr != "" || c.TemporalHTTPAddr != "":
		return nil, errors.New("with TEMPORAL_FRONTEND_TLS_* only the gRPC frontend serves TLS: " +
			"set TEMPORAL_UI_ADDR= and TEMPORAL_HTTP_ADDR= (the web UI and the HTTP API would be plaintext)")
	}
	pem := make([][]byte, len(files))
	for i, f := range files {
		var err error
		if pem[i], err = os.ReadFile(f[1]); err != nil {
			return nil, fmt.Errorf("%s: %w", f[0], err)
		}
	}
	return &temporal.TLSOptions{CertPEM: pem[0], KeyPEM: pem[1], CAPEM: pem[2]}, nil
}

// frontendsScheme is the scheme of the gRPC resolver that serves a
// TEMPORAL_FRONTENDS list to one client connection.
const frontendsScheme = "daytrader-frontends"

// useFrontends makes opts dial every address of frontends (none: opts
// unchanged), with FrontendsTarget. The SDK's default load balancing,
// round_robin, spreads calls over the frontends that are up: when a node
// dies its connection fails, calls go to the others and the SDK retries
// those it cut off; when the node comes back gRPC reconnects to it.
func useFrontends(opts *client.Options, frontends []string) {
	if len(frontends) == 0 {
		return
	}
	target, dialOpts := FrontendsTarget(frontends)
	opts.HostPort = target
	opts.ConnectionOptions.DialOptions = append(slices.Clip(opts.ConnectionOptions.DialOptions), dialOpts...)
}

// FrontendsTarget is how a gRPC client dials every address of frontends
// (at least one): the target and the dial options to pass with it. gRPC
// has no target syntax for a list of addresses, so a resolver of the
// connection's own (grpc.WithResolvers: nothing is registered globally)
// hands it the list. The target names the first address, which is also
// the authority a TLS client verifies.
func FrontendsTarget(frontends []string) (target string, opts []grpc.DialOption) {
	var state resolver.State
	for _, addr := range frontends {
		state.Endpoints = append(state.Endpoints, resolver.Endpoint{Addresses: []resolver.Address{{Addr: addr}}})
	}
	r := manual.NewBuilderWithScheme(frontendsScheme)
	r.InitialState(state)
	return frontendsScheme + ":///" + frontends[0], []grpc.DialOption{grpc.WithResolvers(r)}
}

// addrListValue takes comma-separated host:port addresses, or "" for none.
// Each address is checked as addrValue checks one; a port must not be 0
// (these are addresses to dial) and an address appears once.
type addrListValue struct{ p *[]string }

func (v addrListValue) Set(s string) error {
	var addrs []string
	if strings.TrimSpace(s) != "" {
		for part := range strings.SplitSeq(s, ",") {
			var addr string
			part = strings.TrimSpace(part)
			if err := (addrValue{p: &addr}).Set(part); err != nil || strings.HasSuffix(addr, ":0") || strings.HasPrefix(addr, ":") {
				return fmt.Errorf("%q is not a host:port to dial: %w", part, errWant(v))
			}
			if slices.Contains(addrs, addr) {
				return fmt.Errorf("%s is listed twice: %w", addr, errWant(v))
			}
			addrs = append(addrs, addr)
		}
	}
	*v.p = addrs
	return nil
}

func (v addrListValue) String() string {
	if v.p == nil {
		return ""
	}
	return strings.Join(*v.p, ",")
}

func (v addrListValue) placeholder() string { return "host:port,..." }

func (v addrListValue) want() string {
	return "comma-separated host:port addresses (port 1 to 65535), each once, or empty for none"
}
