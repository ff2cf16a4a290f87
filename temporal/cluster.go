package temporal

import (
	"errors"
	"fmt"

	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/primitives"
)

// ClusterOptions make a server one node of a multi-node Temporal cluster.
// Each node runs all four services; the nodes share PostgreSQL persistence
// (Options.PostgresURL, the same on every node) and find each other through
// it: Temporal's ringpop membership bootstraps from the cluster_membership
// table, where every service records its membership address, and each
// service publishes its gRPC port to the ring. No node is told about
// another, so a node can die or join at any time; the history shards and
// task queue partitions of a dead node move to the live ones.
//
// Start the first node of a new cluster alone: it creates the databases
// and the namespace; the others then join it.
type ClusterOptions struct {
	// Address is the cluster's frontend address recorded in the cluster
	// metadata (for other clusters and tools). Give every node the same,
	// so that a node's start never rewrites it. Default: this node's
	// frontend.
	Address string
	// InternalPortBase places the ports of the services clients never
	// dial, on 127.0.0.1: history, matching and worker gRPC at
	// InternalPortBase, +1 and +2, the membership ports of frontend,
	// history, matching and worker at +3 to +6. Required, at most
	// maxInternalPortBase: Temporal records membership ports in a SMALLINT
	// column (cluster_membership.rpc_port), so they must be below 32768,
	// where the kernel never hands out free ports.
	InternalPortBase int
}

// clusterHistoryShardCount is the history shard count of a cluster's
// databases, fixed when they are created. Each shard is owned by one node
// at a time and moves to another when its owner dies, so a cluster needs
// several: Temporal's development configs have 4, its Helm chart 512 for
// production. 8 keeps the background work small on a small machine, and
// the ring almost always gives each of two nodes some shards (with 4, all
// land on one node one time in eight).
const clusterHistoryShardCount = 8

// internalPortCount is how many ports ClusterOptions.InternalPortBase
// covers; the last one must fit a SMALLINT.
const (
	internalPortCount   = 7
	maxInternalPortBase = 32767 - internalPortCount + 1
)

// serviceLayout is where each service listens: its gRPC port and, on a
// cluster node (cluster set), its membership port.
type serviceLayout struct {
	grpc, membership map[primitives.ServiceName]int
	cluster          *ClusterOptions
}

// internalServices are the services clients never dial, in the order of
// their ports after InternalPortBase.
var internalServices = []primitives.ServiceName{
	primitives.HistoryService, primitives.MatchingService, primitives.WorkerService,
}

// membershipServices are the services in the order of their membership
// ports (InternalPortBase+3 on).
var membershipServices = []primitives.ServiceName{
	primitives.FrontendService, primitives.HistoryService, primitives.MatchingService, primitives.WorkerService,
}

func (c *ClusterOptions) validate(o Options) error {
	if o.PostgresURL == "" {
		return errors.New("temporal: a cluster node needs PostgresURL: the nodes share its databases and membership")
	}
	if c.InternalPortBase < 1 || c.InternalPortBase > maxInternalPortBase {
		return fmt.Errorf("temporal: a cluster node's internal port base %d: want 1 to %d (Temporal stores membership ports as SMALLINT)",
			c.InternalPortBase, maxInternalPortBase)
	}
	if c.Address != "" {
		if _, err := parseListenAddr("cluster", c.Address); err != nil {
			return err
		}
	}
	return nil
}

// internalPortRequests are the reservations of the internal ports: the
// three internal gRPC ports, then (in a cluster) the four membership ports.
func internalPortRequests(cluster *ClusterOptions) []portRequest {
	n := len(internalServices)
	if cluster != nil {
		n += len(membershipServices)
	}
	reqs := make([]portRequest, n)
	for i := range reqs {
		reqs[i] = portRequest{loopback, 0} // a single node's: free ports
		if cluster != nil {
			reqs[i].port = cluster.InternalPortBase + i
		}
	}
	return reqs
}

// newServiceLayout is the layout of a node whose frontend listens on
// frontendPort and whose internal ports were reserved in
// internalPortRequests' order.
func newServiceLayout(frontendPort int, internal []int, cluster *ClusterOptions) serviceLayout {
	l := serviceLayout{
		grpc:       map[primitives.ServiceName]int{primitives.FrontendService: frontendPort},
		membership: map[primitives.ServiceName]int{},
		cluster:    cluster,
	}
	for i, svc := range internalServices {
		l.grpc[svc] = internal[i]
	}
	for i, svc := range membershipServices {
		if j := len(internalServices) + i; j < len(internal) {
			l.membership[svc] = internal[j]
		}
	}
	return l
}

// configureCluster turns a single-node config into a cluster node's: the
// membership ports, the shard count and the cluster's addresses. The
// metadata's HTTP address is left empty: the nodes' HTTP APIs differ, and a
// node that starts rewrites a recorded address that differs from its own.
func configureCluster(conf *config.Config, layout serviceLayout) {
	conf.Persistence.NumHistoryShards = clusterHistoryShardCount
	for svc, port := range layout.membership {
		s := conf.Services[string(svc)]
		s.RPC.MembershipPort = port
		conf.Services[string(svc)] = s
	}
	info := conf.ClusterMetadata.ClusterInformation[clusterName]
	if layout.cluster.Address != "" {
		info.RPCAddress = layout.cluster.Address
	}
	info.HTTPAddress = ""
	conf.ClusterMetadata.ClusterInformation[clusterName] = info
}
