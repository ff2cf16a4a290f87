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
	"go.temporal.io/sdk/converter"
)

// packQuotes is the compact form as quoteJSON defines it, which
// encoding/json writes by reflection: the oracle appendQuotes is held to.
func packQuotes(rs map[string]QuoteResult) map[string]quoteJSON {
	out := make(map[string]quoteJSON, len(rs))
	for sym, r := range rs {
		q := r.Quote
		out[sym] = quoteJSON{Symbol: q.Symbol, Price: q.Price, ServerTime: q.QuoteServerTime, Cryptokey: q.Cryptokey,
			User: q.User, FetchedAt: q.FetchedAt, LegacyHit: r.LegacyHit, Err: r.Err}
	}
	return out
}

// oddQuotes are results that take every branch of the codec: a legacy hit,
// a failed symbol (no quote), characters encoding/json escapes, another
// time zone, a key that is not the quote's symbol, zero and negative values.
func oddQuotes() map[string]QuoteResult {
	t := time.Date(2026, 12, 3, 9, 30, 0, 543976794, time.UTC)
	q := func(sym, user, price string, at time.Time) trading.Quote {
		return trading.Quote{Symbol: sym, User: user, Price: decimal.RequireFromString(price), QuoteServerTime: 1795320585539,
			Cryptokey: "X85sD/9g2OesxbLzDBOM95tQb+K3V+/MEijjb0KhywI=", FetchedAt: at}
	}
	return map[string]QuoteResult{
		"ACY": {Quote: q("ACY", "LwNQpkd8mr", "321.24", t)},
		"BUK": {Quote: q("BUK", "umhaEY4lil", "0.10", t.Add(time.Second)), LegacyHit: true},
		"EZK": {Err: "quote server: connection refused <at> \"127.0.0.1\" & \\ \u2028é\xff"},
		"A&B": {Quote: q("A<B", "", "-0.01", t.In(time.FixedZone("", -5*3600)))},
		"Z":   {Quote: trading.Quote{Symbol: "Z", FetchedAt: t}, LegacyHit: true, Err: "late"},
	}
}

// TestQuoteJSONIsEncodingJSONs checks that appendQuotes writes byte for
// byte what encoding/json writes for packQuotes, and that it reads back to
// the results, by the fast reader, by QuoteResult's UnmarshalJSON and
// through the SDK's default converter.
func TestQuoteJSONIsEncodingJSONs(t *testing.T) {
	plain := oddQuotes()
	delete(plain, "EZK") // escapes and non-ASCII: encoding/json reads them
	delete(plain, "A&B")
	for name, c := range map[string]struct {
		rs   map[string]QuoteResult
		fast bool
	}{"empty": {map[string]QuoteResult{}, true}, "plain": {plain, true}, "odd": {oddQuotes(), false}} {
		t.Run(name, func(t *testing.T) {
			checkQuoteJSON(t, c.rs)
			b, _ := appendQuotes(nil, c.rs)
			if _, err := parseQuotes(b); (err == nil) != c.fast {
				t.Errorf("read by the fast reader: %v, want %v (err %v)", err == nil, c.fast, err)
			}
		})
	}
}

func checkQuoteJSON(t *testing.T, rs map[string]QuoteResult) {
	t.Helper()
	want, err := json.Marshal(packQuotes(rs))
	if err != nil {
		t.Fatal(err)
	}
	got, err := appendQuotes(nil, rs)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("appendQuotes wrote\n%s\nencoding/json writes\n%s", got, want)
	}
	if byMethod, err := json.Marshal(rs); err != nil || !bytes.Equal(byMethod, want) {
		t.Fatalf("QuoteResult.MarshalJSON through encoding/json wrote\n%s (%v)\nwant\n%s", byMethod, err, want)
	}
	var fast map[string]QuoteResult
	payload := jsonPayload(got)
	if err := DataConverter().FromPayload(payload, &fast); err != nil {
		t.Fatal(err)
	}
	var slow map[string]QuoteResult
	if err := json.Unmarshal(got, &slow); err != nil {
		t.Fatal(err)
	}
	var viaDefault map[string]QuoteResult
	p, err := converter.GetDefaultDataConverter().ToPayload(rs)
	if err == nil {
		err = converter.GetDefaultDataConverter().FromPayload(p, &viaDefault)
	}
	if err != nil {
		t.Fatal(err)
	}
	wantBack := roundTripped(t, rs)
	for name, back := range map[string]map[string]QuoteResult{"our converter": fast, "UnmarshalJSON": slow, "default converter": viaDefault} {
		if !reflect.DeepEqual(back, wantBack) {
			t.Errorf("%s read\n%+v\nwant\n%+v", name, back, wantBack)
		}
	}
}

// resultBefore is QuoteResult as its JSON was before the compact form.
type resultBefore struct {
	Quote     trading.Quote `json:"quote"`
	LegacyHit bool          `json:"legacyHit"`
	Err       string        `json:"err,omitempty"`
}

// roundTripped is rs as the form before came back from its JSON: the
// results a workflow saw until now (times and prices as JSON gives them).
func roundTripped(t *testing.T, rs map[string]QuoteResult) map[string]QuoteResult {
	t.Helper()
	old := make(map[string]resultBefore, len(rs))
	for sym, r := range rs {
		old[sym] = resultBefore(r)
	}
	b, err := json.Marshal(old)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]resultBefore
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	out := make(map[string]QuoteResult, len(back))
	for sym, r := range back {
		out[sym] = QuoteResult(r)
	}
	return out
}

// TestQuoteJSONReadsTheFormBefore: a marker recorded before the compact
// form (an account's first GetQuotes, from testdata/histories) is read,
// by the data converter and by encoding/json, as the form before was.
func TestQuoteJSONReadsTheFormBefore(t *testing.T) {
	const recorded = `{"ACY":{"quote":{"symbol":"ACY","user":"LwNQpkd8mr","price":"321.24","quoteServerTime":1795320585539,"cryptokey":"X85sD/9g2OesxbLzDBOM95tQb+K3V+/MEijjb0KhywI=","fetchedAt":"2026-11-22T04:09:45.543976794Z"},"legacyHit":true},` +
		`"EZK":{"quote":{"symbol":"","user":"","price":"0","quoteServerTime":0,"cryptokey":"","fetchedAt":"0001-01-01T00:00:00Z"},"legacyHit":false,"err":"quote service unavailable"}}`
	want := map[string]QuoteResult{
		"ACY": {Quote: trading.Quote{Symbol: "ACY", User: "LwNQpkd8mr", Price: decimal.RequireFromString("321.24"), QuoteServerTime: 1795320585539,
			Cryptokey: "X85sD/9g2OesxbLzDBOM95tQb+K3V+/MEijjb0KhywI=", FetchedAt: time.Date(2026, 11, 22, 4, 9, 45, 543976794, time.UTC)}, LegacyHit: true},
		"EZK": {Err: "quote service unavailable"},
	}
	want = roundTripped(t, want)
	payload := jsonPayload([]byte(recorded))
	var got map[string]QuoteResult
	if err := DataConverter().FromPayload(payload, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the data converter read\n%+v\nwant\n%+v", got, want)
	}
	var plain map[string]QuoteResult
	if err := json.Unmarshal([]byte(recorded), &plain); err != nil || !reflect.DeepEqual(plain, want) {
		t.Errorf("encoding/json read\n%+v (%v)\nwant\n%+v", plain, err, want)
	}
}

// TestQuoteJSONIsCompact: a fetched quote takes at most 160 bytes of the
// marker (about 240 in the form before).
func TestQuoteJSONIsCompact(t *testing.T) {
	rs := oddQuotes()
	one := map[string]QuoteResult{"ACY": rs["ACY"]}
	p, err := DataConverter().ToPayload(one)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(p.GetData()); n > 160 {
		t.Errorf("one quote is %d bytes: %s", n, p.GetData())
	}
}

// TestQuoteJSONOtherShapes checks the reader on JSON appendQuotes does not
// write: whitespace it reads itself; other shapes it leaves to
// encoding/json; invalid JSON is refused, through the data converter too.
func TestQuoteJSONOtherShapes(t *testing.T) {
	const plain = `{"ABC":{"s":"ABC","p":"1.5","t":7,"k":"ck","u":"bob","f":"2026-12-03T09:30:00Z","h":true}}`
	for name, c := range map[string]struct {
		json string
		fast bool
	}{
		"as written":     {plain, true},
		"whitespace":     {" {\"ABC\" : {\"s\":\"ABC\" ,\"p\":\"1.5\",\"t\":7,\"k\":\"ck\",\"u\":\"bob\",\"f\":\"2026-12-03T09:30:00Z\",\"h\": true}\n}", true},
		"escaped":        {strings.Replace(plain, `"bob"`, `"\u0062ob"`, 1), false},
		"price a number": {strings.Replace(plain, `"1.5"`, `1.5`, 1), false},
		"hit false":      {strings.Replace(plain, `true`, `false`, 1), false},
		"unknown field":  {strings.Replace(plain, `"t":7`, `"t":7,"zz":[1]`, 1), false},
	} {
		t.Run(name, func(t *testing.T) {
			var want map[string]quoteJSON
			if err := json.Unmarshal([]byte(c.json), &want); err != nil {
				t.Fatalf("the case is not valid JSON: %v", err)
			}
			if _, err := parseQuotes([]byte(c.json)); (err == nil) != c.fast {
				t.Errorf("read by the fast reader: %v, want %v (err %v)", err == nil, c.fast, err)
			}
			payload := jsonPayload([]byte(c.json))
			var got map[string]QuoteResult
			if err := DataConverter().FromPayload(payload, &got); err != nil {
				t.Fatal(err)
			}
			w := want["ABC"]
			wantQ := QuoteResult{Quote: trading.Quote{Symbol: w.Symbol, User: w.User, Price: w.Price, QuoteServerTime: w.ServerTime,
				Cryptokey: w.Cryptokey, FetchedAt: w.FetchedAt}, LegacyHit: w.LegacyHit}
			if !reflect.DeepEqual(got, map[string]QuoteResult{"ABC": wantQ}) {
				t.Errorf("read\n%+v\nwant\n%+v", got, wantQ)
			}
		})
	}
	for _, bad := range []string{``, `{`, `{"ABC":{"s":"ABC","p":"x","f":"2026-12-03T09:30:00Z"}}`, `{"ABC":{"s":"ABC","p":"1","f":"yesterday"}}`,
		`{"ABC":{"s":"ABC","p":"1","f":"2026-12-03T09:30:00Z"}}x`, `{"ABC":{"s":"ABC","p":"1","t":07,"f":"2026-12-03T09:30:00Z"}}`} {
		payload := jsonPayload([]byte(bad))
		rs := map[string]QuoteResult{"ABC": {Err: "before"}}
		if err := DataConverter().FromPayload(payload, &rs); err == nil {
			t.Errorf("%q: the data converter read it as %+v, want an error", bad, rs)
		}
		if len(rs) != 1 || rs["ABC"].Err != "before" {
			t.Errorf("%q: the map read into is now %+v, want it left as it was", bad, rs)
		}
	}
}

// BenchmarkQuoteResultsPayload is what a batch's quotes cost on their way
// through Temporal (a GetQuotes result encoded by the worker, decoded by the
// workflow): some 450 symbols in a batch of the 1,000,000-command file, with
// the form before (the SDK's default converter on QuoteResult's field names)
// and the compact form through ours.
func BenchmarkQuoteResultsPayload(b *testing.B) {
	base := oddQuotes()["ACY"]
	rs, old := map[string]QuoteResult{}, map[string]resultBefore{}
	for i := range 450 {
		sym := string([]byte{byte('A' + i%26), byte('A' + i/26%26), byte('A' + i/676)})
		r := base
		r.Quote.Symbol = sym
		rs[sym], old[sym] = r, resultBefore(r)
	}
	b.Run("before", func(b *testing.B) {
		benchmarkQuotes(b, converter.GetDefaultDataConverter(), old, func() any { return &map[string]resultBefore{} })
	})
	b.Run("compact", func(b *testing.B) {
		benchmarkQuotes(b, DataConverter(), rs, func() any { return &map[string]QuoteResult{} })
	})
}

func benchmarkQuotes(b *testing.B, dc converter.DataConverter, value any, into func() any) {
	b.ReportAllocs()
	var size int
	for b.Loop() {
		p, err := dc.ToPayload(value)
		if err != nil {
			b.Fatal(err)
		}
		size = len(p.GetData())
		if err := dc.FromPayload(p, into()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(size), "bytes")
}
