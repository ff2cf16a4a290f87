package audit

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/daytradinginc/daytrader/trading"
	"github.com/shopspring/decimal"
)

// ErrInvalidEvent wraps every rejection of an event that could not be written
// as a logfile.xsd record. Retrying such a write can never succeed, so callers
// (activities) should treat it as a non-retryable failure.
var ErrInvalidEvent = errors.New("invalid audit event")

// The timestamp window of logfile.xsd's unixTimeLimits, in ms since the epoch.
const (
	minTimestampMillis = 1577836800000 // 2020-01-01T00:00:00Z
	maxTimestampMillis = 4102444800000 // 2100-01-01T00:00:00Z
)

// maxMoney is the first amount numeric(20, 2) in audit_events cannot hold.
var maxMoney = decimal.New(1, 18)

// Validate reports whether ev can be stored and dumped as a logfile.xsd record:
// a key, a known type, a positive transaction number, a time inside the
// schema's 2020..2100 window, the fields its type requires, a command from the
// schema's enumeration, a symbol of at most 3 characters, money with at most 2
// decimals, and only text that XML 1.0 can carry. The error wraps
// ErrInvalidEvent and says what is wrong.
func Validate(ev trading.Event) error {
	if ev.Key == "" {
		return invalid(ev, "the event key is missing")
	}
	return validateRecord(ev)
}

// validateRecord checks everything logfile.xsd needs; the key is not part of
// the XML, so the encoder can write events that were never stored.
func validateRecord(ev trading.Event) error {
	if !knownType(ev.Type) {
		return invalid(ev, fmt.Sprintf("unknown event type %q", ev.Type))
	}
	if ev.TxNum <= 0 {
		return invalid(ev, fmt.Sprintf("transaction number must be positive, got %d", ev.TxNum))
	}
	if ms := ev.Time.UnixMilli(); ev.Time.IsZero() || ms < minTimestampMillis || ms > maxTimestampMillis {
		return invalid(ev, fmt.Sprintf("time %s is outside 2020-01-01..2100-01-01", ev.Time.UTC().Format(time.RFC3339Nano)))
	}
	// Command is part of the XML for every type but quoteServer and
	// accountTransaction; there it is still stored (History filters on it),
	// so it must be a real command name whenever it is set.
	switch {
	case ev.Command == "" && commandRequired(ev.Type):
		return invalid(ev, fmt.Sprintf("a %s event needs a command", ev.Type))
	case ev.Command != "" && !ev.Command.Known():
		return invalid(ev, fmt.Sprintf("command %q is not one of the schema's commands", ev.Command))
	}
	if n := utf8.RuneCountInString(ev.Symbol); n > 3 {
		return invalid(ev, fmt.Sprintf("stock symbol %q is longer than 3 characters", ev.Symbol))
	}
	switch ev.Type {
	case trading.QuoteServerEvent:
		if !ev.Price.Valid {
			return invalid(ev, "a quoteServer event needs a price")
		}
	case trading.AccountTransactionEvent:
		if ev.Action != "add" && ev.Action != "remove" {
			return invalid(ev, fmt.Sprintf("account transaction action %q must be \"add\" or \"remove\"", ev.Action))
		}
		if !ev.Funds.Valid {
			return invalid(ev, "an accountTransaction event needs funds")
		}
	}
	for _, m := range []struct {
		name  string
		value decimal.NullDecimal
	}{{"funds", ev.Funds}, {"price", ev.Price}} {
		if !m.value.Valid {
			continue
		}
		if !m.value.Decimal.Equal(m.value.Decimal.Round(2)) {
			return invalid(ev, fmt.Sprintf("%s %s has more than 2 decimals", m.name, m.value.Decimal))
		}
		if m.value.Decimal.Abs().GreaterThanOrEqual(maxMoney) {
			return invalid(ev, fmt.Sprintf("%s %s is too large", m.name, m.value.Decimal))
		}
	}
	for _, f := range []struct{ name, value string }{
		{"key", ev.Key}, {"server", ev.Server}, {"user", ev.User}, {"symbol", ev.Symbol},
		{"filename", ev.Filename}, {"action", ev.Action}, {"cryptokey", ev.Cryptokey}, {"message", ev.Message},
	} {
		if !xmlText(f.value) {
			return invalid(ev, fmt.Sprintf("%s %q contains a character XML cannot carry", f.name, f.value))
		}
	}
	return nil
}

func invalid(ev trading.Event, why string) error {
	return fmt.Errorf("%w (key %q, type %q, transaction %d): %s", ErrInvalidEvent, ev.Key, ev.Type, ev.TxNum, why)
}

func knownType(t trading.EventType) bool {
	switch t {
	case trading.UserCommandEvent, trading.QuoteServerEvent, trading.AccountTransactionEvent,
		trading.SystemEvent, trading.ErrorEvent, trading.DebugEvent:
		return true
	}
	return false
}

// commandRequired reports whether the type's XML element has a mandatory
// <command> child.
func commandRequired(t trading.EventType) bool {
	return t != trading.QuoteServerEvent && t != trading.AccountTransactionEvent
}

// xmlText reports whether s is valid UTF-8 made only of characters allowed in
// XML 1.0 documents (the Char production); anything else could not be dumped
// faithfully.
func xmlText(s string) bool {
	// Audit strings are nearly all ASCII, read here byte by byte: decoding
	// runes was 1.3 % of a 1,000,000-command run's CPU (every record is
	// checked before it is written, and again when a DUMPLOG encodes it).
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= utf8.RuneSelf:
			return xmlRunes(s[i:])
		case c < 0x20 && c != '\t' && c != '\n' && c != '\r':
			return false
		}
	}
	return true
}

// xmlRunes is xmlText for a string with non-ASCII characters.
func xmlRunes(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
		case r < 0x20, r == 0xFFFE, r == 0xFFFF:
			return false
		}
	}
	return true
}
