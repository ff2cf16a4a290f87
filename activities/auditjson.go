package activities

import (
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/daytradinginc/daytrader/trading"
	"github.com/shopspring/decimal"
)

// AuditRecords' compact JSON written and read without reflection. A batch
// of 1,000 commands is some 1,700 records; encoding/json took about 9 µs a
// record to write and read them through the SDK's converter
// (BenchmarkAuditRecordsPayload), about 8 % of a 1,000,000-command run's
// CPU. appendAudit writes exactly the bytes encoding/json writes for the
// same auditBatch (TestAuditJSONIsEncodingJSONs, whose packAudit builds
// it); parseAudit reads what appendAudit writes and gives up on anything
// else (an escaped string, a null, another key or key order), which
// encoding/json then reads.

// appendAudit appends rs's compact JSON.
func appendAudit(out []byte, rs AuditRecords) ([]byte, error) {
	var h auditBatch // the header: its Records stay empty
	if len(rs) > 0 {
		h.KeyPrefix, h.FirstSeq = splitKey(rs[0].Key)
		h.User, h.Time = rs[0].User, rs[0].Time
	}
	out = appendString(append(out, `{"k":`...), h.KeyPrefix)
	out = strconv.AppendInt(append(out, `,"n":`...), h.FirstSeq, 10)
	out = appendField(out, "u", h.User)
	out, err := appendTime(append(out, `,"t":`...), h.Time)
	if err != nil {
		return nil, err
	}
	out = append(out, `,"r":[`...)
	var scratch []byte
	for i := range rs {
		if i > 0 {
			out = append(out, ',')
		}
		scratch = strconv.AppendInt(scratch[:0], h.FirstSeq+int64(i), 10)
		if out, err = appendRecord(out, &rs[i], &h, scratch); err != nil {
			return nil, err
		}
	}
	return append(out, "]}"...), nil
}

// appendRecord appends e as an auditRecord: its fields in order, those the
// batch header h gives or that are empty left out (the omitempty tags). seq
// is the number e's key has when it follows the batch's numbering (h.key
// without building the string).
func appendRecord(out []byte, e *trading.Event, h *auditBatch, seq []byte) ([]byte, error) {
	out = append(out, '{')
	p := h.KeyPrefix
	if k := e.Key; len(k) != len(p)+len(seq) || k[:len(p)] != p || k[len(p):] != string(seq) {
		out = append(appendString(append(out, `"k":`...), k), ',')
	}
	out = appendString(append(out, `"y":`...), string(e.Type))
	var err error
	// Equal instants in another location would store the same timestamp,
	// but are kept as they are so the records read back are the ones
	// written.
	if e.Time != h.Time {
		if out, err = appendTime(append(out, `,"t":`...), e.Time); err != nil {
			return nil, err
		}
	}
	out = appendField(out, "sv", e.Server)
	if e.TxNum != 0 {
		out = strconv.AppendInt(append(out, `,"x":`...), e.TxNum, 10)
	}
	out = appendField(out, "c", string(e.Command))
	if e.User != h.User {
		out = appendString(append(out, `,"u":`...), e.User)
	}
	out = appendField(out, "s", e.Symbol)
	out = appendField(out, "f", e.Filename)
	out = appendDecimal(out, "m", e.Funds)
	out = appendField(out, "a", e.Action)
	out = appendDecimal(out, "p", e.Price)
	if e.QuoteServerTime != 0 {
		out = strconv.AppendInt(append(out, `,"q":`...), e.QuoteServerTime, 10)
	}
	out = appendField(out, "ck", e.Cryptokey)
	out = appendField(out, "e", e.Message)
	return append(out, '}'), nil
}

// appendField appends ,"name":"s" unless s is empty (omitempty).
func appendField(out []byte, name, s string) []byte {
	if s == "" {
		return out
	}
	out = append(append(append(out, `,"`...), name...), `":`...)
	return appendString(out, s)
}

// appendDecimal appends ,"name":d unless d is null, as d's MarshalJSON
// writes it.
func appendDecimal(out []byte, name string, d decimal.NullDecimal) []byte {
	if !d.Valid {
		return out
	}
	out = append(append(append(out, `,"`...), name...), `":`...)
	b, _ := d.Decimal.MarshalJSON() // never fails
	return append(out, b...)
}

func appendTime(out []byte, t time.Time) ([]byte, error) {
	b, err := t.MarshalJSON() // fails for years outside 0..9999
	if err != nil {
		return nil, err
	}
	return append(out, b...), nil
}

// appendString appends s as a JSON string. Printable ASCII other than the
// characters encoding/json escapes (quote, backslash and, for HTML, < > &)
// goes as it is; any other string is written by encoding/json itself.
func appendString(out []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s) // a string never fails
			return append(out, b...)
		}
	}
	out = append(out, '"')
	out = append(out, s...)
	return append(out, '"')
}

// errUnexpected makes parseAudit give the input to encoding/json.
var errUnexpected = errors.New("not the compact form as appendAudit writes it")

// jsonReader reads compact JSON (an auditBatch, quote results) from b[i:].
type jsonReader struct {
	b []byte
	i int
}

// parseAudit reads the compact JSON as appendAudit writes it (whitespace
// aside): the batch's fields before its records, none after them. Any other
// shape gives errUnexpected.
func parseAudit(data []byte) (AuditRecords, error) {
	r := &jsonReader{b: data}
	var h auditBatch // the header: the records are read into rs
	var rs AuditRecords
	read := false
	err := r.object(func(key string) error {
		if read {
			return errUnexpected
		}
		switch key {
		case "k":
			return r.str(&h.KeyPrefix)
		case "n":
			return r.int(&h.FirstSeq)
		case "u":
			return r.str(&h.User)
		case "t":
			return r.time(&h.Time)
		case "r":
			read = true
			return r.records(&rs, &h)
		}
		return errUnexpected
	})
	if err == nil && (!read || r.skipSpace() != len(r.b)) {
		err = errUnexpected
	}
	return rs, err
}

func (r *jsonReader) records(out *AuditRecords, h *auditBatch) error {
	if r.skipSpace() == len(r.b) || r.b[r.i] != '[' {
		return errUnexpected
	}
	r.i++
	rs := make(AuditRecords, 0, 256)
	if r.skipSpace() < len(r.b) && r.b[r.i] == ']' {
		r.i++
		*out = rs
		return nil
	}
	for {
		rs = append(rs, trading.Event{Time: h.Time, User: h.User})
		e := &rs[len(rs)-1]
		if err := r.record(e); err != nil {
			return err
		}
		if e.Key == "" {
			e.Key = h.key(len(rs) - 1)
		}
		done, err := r.next(']')
		if err != nil {
			return err
		}
		if done {
			*out = rs
			return nil
		}
	}
}

// record reads one record into e, which holds the batch's time and user.
func (r *jsonReader) record(e *trading.Event) error {
	return r.object(func(key string) error {
		switch key {
		case "k":
			return r.str(&e.Key)
		case "y":
			return r.str((*string)(&e.Type))
		case "t":
			return r.time(&e.Time)
		case "sv":
			return r.str(&e.Server)
		case "x":
			return r.int(&e.TxNum)
		case "c":
			return r.str((*string)(&e.Command))
		case "u":
			return r.str(&e.User)
		case "s":
			return r.str(&e.Symbol)
		case "f":
			return r.str(&e.Filename)
		case "m":
			return r.decimal(&e.Funds)
		case "a":
			return r.str(&e.Action)
		case "p":
			return r.decimal(&e.Price)
		case "q":
			return r.int(&e.QuoteServerTime)
		case "ck":
			return r.str(&e.Cryptokey)
		case "e":
			return r.str(&e.Message)
		}
		return errUnexpected
	})
}

// object reads {"key":value,...}, calling field to read each value.
func (r *jsonReader) object(field func(key string) error) error {
	if r.skipSpace() == len(r.b) || r.b[r.i] != '{' {
		return errUnexpected
	}
	r.i++
	if r.skipSpace() < len(r.b) && r.b[r.i] == '}' {
		r.i++
		return nil
	}
	for {
		var key string
		if err := r.str(&key); err != nil {
			return err
		}
		if r.skipSpace() == len(r.b) || r.b[r.i] != ':' {
			return errUnexpected
		}
		r.i++
		if err := field(key); err != nil {
			return err
		}
		if done, err := r.next('}'); err != nil || done {
			return err
		}
	}
}

// next reads the comma before another element, or the closing byte end
// (done).
func (r *jsonReader) next(end byte) (done bool, err error) {
	if r.skipSpace() == len(r.b) {
		return false, errUnexpected
	}
	switch r.b[r.i] {
	case ',':
		r.i++
		return false, nil
	case end:
		r.i++
		return true, nil
	}
	return false, errUnexpected
}

// token returns the string token at r.i, quotes included. Strings with
// escapes or bytes outside printable ASCII are left to encoding/json, which
// also reads invalid UTF-8 its own way.
func (r *jsonReader) token() ([]byte, error) {
	if r.skipSpace() == len(r.b) || r.b[r.i] != '"' {
		return nil, errUnexpected
	}
	for j := r.i + 1; j < len(r.b); j++ {
		switch c := r.b[j]; {
		case c == '"':
			tok := r.b[r.i : j+1]
			r.i = j + 1
			return tok, nil
		case c == '\\' || c < 0x20 || c >= 0x7f:
			return nil, errUnexpected
		}
	}
	return nil, errUnexpected
}

func (r *jsonReader) str(out *string) error {
	tok, err := r.token()
	if err == nil {
		*out = string(tok[1 : len(tok)-1])
	}
	return err
}

// time and decimal hand the quoted token to the type's own UnmarshalJSON,
// as encoding/json does.
func (r *jsonReader) time(out *time.Time) error {
	tok, err := r.token()
	if err != nil {
		return err
	}
	return out.UnmarshalJSON(tok)
}

func (r *jsonReader) decimal(out *decimal.NullDecimal) error {
	out.Valid = true
	return r.dec(&out.Decimal)
}

func (r *jsonReader) dec(out *decimal.Decimal) error {
	tok, err := r.token()
	if err != nil {
		return err
	}
	return out.UnmarshalJSON(tok)
}

// int reads an integer as JSON writes it (no leading zeros or plus sign);
// a fraction, an exponent or a number past int64 is left to encoding/json
// (which refuses them for an int64 field).
func (r *jsonReader) int(out *int64) error {
	start := r.skipSpace()
	j := start
	if j < len(r.b) && r.b[j] == '-' {
		j++
	}
	digits := j
	for j < len(r.b) && r.b[j] >= '0' && r.b[j] <= '9' {
		j++
	}
	if j == digits || (r.b[digits] == '0' && j > digits+1) ||
		(j < len(r.b) && (r.b[j] == '.' || r.b[j] == 'e' || r.b[j] == 'E')) {
		return errUnexpected
	}
	n, err := strconv.ParseInt(string(r.b[start:j]), 10, 64)
	if err != nil {
		return errUnexpected
	}
	r.i = j
	*out = n
	return nil
}

// skipSpace moves past JSON whitespace and returns the new position.
func (r *jsonReader) skipSpace() int {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return r.i
		}
	}
	return r.i
}
