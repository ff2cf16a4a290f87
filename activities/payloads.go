package activities

import (
	"encoding/json"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

// DataConverter is the SDK's default data converter except that
// AuditRecords and GetQuotesV2's results (map[string]QuoteResult) go to and
// from their "json/plain" payload by their own codec alone. Through the
// default converter encoding/json also compacts what MarshalJSON wrote and
// validates the payload before UnmarshalJSON reads it, which was half of
// what a batch's records cost (BenchmarkAuditRecordsPayload), and reads a
// map by reflection. The payload is the same JSON either way, so a worker or
// tool with the default converter reads and writes it too.
func DataConverter() converter.DataConverter {
	return converter.NewCompositeDataConverter(
		converter.NewNilPayloadConverter(),
		converter.NewByteSlicePayloadConverter(),
		converter.NewProtoJSONPayloadConverter(),
		converter.NewProtoPayloadConverter(),
		jsonPayloads{converter.NewJSONPayloadConverter()},
	)
}

// jsonPayloads is the SDK's JSON payload converter with the fast paths.
type jsonPayloads struct {
	*converter.JSONPayloadConverter
}

func (c jsonPayloads) ToPayload(value any) (*commonpb.Payload, error) {
	var data []byte
	var err error
	switch v := value.(type) {
	case AuditRecords:
		data, err = v.MarshalJSON()
	case map[string]QuoteResult:
		data, err = appendQuotes(make([]byte, 0, 16+160*len(v)), v)
	default:
		return c.JSONPayloadConverter.ToPayload(value)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", converter.ErrUnableToEncode, err)
	}
	return &commonpb.Payload{
		Metadata: map[string][]byte{converter.MetadataEncoding: []byte(c.Encoding())},
		Data:     data,
	}, nil
}

func (c jsonPayloads) FromPayload(payload *commonpb.Payload, valuePtr any) error {
	var err error
	switch v := valuePtr.(type) {
	case *AuditRecords:
		// UnmarshalJSON has encoding/json read (and validate) what its
		// own parser does not.
		err = v.UnmarshalJSON(payload.GetData())
	case *map[string]QuoteResult:
		var rs map[string]QuoteResult
		if rs, err = parseQuotes(payload.GetData()); err != nil {
			// Not as appendQuotes writes it (the form before, or not
			// valid): encoding/json reads it, or says what is wrong.
			rs = nil
			err = json.Unmarshal(payload.GetData(), &rs)
		}
		if err == nil {
			*v = rs // left as it was when unreadable
		}
	default:
		return c.JSONPayloadConverter.FromPayload(payload, valuePtr)
	}
	if err != nil {
		return fmt.Errorf("%w: %v", converter.ErrUnableToDecode, err)
	}
	return nil
}
