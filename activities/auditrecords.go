package activities

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/daytradinginc/daytrader/trading"
	"github.com/shopspring/decimal"
)

// AuditRecords are the records one WriteAudit stores: a batch's, in order.
//
// As the activity's input they travel through Temporal's history, so their
// JSON is compact: an account's batch of 1,000 commands holds some 1,700
// records, and written out as trading.Event each repeated its account's
// key prefix, user and time and named every field (about 380 KB a batch,
// most of the history's bytes; encoding and decoding it was 8 % of the
// 1,000,000-command run's CPU). What the records share is said once
// (auditBatch) and each record says only what it adds (auditRecord), about
// a quarter of the bytes. A plain JSON array of trading.Event, which
// histories written before hold, is read as well.
type AuditRecords []trading.Event

// auditBatch is AuditRecords' JSON: record i's key is KeyPrefix followed by
// FirstSeq+i, its user User and its time Time, unless it says otherwise.
type auditBatch struct {
	KeyPrefix string        `json:"k"`
	FirstSeq  int64         `json:"n"`
	User      string        `json:"u,omitempty"`
	Time      time.Time     `json:"t"`
	Records   []auditRecord `json:"r"`
}

// auditRecord is one record in an auditBatch: a field left out is the
// batch's (Key, User, Time) or trading.Event's zero value.
type auditRecord struct {
	Key             string              `json:"k,omitempty"`
	Type            trading.EventType   `json:"y"`
	Time            *time.Time          `json:"t,omitempty"`
	Server          string              `json:"sv,omitempty"`
	TxNum           int64               `json:"x,omitempty"`
	Command         trading.CommandName `json:"c,omitempty"`
	User            *string             `json:"u,omitempty"`
	Symbol          string              `json:"s,omitempty"`
	Filename        string              `json:"f,omitempty"`
	Funds           *decimal.Decimal    `json:"m,omitempty"`
	Action          string              `json:"a,omitempty"`
	Price           *decimal.Decimal    `json:"p,omitempty"`
	QuoteServerTime int64               `json:"q,omitempty"`
	Cryptokey       string              `json:"ck,omitempty"`
	Message         string              `json:"e,omitempty"`
}

// MarshalJSON writes the compact form.
func (rs AuditRecords) MarshalJSON() ([]byte, error) {
	return appendAudit(make([]byte, 0, 64+80*len(rs)), rs)
}

// UnmarshalJSON reads the compact form or a plain array of trading.Event.
func (rs *AuditRecords) UnmarshalJSON(b []byte) error {
	if b = bytes.TrimSpace(b); len(b) > 0 && b[0] != '{' {
		return json.Unmarshal(b, (*[]trading.Event)(rs))
	}
	if fast, err := parseAudit(b); err == nil {
		*rs = fast
		return nil
	}
	// Not as appendAudit writes it (or not valid): encoding/json reads it,
	// or says what is wrong with it.
	var batch auditBatch
	if err := json.Unmarshal(b, &batch); err != nil {
		return err
	}
	*rs = batch.events()
	return nil
}

func (b *auditBatch) events() AuditRecords {
	rs := make(AuditRecords, len(b.Records))
	for i, r := range b.Records {
		e := trading.Event{Key: r.Key, Type: r.Type, Time: b.Time, Server: r.Server, TxNum: r.TxNum, Command: r.Command,
			User: b.User, Symbol: r.Symbol, Filename: r.Filename, Action: r.Action, QuoteServerTime: r.QuoteServerTime,
			Cryptokey: r.Cryptokey, Message: r.Message}
		if e.Key == "" {
			e.Key = b.key(i)
		}
		if r.Time != nil {
			e.Time = *r.Time
		}
		if r.User != nil {
			e.User = *r.User
		}
		if r.Funds != nil {
			e.Funds = decimal.NewNullDecimal(*r.Funds)
		}
		if r.Price != nil {
			e.Price = decimal.NewNullDecimal(*r.Price)
		}
		rs[i] = e
	}
	return rs
}

// key is the key record i has when it follows the batch's numbering.
func (b *auditBatch) key(i int) string {
	return b.KeyPrefix + strconv.FormatInt(b.FirstSeq+int64(i), 10)
}

// splitKey splits an account's audit key, "<workflow>/<chain>/<seq>", into
// "<workflow>/<chain>/" and seq. A key of another shape gives the whole key
// and 0: the records then carry their keys themselves.
func splitKey(key string) (prefix string, seq int64) {
	i := strings.LastIndexByte(key, '/')
	n, err := strconv.ParseInt(key[i+1:], 10, 64)
	if i < 0 || err != nil || strconv.FormatInt(n, 10) != key[i+1:] {
		return key, 0
	}
	return key[:i+1], n
}
