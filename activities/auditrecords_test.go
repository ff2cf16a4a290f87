package activities_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/activities"
	"github.com/daytradinginc/daytrader/trading"
	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/converter"
)

// batchOfRecords is what an account's batch writes: records numbered in
// order under one key prefix, most at the batch's time and of its user,
// and the odd ones out the compact form must carry themselves.
func batchOfRecords() []trading.Event {
	now := time.Date(2026, 12, 2, 15, 4, 5, 123456789, time.UTC)
	money := func(s string) decimal.NullDecimal { return decimal.NewNullDecimal(decimal.RequireFromString(s)) }
	key := func(seq int) string { return fmt.Sprintf("account-alice/run-7/%d", seq) }
	return []trading.Event{
		{Key: key(41), Type: trading.UserCommandEvent, Time: now, TxNum: 9, Command: trading.Buy, User: "alice", Symbol: "ABC", Funds: money("100.00")},
		{Key: key(42), Type: trading.QuoteServerEvent, Time: now.Add(-3 * time.Second), TxNum: 9, User: "alice", Symbol: "ABC",
			Price: money("12.34"), QuoteServerTime: 1764687845123, Cryptokey: "k/9+="},
		{Key: key(43), Type: trading.AccountTransactionEvent, Time: now, TxNum: 10, User: "alice", Action: "remove", Funds: money("98.72")},
		{Key: key(44), Type: trading.ErrorEvent, Time: now, TxNum: 11, Command: trading.CommitSell, User: "alice", Message: "no pending sell"},
		{Key: key(45), Type: trading.SystemEvent, Time: now, TxNum: 12, Command: trading.Add, User: "alice", Funds: money("0")},
		{Key: "dumplog/13", Type: trading.UserCommandEvent, Time: now, TxNum: 13, Command: trading.DumpLog, Filename: "out.xml", Server: "w1"},
		{Key: key(47), Type: trading.UserCommandEvent, Time: now.In(time.FixedZone("x", 3600)), TxNum: 14, Command: trading.QuoteCmd, User: "alice", Symbol: "Q"},
	}
}

// TestAuditRecordsRoundTrip checks that the compact JSON reads back to
// exactly the records that were written, field by field, and that it is
// much smaller than the same records as plain trading.Event JSON (0.37 of
// it for these records).
func TestAuditRecordsRoundTrip(t *testing.T) {
	events := batchOfRecords()
	compact, err := json.Marshal(activities.AuditRecords(events))
	if err != nil {
		t.Fatal(err)
	}
	var back activities.AuditRecords
	if err := json.Unmarshal(compact, &back); err != nil {
		t.Fatal(err)
	}
	// Compared through plain JSON, as the old form stored them: time
	// locations and decimal exponents must survive too.
	want, _ := json.Marshal(events)
	got, _ := json.Marshal([]trading.Event(back))
	if string(got) != string(want) {
		t.Errorf("read back:\n%s\nwant:\n%s", got, want)
	}

	var many []trading.Event
	for i := range 1000 {
		e := events[i%5]
		e.Key = fmt.Sprintf("account-alice/run-7/%d", 41+i)
		many = append(many, e)
	}
	compact, _ = json.Marshal(activities.AuditRecords(many))
	plain, _ := json.Marshal(many)
	if len(compact)*10 > len(plain)*4 {
		t.Errorf("1,000 records: %d bytes compact against %d plain, want at most 0.4 of it", len(compact), len(plain))
	}
}

// TestAuditRecordsReadThePlainForm checks that the input of a WriteAudit
// scheduled before the compact form (a JSON array of trading.Event, still in
// running accounts' histories) is read as it was.
func TestAuditRecordsReadThePlainForm(t *testing.T) {
	events := batchOfRecords()
	plain, _ := json.Marshal(events)
	var back activities.AuditRecords
	if err := json.Unmarshal(plain, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual([]trading.Event(back), mustRoundTrip(t, events)) {
		t.Errorf("plain form read back as %+v", back)
	}
	var empty activities.AuditRecords
	if err := json.Unmarshal([]byte(" null "), &empty); err != nil || empty != nil {
		t.Errorf("null: %v, %v", empty, err)
	}
}

// mustRoundTrip is events as plain JSON decodes them (times in the
// location JSON gives them).
func mustRoundTrip(t *testing.T, events []trading.Event) []trading.Event {
	t.Helper()
	b, _ := json.Marshal(events)
	var out []trading.Event
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// manyRecords is a batch of n records in the shape of batchOfRecords,
// numbered in order.
func manyRecords(n int) []trading.Event {
	events := batchOfRecords()
	many := make([]trading.Event, n)
	for i := range many {
		many[i] = events[i%5]
		many[i].Key = fmt.Sprintf("account-alice/run-7/%d", 41+i)
	}
	return many
}

// BenchmarkAuditRecordsPayload is what a batch's audit records cost on
// their way through Temporal: the workflow encodes them as WriteAudit's
// input and the activity decodes them, with the SDK's default converter
// and with ours (DataConverter).
// A batch of 1,000 commands writes about 1,700 records.
func BenchmarkAuditRecordsPayload(b *testing.B) {
	for _, c := range []struct {
		name string
		dc   converter.DataConverter
	}{{"default", converter.GetDefaultDataConverter()}, {"ours", activities.DataConverter()}} {
		b.Run(c.name, func(b *testing.B) { benchmarkPayload(b, c.dc) })
	}
}

func benchmarkPayload(b *testing.B, dc converter.DataConverter) {
	records := activities.AuditRecords(manyRecords(1700))
	b.ReportAllocs()
	for b.Loop() {
		p, err := dc.ToPayloads(records)
		if err != nil {
			b.Fatal(err)
		}
		var back activities.AuditRecords
		if err := dc.FromPayloads(p, &back); err != nil || len(back) != len(records) {
			b.Fatal(err, len(back))
		}
	}
}
