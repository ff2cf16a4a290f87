package main

import (
	"bytes"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/protobuf/proto"
)

// TestFineProtoHoldsLittleMoreThanTheMessage: a signal carrying a
// 1,000-command batch (some 100 KiB) marshals into a buffer of at most
// twice its size, where gRPC's codec takes a 1 MiB one from its pool; the
// bytes are the same and unmarshal back.
func TestFineProtoHoldsLittleMoreThanTheMessage(t *testing.T) {
	req := &workflowservice.SignalWithStartWorkflowExecutionRequest{
		Namespace: "default", WorkflowId: "account-ann", SignalName: "commands",
		SignalInput: &commonpb.Payloads{Payloads: []*commonpb.Payload{{Data: bytes.Repeat([]byte(`{"txNum":1,"command":"ADD"},`), 3500)}}},
	}
	size := proto.Size(req)
	pooled, err := encoding.GetCodecV2(grpcproto.Name).Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	defer pooled.Free()
	if c := cap(pooled[0].ReadOnlyData()); c < 1<<20 {
		t.Logf("gRPC's codec now holds %d bytes for a %d-byte message (was 1 MiB)", c, size)
	}
	codec := newFineProto()
	out, err := codec.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Free()
	if len(out) != 1 || cap(out[0].ReadOnlyData()) > 2*size || !bytes.Equal(out.Materialize(), pooled.Materialize()) {
		t.Fatalf("%d buffers, capacity %d for a %d-byte message; same bytes as gRPC's: %v",
			len(out), cap(out[0].ReadOnlyData()), size, bytes.Equal(out.Materialize(), pooled.Materialize()))
	}
	var back workflowservice.SignalWithStartWorkflowExecutionRequest
	if err := codec.Unmarshal(out, &back); err != nil || !proto.Equal(&back, req) || codec.Name() != "proto" {
		t.Errorf("unmarshal: %v, equal %v, name %q", err, proto.Equal(&back, req), codec.Name())
	}
	if _, err := codec.Marshal("not a message"); err == nil {
		t.Error("marshalled a string")
	}
}
