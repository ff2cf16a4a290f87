package main

import (
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/protoadapt"
)

// fineProto is gRPC's proto codec marshalling each request into a buffer
// from a pool whose sizes double from 256 bytes to 1 MiB. gRPC's codec takes
// the buffer from its shared pool, whose sizes jump from 32 KiB to 1 MiB:
// every signal of a 1,000-command batch (some 100 KiB) held a 1 MiB buffer
// while in flight and in the pool after, 28 MiB of the starter's 64 MiB
// live heap in a heap profile. Here it holds 128 KiB. Unmarshalling is
// gRPC's.
type fineProto struct {
	encoding.CodecV2
	pool mem.BufferPool
}

func newFineProto() fineProto {
	pool, err := mem.NewBinaryTieredBufferPool(8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20)
	if err != nil {
		panic(err) // the sizes are constants
	}
	return fineProto{encoding.GetCodecV2(grpcproto.Name), pool}
}

// fineProtoOption makes a client marshal its requests with fineProto.
func fineProtoOption() grpc.DialOption {
	return grpc.WithDefaultCallOptions(grpc.ForceCodecV2(newFineProto()))
}

func (c fineProto) Marshal(v any) (mem.BufferSlice, error) {
	var m proto.Message
	switch v := v.(type) {
	case protoadapt.MessageV1:
		m = protoadapt.MessageV2Of(v)
	case protoadapt.MessageV2:
		m = v
	default:
		return nil, fmt.Errorf("proto: cannot marshal %T, want a proto.Message", v)
	}
	size := proto.Size(m)
	if mem.IsBelowBufferPoolingThreshold(size) {
		b, err := proto.Marshal(m)
		return mem.BufferSlice{mem.SliceBuffer(b)}, err
	}
	buf := c.pool.Get(size)
	// UseCachedSize: Size has just been computed (as gRPC's codec does).
	if _, err := (proto.MarshalOptions{UseCachedSize: true}).MarshalAppend((*buf)[:0], m); err != nil {
		c.pool.Put(buf)
		return nil, err
	}
	return mem.BufferSlice{mem.NewBuffer(buf, c.pool)}, nil
}
