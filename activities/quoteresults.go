package activities

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/daytradinginc/daytrader/trading"
	"github.com/shopspring/decimal"
)

// A QuoteResult's JSON is compact. GetQuotesV2 runs as a local activity, so
// its answer is recorded in the account's history (the marker), once a
// batch: a batch of the 1,000,000-command file asks for some 450 symbols,
// and written with trading.Quote's names each took about 224 bytes (101 KB
// a batch), every one written to Temporal's store and read by
// encoding/json's reflection. quoteJSON says a quote in about 154. The form
// before (QuoteResult's field names and trading.Quote's), which histories
// recorded as GetQuotes hold, is read as well.

// quoteJSON is a QuoteResult's JSON: its quote's fields with one-letter
// names, and (read only) the names of the form before.
type quoteJSON struct {
	Symbol     string          `json:"s"`
	Price      decimal.Decimal `json:"p"`
	ServerTime int64           `json:"t,omitempty"`
	Cryptokey  string          `json:"k,omitempty"`
	User       string          `json:"u,omitempty"`
	FetchedAt  time.Time       `json:"f"`
	LegacyHit  bool            `json:"h,omitempty"`
	Err        string          `json:"e,omitempty"`

	Quote     *trading.Quote `json:"quote,omitempty"`
	OldHit    bool           `json:"legacyHit,omitempty"`
	OldErrMsg string         `json:"err,omitempty"`
}

// MarshalJSON writes the compact form.
func (r QuoteResult) MarshalJSON() ([]byte, error) {
	return appendQuote(make([]byte, 0, 160), &r)
}

// UnmarshalJSON reads the compact form or the form before.
func (r *QuoteResult) UnmarshalJSON(b []byte) error {
	rd := &jsonReader{b: b}
	if err := rd.quote(r); err == nil && rd.skipSpace() == len(b) {
		return nil
	}
	// Not as appendQuote writes it (or not valid): encoding/json reads it,
	// or says what is wrong with it.
	var j quoteJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	if j.Quote != nil {
		*r = QuoteResult{Quote: *j.Quote, LegacyHit: j.OldHit, Err: j.OldErrMsg}
		return nil
	}
	*r = QuoteResult{Quote: trading.Quote{Symbol: j.Symbol, User: j.User, Price: j.Price, QuoteServerTime: j.ServerTime,
		Cryptokey: j.Cryptokey, FetchedAt: j.FetchedAt}, LegacyHit: j.LegacyHit, Err: j.Err}
	return nil
}

// appendQuotes appends the JSON encoding/json writes for rs: its keys
// sorted, each value as appendQuote writes it.
func appendQuotes(out []byte, rs map[string]QuoteResult) ([]byte, error) {
	out = append(out, '{')
	for i, sym := range slices.Sorted(maps.Keys(rs)) {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(appendString(out, sym), ':')
		r := rs[sym]
		var err error
		if out, err = appendQuote(out, &r); err != nil {
			return nil, err
		}
	}
	return append(out, '}'), nil
}

// appendQuote appends r as a quoteJSON: its fields in order, the empty
// ones with omitempty left out.
func appendQuote(out []byte, r *QuoteResult) ([]byte, error) {
	q := &r.Quote
	out = appendString(append(out, `{"s":`...), q.Symbol)
	p, _ := q.Price.MarshalJSON() // never fails
	out = append(append(out, `,"p":`...), p...)
	if q.QuoteServerTime != 0 {
		out = strconv.AppendInt(append(out, `,"t":`...), q.QuoteServerTime, 10)
	}
	out = appendField(out, "k", q.Cryptokey)
	out = appendField(out, "u", q.User)
	out, err := appendTime(append(out, `,"f":`...), q.FetchedAt)
	if err != nil {
		return nil, err
	}
	if r.LegacyHit {
		out = append(out, `,"h":true`...)
	}
	out = appendField(out, "e", r.Err)
	return append(out, '}'), nil
}

// parseQuotes reads what appendQuotes writes (whitespace aside); any other
// shape gives errUnexpected.
func parseQuotes(data []byte) (map[string]QuoteResult, error) {
	r := &jsonReader{b: data}
	rs := map[string]QuoteResult{}
	err := r.object(func(sym string) error {
		var q QuoteResult
		if err := r.quote(&q); err != nil {
			return err
		}
		rs[sym] = q
		return nil
	})
	if err == nil && r.skipSpace() != len(r.b) {
		err = errUnexpected
	}
	return rs, err
}

// quote reads one quoteJSON as appendQuote writes it into res.
func (r *jsonReader) quote(res *QuoteResult) error {
	*res = QuoteResult{}
	q := &res.Quote
	return r.object(func(key string) error {
		switch key {
		case "s":
			return r.str(&q.Symbol)
		case "p":
			return r.dec(&q.Price)
		case "t":
			return r.int(&q.QuoteServerTime)
		case "k":
			return r.str(&q.Cryptokey)
		case "u":
			return r.str(&q.User)
		case "f":
			return r.time(&q.FetchedAt)
		case "h":
			return r.trueLiteral(&res.LegacyHit)
		case "e":
			return r.str(&res.Err)
		}
		return errUnexpected
	})
}

// trueLiteral reads the JSON literal true (appendQuote writes no false),
// setting *out.
func (r *jsonReader) trueLiteral(out *bool) error {
	if !bytes.HasPrefix(r.b[r.skipSpace():], []byte("true")) {
		return errUnexpected
	}
	r.i += len("true")
	*out = true
	return nil
}
