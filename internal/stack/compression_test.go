package stack

import (
	"testing"

	"go.temporal.io/sdk/client"
)

func TestGRPCCompressionIsOffOnlyOnLoopback(t *testing.T) {
	for addr, wantNone := range map[string]bool{
		"127.0.0.1:7233":                   true,
		"127.0.0.5:7233":                   true,
		"localhost:7233":                   true,
		"[::1]:7233":                       true,
		"10.0.0.7:7233":                    false,
		"temporal.example.com:7233":        false,
		"ns.a1b2c.tmprl.cloud:7233":        false,
		"0.0.0.0:7233":                     false, // not a loopback address: keep the default
		"not an address":                   false,
		"dns:///temporal.example.com:7233": false,
	} {
		_, none := grpcCompression(addr).(*client.GrpcCompressionNone)
		if none != wantNone {
			t.Errorf("grpcCompression(%q): no compression = %v, want %v", addr, none, wantNone)
		}
	}
	// A cluster's frontends: none only when every one is on loopback.
	if _, none := grpcCompression("127.0.0.1:7233", "127.0.0.1:7234").(*client.GrpcCompressionNone); !none {
		t.Error("two loopback frontends: want no compression")
	}
	if _, none := grpcCompression("127.0.0.1:7233", "10.0.0.7:7233").(*client.GrpcCompressionNone); none {
		t.Error("a remote frontend among them: want the SDK's default")
	}
	if grpcCompression() != nil {
		t.Error("no address: want the SDK's default")
	}
}

// TestClientOptionsCarryTheCompression: the options every command dials
// with get the choice, for one address and for a cluster's list.
func TestClientOptionsCarryTheCompression(t *testing.T) {
	for _, c := range []Config{
		{EmbeddedFrontend: "127.0.0.1:7233"},
		{TemporalAddress: "localhost:7233"},
		{TemporalFrontends: []string{"127.0.0.1:7233", "127.0.0.1:7234"}},
	} {
		opts, err := c.clientOptions()
		if err != nil {
			t.Fatal(err)
		}
		if _, none := opts.ConnectionOptions.GrpcCompression.(*client.GrpcCompressionNone); !none {
			t.Errorf("%+v: compression %T, want none", c, opts.ConnectionOptions.GrpcCompression)
		}
	}
	opts, err := Config{TemporalAddress: "temporal.example.com:7233"}.clientOptions()
	if err != nil || opts.ConnectionOptions.GrpcCompression != nil {
		t.Errorf("a remote frontend: compression %T (%v), want the SDK's default", opts.ConnectionOptions.GrpcCompression, err)
	}
}
