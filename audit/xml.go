package audit

import (
	"bufio"
	"encoding/xml"
	"errors"
	"io"
	"strconv"

	"github.com/daytradinginc/daytrader/trading"
	"github.com/shopspring/decimal"
)

// XMLEncoder writes audit events as a logfile.xsd document, one event at a
// time, so a dump of millions of events never sits in memory. The <log> root
// is opened by the first Encode (or by Close for an empty log) and closed by
// Close, which must be called.
type XMLEncoder struct {
	w       *bufio.Writer
	scratch []byte
	started bool
	closed  bool
	err     error // first write error; every later call returns it
}

// NewXMLEncoder returns an encoder writing to w through its own buffer.
func NewXMLEncoder(w io.Writer) *XMLEncoder {
	return &XMLEncoder{w: bufio.NewWriterSize(w, 64<<10)}
}

// WriteXML writes events as one complete logfile.xsd document. An event the
// schema would not accept is an error (wrapping ErrInvalidEvent); what was
// written before it is then not a complete document.
func WriteXML(w io.Writer, events []trading.Event) error {
	enc := NewXMLEncoder(w)
	for _, ev := range events {
		if err := enc.Encode(ev); err != nil {
			return err
		}
	}
	return enc.Close()
}

// Encode writes one event as the element its Type names, with the children
// logfile.xsd lists for that type in the schema's order. Optional children
// are omitted when empty; all text is escaped. An event the schema would not
// accept is refused before anything of it is written.
func (e *XMLEncoder) Encode(ev trading.Event) error {
	if e.closed {
		return errors.New("audit: XMLEncoder.Encode after Close")
	}
	if e.err != nil {
		return e.err
	}
	if err := validateRecord(ev); err != nil {
		return err
	}
	e.start()
	tag := string(ev.Type)
	e.raw(" <")
	e.raw(tag)
	e.raw(">\n")
	e.int("timestamp", ev.Time.UnixMilli())
	e.text("server", ev.Server)
	e.int("transactionNum", ev.TxNum)
	switch ev.Type {
	case trading.QuoteServerEvent:
		e.money("price", ev.Price.Decimal)
		e.text("stockSymbol", ev.Symbol)
		e.text("username", ev.User)
		e.int("quoteServerTime", ev.QuoteServerTime)
		e.text("cryptokey", ev.Cryptokey)
	case trading.AccountTransactionEvent:
		e.text("action", ev.Action)
		e.text("username", ev.User)
		e.money("funds", ev.Funds.Decimal)
	default: // userCommand, systemEvent, errorEvent, debugEvent
		e.text("command", string(ev.Command))
		e.optionalText("username", ev.User)
		e.optionalText("stockSymbol", ev.Symbol)
		e.optionalText("filename", ev.Filename)
		if ev.Funds.Valid {
			e.money("funds", ev.Funds.Decimal)
		}
		switch ev.Type {
		case trading.ErrorEvent:
			e.optionalText("errorMessage", ev.Message)
		case trading.DebugEvent:
			e.optionalText("debugMessage", ev.Message)
		}
	}
	e.raw(" </")
	e.raw(tag)
	e.raw(">\n")
	return e.err
}

// Close ends the document and flushes it to the underlying writer.
func (e *XMLEncoder) Close() error {
	if e.closed {
		return e.err
	}
	e.start()
	e.raw("</log>\n")
	e.closed = true
	if e.err == nil {
		e.err = e.w.Flush()
	}
	return e.err
}

func (e *XMLEncoder) start() {
	if !e.started {
		e.started = true
		e.raw(xml.Header + "<log>\n")
	}
}

func (e *XMLEncoder) raw(s string) {
	if e.err == nil {
		_, e.err = e.w.WriteString(s)
	}
}

func (e *XMLEncoder) text(name, value string) {
	e.raw("  <")
	e.raw(name)
	e.raw(">")
	if e.err == nil {
		// Escapes <>&'" and the whitespace characters that would otherwise
		// be normalised, so every string reads back exactly as stored.
		e.err = xml.EscapeText(e.w, []byte(value))
	}
	e.raw("</")
	e.raw(name)
	e.raw(">\n")
}

func (e *XMLEncoder) optionalText(name, value string) {
	if value != "" {
		e.text(name, value)
	}
}

func (e *XMLEncoder) int(name string, value int64) {
	e.scratch = strconv.AppendInt(e.scratch[:0], value, 10)
	e.number(name)
}

// money writes dollars with exactly 2 decimals, as the legacy log did.
func (e *XMLEncoder) money(name string, value decimal.Decimal) {
	e.scratch = append(e.scratch[:0], value.StringFixed(2)...)
	e.number(name)
}

func (e *XMLEncoder) number(name string) {
	e.raw("  <")
	e.raw(name)
	e.raw(">")
	if e.err == nil {
		_, e.err = e.w.Write(e.scratch)
	}
	e.raw("</")
	e.raw(name)
	e.raw(">\n")
}
