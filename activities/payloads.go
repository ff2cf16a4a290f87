package activities

import (
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

// DataConverter is the SDK's default data converter except that
// AuditRecords go to and from their "json/plain" payload by their own codec
// alone. Through the default converter encoding/json also compacts what
// MarshalJSON wrote and validates the payload before UnmarshalJSON reads it,
// which was half of what a batch's records cost (BenchmarkAuditRecordsPayload).
// The payload is the same JSON either way, so a worker or tool with the
// default converter reads and writes it too.
func DataConverter() converter.DataConverter {
	return converter.NewCompositeDataConverter(
		converter.NewNilPayloadConverter(),
		converter.NewByteSlicePayloadConverter(),
		converter.NewProtoJSONPayloadConverter(),
		converter.NewProtoPayloadConverter(),
		jsonPayloads{converter.NewJSONPayloadConverter()},
	)
}

// jsonPayloads is the SDK's JSON payload converter with AuditRecords' fast
// path.
type jsonPayloads struct {
	*converter.JSONPayloadConverter
}

func (c jsonPayloads) ToPayload(value any) (*commonpb.Payload, error) {
	rs, ok := value.(AuditRecords)
	if !ok {
		return c.JSONPayloadConverter.ToPayload(value)
	}
	data, err := rs.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", converter.ErrUnableToEncode, err)
	}
	return &commonpb.Payload{
		Metadata: map[string][]byte{converter.MetadataEncoding: []byte(c.Encoding())},
		Data:     data,
	}, nil
}

func (c jsonPayloads) FromPayload(payload *commonpb.Payload, valuePtr any) error {
	if rs, ok := valuePtr.(*AuditRecords); ok {
		// UnmarshalJSON has encoding/json read (and validate) what its
		// own parser does not.
		if err := rs.UnmarshalJSON(payload.GetData()); err != nil {
			return fmt.Errorf("%w: %v", converter.ErrUnableToDecode, err)
		}
		return nil
	}
	return c.JSONPayloadConverter.FromPayload(payload, valuePtr)
}
