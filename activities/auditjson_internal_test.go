package activities

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/trading"
	"github.com/shopspring/decimal"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

// packAudit is the compact form as auditBatch defines it, which
// encoding/json writes by reflection: the oracle appendAudit is held to.
func packAudit(rs AuditRecords) auditBatch {
	var batch auditBatch
	if len(rs) > 0 {
		batch.KeyPrefix, batch.FirstSeq = splitKey(rs[0].Key)
		batch.User, batch.Time = rs[0].User, rs[0].Time
	}
	batch.Records = make([]auditRecord, len(rs))
	for i, e := range rs {
		r := &batch.Records[i]
		*r = auditRecord{Type: e.Type, Server: e.Server, TxNum: e.TxNum, Command: e.Command, Symbol: e.Symbol,
			Filename: e.Filename, Action: e.Action, QuoteServerTime: e.QuoteServerTime, Cryptokey: e.Cryptokey, Message: e.Message,
			Funds: optionalDecimal(e.Funds), Price: optionalDecimal(e.Price)}
		if e.Key != batch.key(i) {
			r.Key = e.Key
		}
		if e.User != batch.User {
			r.User = &e.User
		}
		if e.Time != batch.Time {
			r.Time = &e.Time
		}
	}
	return batch
}

func optionalDecimal(d decimal.NullDecimal) *decimal.Decimal {
	if !d.Valid {
		return nil
	}
	return &d.Decimal
}

// oddRecords are records whose strings, keys, times and numbers take every
// branch of the codec: characters encoding/json escapes, non-ASCII and
// invalid UTF-8, keys off the batch's numbering, other users and times,
// empty and negative values.
func oddRecords() AuditRecords {
	t := time.Date(2026, 12, 3, 9, 30, 0, 5, time.UTC)
	money := func(s string) decimal.NullDecimal { return decimal.NewNullDecimal(decimal.RequireFromString(s)) }
	return AuditRecords{
		{Key: "account-bob/r/7", Type: trading.UserCommandEvent, Time: t, TxNum: 1, Command: trading.Add, User: "bob", Funds: money("10.5")},
		{Key: "account-bob/r/8", Type: trading.ErrorEvent, Time: t, TxNum: 2, Command: trading.Sell, User: "bob",
			Message: `sell "ABC" <now> & \ later` + "\t\u2028é\xff"},
		{Key: "account-bob/r/10", Type: trading.QuoteServerEvent, Time: t.Add(-time.Second), TxNum: -3, User: "",
			Symbol: "A&B", Price: money("-0.01"), QuoteServerTime: -1, Cryptokey: "x/y+z="},
		{Key: "account-bob/r/011", Type: trading.SystemEvent, Time: t.In(time.FixedZone("", -5*3600)), User: "al<ice>"},
		{Key: "dumplog", Type: trading.UserCommandEvent, Time: time.Time{}, Command: trading.DumpLog, Server: "w 1", Filename: "/tmp/ü.xml"},
		{Key: "account-bob/r/12", Type: trading.AccountTransactionEvent, Time: t, TxNum: 1 << 62, User: "bob", Action: "add",
			Funds: money("0"), Price: money("123456789012345678901234567890.000001")},
	}
}

// TestAuditJSONIsEncodingJSONs checks that appendAudit writes byte for byte
// what encoding/json writes for packAudit, and that the fast reader reads
// it back to what encoding/json reads from it.
func TestAuditJSONIsEncodingJSONs(t *testing.T) {
	for name, rs := range map[string]AuditRecords{
		"empty": {}, "one": oddRecords()[:1], "odd": oddRecords(), "odd from the second": oddRecords()[1:],
	} {
		t.Run(name, func(t *testing.T) { checkAuditJSON(t, rs) })
	}
}

// checkAuditJSON holds the codec to encoding/json for rs.
func checkAuditJSON(t *testing.T, rs AuditRecords) {
	t.Helper()
	want, wantErr := json.Marshal(packAudit(rs))
	got, err := appendAudit(nil, rs)
	if err != nil || wantErr != nil {
		if err == nil || wantErr == nil {
			t.Fatalf("appendAudit: %v; encoding/json: %v", err, wantErr)
		}
		return // both refuse it (a time outside years 0 to 9999)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("appendAudit wrote\n%s\nencoding/json writes\n%s", got, want)
	}
	var batch auditBatch
	if err := json.Unmarshal(want, &batch); err != nil {
		t.Fatal(err)
	}
	var back AuditRecords
	if err := back.UnmarshalJSON(got); err != nil {
		t.Fatal(err)
	}
	if wantBack := batch.events(); !reflect.DeepEqual(back, wantBack) {
		t.Errorf("read back\n%+v\nencoding/json reads\n%+v", back, wantBack)
	}
}

// TestAuditJSONOtherShapesAreReadByEncodingJSON checks the reader on JSON
// appendAudit does not write: whitespace it reads itself; other key orders,
// escapes, nulls, case-folded keys and numbers it leaves to encoding/json,
// which reads them as before; invalid JSON is refused, through the data
// converter too.
func TestAuditJSONOtherShapesAreReadByEncodingJSON(t *testing.T) {
	const plain = `{"k":"a/","n":4,"u":"bob","t":"2026-12-03T09:30:00Z","r":[{"y":"userCommand","x":1,"c":"ADD","m":"5"}]}`
	for name, c := range map[string]struct {
		json string
		fast bool
	}{
		"as written":         {plain, true},
		"whitespace":         {" {\n\t\"k\" : \"a/\" , \"n\":4,\"u\":\"bob\",\"t\":\"2026-12-03T09:30:00Z\",\"r\":[ {\"y\":\"userCommand\",\"x\":1,\"c\":\"ADD\",\"m\":\"5\"} ] }\r\n", true},
		"records first":      {`{"r":[{"y":"userCommand","x":1,"c":"ADD","m":"5"}],"k":"a/","n":4,"u":"bob","t":"2026-12-03T09:30:00Z"}`, false},
		"escaped":            {strings.Replace(plain, `"ADD"`, `"\u0041DD"`, 1), false},
		"null user":          {strings.Replace(plain, `"x":1`, `"x":1,"u":null`, 1), false},
		"upper-case key":     {strings.Replace(plain, `"x":1`, `"X":1`, 1), false},
		"funds as a number":  {strings.Replace(plain, `"m":"5"`, `"m":5`, 1), false},
		"unknown field":      {strings.Replace(plain, `"x":1`, `"x":1,"zz":[1,{"a":2}]`, 1), false},
		"duplicate key":      {strings.Replace(plain, `"x":1`, `"x":1,"x":2`, 1), true},
		"no records":         {`{"k":"a/","n":4,"t":"2026-12-03T09:30:00Z","r":[]}`, true},
		"no records key":     {`{"k":"a/","n":4,"t":"2026-12-03T09:30:00Z"}`, false},
		"user after records": {`{"k":"a/","n":4,"t":"2026-12-03T09:30:00Z","r":[],"u":"x"}`, false},
	} {
		t.Run(name, func(t *testing.T) {
			var want auditBatch
			if err := json.Unmarshal([]byte(c.json), &want); err != nil {
				t.Fatalf("the case is not valid JSON: %v", err)
			}
			if _, err := parseAudit([]byte(c.json)); (err == nil) != c.fast {
				t.Errorf("read by the fast reader: %v, want %v (err %v)", err == nil, c.fast, err)
			}
			var got AuditRecords
			if err := got.UnmarshalJSON([]byte(c.json)); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want.events()) {
				t.Errorf("read\n%+v\nencoding/json reads\n%+v", got, want.events())
			}
		})
	}
	for _, bad := range []string{``, `{`, `{"k":"a/","n":4,"t":"2026-12-03T09:30:00Z","r":[]}x`, `{"k":"a/","n":04,"r":[]}`, `{"k":"a/","n":4.0,"r":[]}`,
		`{"k":"a/","n":4,"t":"yesterday","r":[]}`, `{"k":"a/","n":4,"t":"2026-12-03T09:30:00Z","r":[{"m":"five"}]}`,
		`{"k":"a/","n":4,"t":"2026-12-03T09:30:00Z","r":[{"y":"x"},]}`, "{\"k\":\"a/\",\"n\":4,\"t\":\"2026-12-03T09:30:00Z\",\"r\":[{\"y\":\"x\x01\"}]}"} {
		var rs AuditRecords
		if err := rs.UnmarshalJSON([]byte(bad)); err == nil {
			t.Errorf("%q: read as %+v, want an error", bad, rs)
		}
		payload := jsonPayload([]byte(bad))
		if err := DataConverter().FromPayload(payload, &rs); err == nil {
			t.Errorf("%q: the data converter read it as %+v, want an error", bad, rs)
		}
	}
}

// jsonPayload is data as a "json/plain" payload, as a history holds it.
func jsonPayload(data []byte) *commonpb.Payload {
	return &commonpb.Payload{Metadata: map[string][]byte{converter.MetadataEncoding: []byte(converter.MetadataEncodingJSON)}, Data: data}
}

// FuzzAuditJSON holds the codec to encoding/json for records made of any
// strings and numbers.
func FuzzAuditJSON(f *testing.F) {
	f.Add("account-bob/r/7", "bob", "ABC", "no pending sell", int64(7), int64(1764687845123), "12.34", 0)
	f.Add("dumplog", "", "<&>", "\xff\u2028\"\\", int64(-1), int64(0), "-0.000", 3600)
	f.Fuzz(func(t *testing.T, key, user, symbol, message string, txNum, qsTime int64, price string, zone int) {
		p, err := decimal.NewFromString(price)
		if err != nil {
			return
		}
		base := oddRecords()
		e := base[0]
		e.Key, e.User, e.Symbol, e.Message, e.TxNum, e.QuoteServerTime = key, user, symbol, message, txNum, qsTime
		e.Price = decimal.NewNullDecimal(p)
		e.Time = e.Time.In(time.FixedZone("", zone%(18*3600)))
		checkAuditJSON(t, AuditRecords{e, base[1], base[2]})
		checkAuditJSON(t, AuditRecords{base[5], e})
	})
}
