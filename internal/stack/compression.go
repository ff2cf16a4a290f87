package stack

import (
	"net"

	"go.temporal.io/sdk/client"
)

// grpcCompression picks the gRPC compression for the Temporal frontends at
// addrs. The SDK gzips every request by default, which pays over a network
// but is pure CPU on this machine: in a CPU profile of the 1000-user,
// 1,000,000-command run on the embedded stack, compress/flate took 13 % of
// all samples compressing and 4 % inflating. A frontend on a loopback
// address (the embedded server, the nodes of a cluster on this machine)
// gets no compression; any other keeps the SDK's default.
func grpcCompression(addrs ...string) client.GrpcCompression {
	for _, a := range addrs {
		if !isLoopback(a) {
			return nil // the SDK's default: gzip
		}
	}
	if len(addrs) == 0 {
		return nil
	}
	return &client.GrpcCompressionNone{}
}

// isLoopback says whether addr (host:port) names this machine's loopback
// interface: localhost or a loopback IP.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
