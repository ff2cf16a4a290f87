package stack

import (
	"fmt"
	"slices"
	"strings"

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
// is created, and a cluster needs more shards (8) than one node has (4 on
// PostgreSQL; a database an older build made keeps its 1).
const clusterDatabaseSuffix = "_cluster"

// ClusterDatabaseURL is the URL of the database the cluster's nodes share:
// DATABASE_URL with its database name followed by _cluster (Temporal adds
// _visibility for its second one).
func ClusterDatabaseURL(databaseURL string) (string, error) {
	return siblingDatabaseURL(databaseURL, clusterDatabaseSuffix)
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
