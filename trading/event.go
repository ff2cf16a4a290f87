package trading

import (
	"time"

	"github.com/shopspring/decimal"
)

// EventType is the element name of an audit record in logfile.xsd.
type EventType string

const (
	UserCommandEvent        EventType = "userCommand"
	QuoteServerEvent        EventType = "quoteServer"
	AccountTransactionEvent EventType = "accountTransaction"
	SystemEvent             EventType = "systemEvent"
	ErrorEvent              EventType = "errorEvent"
	DebugEvent              EventType = "debugEvent"
)

// Event is one audit record. Which fields are set depends on Type, exactly as
// logfile.xsd lays them out:
//
//	userCommand, systemEvent, errorEvent, debugEvent: Command, User, Symbol, Filename, Funds (+ Message for error/debug)
//	quoteServer: Price, Symbol, User, QuoteServerTime, Cryptokey
//	accountTransaction: Action ("add" or "remove"), User, Funds
//
// Key makes writes idempotent: the same event written twice (a retried
// activity, a replayed workflow task) is stored once. Server is filled in by
// the process that writes the event, not by the rules.
type Event struct {
	Key             string              `json:"key"`
	Type            EventType           `json:"type"`
	Time            time.Time           `json:"time"`
	Server          string              `json:"server,omitempty"`
	TxNum           int64               `json:"txNum"`
	Command         CommandName         `json:"command,omitempty"`
	User            string              `json:"user,omitempty"`
	Symbol          string              `json:"symbol,omitempty"`
	Filename        string              `json:"filename,omitempty"`
	Funds           decimal.NullDecimal `json:"funds"`
	Action          string              `json:"action,omitempty"`
	Price           decimal.NullDecimal `json:"price"`
	QuoteServerTime int64               `json:"quoteServerTime,omitempty"`
	Cryptokey       string              `json:"cryptokey,omitempty"`
	Message         string              `json:"message,omitempty"`
}

// Quote is a price from the legacy quote server as it answered it. FetchedAt is
// when this system received it; a quote is valid for QuoteValidity after that.
type Quote struct {
	Symbol          string          `json:"symbol"`
	User            string          `json:"user"`
	Price           decimal.Decimal `json:"price"`
	QuoteServerTime int64           `json:"quoteServerTime"` // ms since the epoch, the server's clock
	Cryptokey       string          `json:"cryptokey"`
	FetchedAt       time.Time       `json:"fetchedAt"`
}

// QuoteValidity is how long a quote may be reused instead of asking the quote
// server again (every legacy hit is billed).
const QuoteValidity = 60 * time.Second

// PendingValidity is the confirm window of a BUY or SELL.
const PendingValidity = 60 * time.Second

// ValidAt reports whether the quote may still be used at now.
func (q Quote) ValidAt(now time.Time) bool {
	return !q.FetchedAt.IsZero() && !now.After(q.FetchedAt.Add(QuoteValidity))
}
