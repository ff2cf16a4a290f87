package audit

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/daytradinginc/daytrader/trading"
	"github.com/shopspring/decimal"
)

// schemaPath is logfile.xsd in the spec checked out beside the repository
// (../shared/spec from the repo root; tests run in the repo's audit/).
const schemaPath = "../../shared/spec/logfile.xsd"

// nasty is text that must be escaped (and survive) in every text element.
const nasty = `a<b>&c"d'e ]]> tab	nl
cr` + "\r" + ` ünï`

func money(s string) decimal.NullDecimal {
	return decimal.NewNullDecimal(decimal.RequireFromString(s))
}

// sampleEvents returns every event type, with all and with only the required
// fields, and text needing escaping wherever a string can go. Keys and
// transaction numbers are unique per (user, firstTx).
func sampleEvents(user string, firstTx int64, at time.Time) []trading.Event {
	tx := firstTx
	key := func(kind string) string { return fmt.Sprintf("%s-%d-%s", user, tx, kind) }
	var events []trading.Event
	add := func(ev trading.Event) {
		ev.Key = key(string(ev.Type))
		ev.TxNum = tx
		ev.Time = at.Add(time.Duration(tx-firstTx) * time.Millisecond)
		events = append(events, ev)
		tx++
	}
	add(trading.Event{Type: trading.UserCommandEvent, Server: "web1", Command: trading.Add, User: user, Funds: money("100.5")})
	add(trading.Event{Type: trading.UserCommandEvent, Command: trading.DumpLog, Filename: "./" + nasty}) // global DUMPLOG: no user
	add(trading.Event{Type: trading.UserCommandEvent, Command: trading.Buy, User: user, Symbol: "ABC", Funds: money("20")})
	add(trading.Event{Type: trading.QuoteServerEvent, Server: "qs", Command: trading.Buy, Price: money("12.3"), Symbol: "ABC", User: user,
		QuoteServerTime: 1700000000123, Cryptokey: "k+/=" + nasty})
	add(trading.Event{Type: trading.QuoteServerEvent, Price: money("0"), Symbol: "Z", User: user}) // empty cryptokey, zero time
	add(trading.Event{Type: trading.AccountTransactionEvent, Action: "add", User: user, Funds: money("100.50")})
	add(trading.Event{Type: trading.AccountTransactionEvent, Command: trading.CommitBuy, Action: "remove", User: user, Funds: money("12.30")})
	add(trading.Event{Type: trading.SystemEvent, Command: trading.SetBuyTrigger, User: user, Symbol: "ABC", Funds: money("5.05")})
	add(trading.Event{Type: trading.SystemEvent, Command: trading.CancelSetSell})
	add(trading.Event{Type: trading.ErrorEvent, Command: trading.CommitSell, User: user, Message: nasty})
	add(trading.Event{Type: trading.ErrorEvent, Command: trading.DumpLog, User: user, Filename: "../" + nasty, Message: "bad file name"})
	add(trading.Event{Type: trading.ErrorEvent, Command: trading.Sell})
	add(trading.Event{Type: trading.DebugEvent, Command: trading.QuoteCmd, User: user, Symbol: "XY", Funds: money("-1.99"), Message: nasty})
	add(trading.Event{Type: trading.DebugEvent, Command: trading.DisplaySummary})
	return events
}

// checkAgainstSchema runs xmllint on doc; it fails the test if the document is
// not valid against logfile.xsd.
func checkAgainstSchema(t *testing.T, doc []byte) {
	t.Helper()
	if err := xmllint(t, doc); err != nil {
		t.Fatalf("logfile.xsd rejects the document: %v\n%s", err, doc)
	}
}

func xmllint(t *testing.T, doc []byte) error {
	t.Helper()
	lint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Fatal("xmllint is needed to check dumps against logfile.xsd: apt-get install -y libxml2-utils")
	}
	if _, err := os.Stat(schemaPath); err != nil {
		t.Fatalf("the schema is expected at %s (../shared/spec beside the repository): %v", schemaPath, err)
	}
	file := filepath.Join(t.TempDir(), "log.xml")
	if err := os.WriteFile(file, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(lint, "--noout", "--schema", schemaPath, file).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
}

// xmlRecord is one parsed event element: its name and its children's text.
type xmlRecord struct {
	name     string
	children map[string]string
	order    []string
}

func parseLog(t *testing.T, doc []byte) []xmlRecord {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(doc))
	var records []xmlRecord
	depth := 0
	var child string
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("parsing the dump: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			depth++
			switch depth {
			case 1:
				if tok.Name.Local != "log" {
					t.Fatalf("root element is %q, want log", tok.Name.Local)
				}
			case 2:
				records = append(records, xmlRecord{name: tok.Name.Local, children: map[string]string{}})
			case 3:
				child = tok.Name.Local
				text.Reset()
			}
		case xml.CharData:
			if depth == 3 {
				text.Write(tok)
			}
		case xml.EndElement:
			if depth == 3 {
				r := &records[len(records)-1]
				r.children[child] = text.String()
				r.order = append(r.order, child)
			}
			depth--
		}
	}
	return records
}

// expectedChildren is what the XML of ev must hold, child by child, in the
// order of logfile.xsd.
func expectedChildren(ev trading.Event) ([]string, map[string]string) {
	var order []string
	m := map[string]string{}
	put := func(name, value string) { order = append(order, name); m[name] = value }
	putIf := func(name, value string) {
		if value != "" {
			put(name, value)
		}
	}
	put("timestamp", fmt.Sprint(ev.Time.UnixMilli()))
	put("server", ev.Server)
	put("transactionNum", fmt.Sprint(ev.TxNum))
	switch ev.Type {
	case trading.QuoteServerEvent:
		put("price", ev.Price.Decimal.StringFixed(2))
		put("stockSymbol", ev.Symbol)
		put("username", ev.User)
		put("quoteServerTime", fmt.Sprint(ev.QuoteServerTime))
		put("cryptokey", ev.Cryptokey)
	case trading.AccountTransactionEvent:
		put("action", ev.Action)
		put("username", ev.User)
		put("funds", ev.Funds.Decimal.StringFixed(2))
	default:
		put("command", string(ev.Command))
		putIf("username", ev.User)
		putIf("stockSymbol", ev.Symbol)
		putIf("filename", ev.Filename)
		if ev.Funds.Valid {
			put("funds", ev.Funds.Decimal.StringFixed(2))
		}
		if ev.Type == trading.ErrorEvent {
			putIf("errorMessage", ev.Message)
		}
		if ev.Type == trading.DebugEvent {
			putIf("debugMessage", ev.Message)
		}
	}
	return order, m
}

// checkRecords asserts that the parsed records are exactly events, in order.
func checkRecords(t *testing.T, records []xmlRecord, events []trading.Event) {
	t.Helper()
	if len(records) != len(events) {
		t.Fatalf("the document has %d events, want %d", len(records), len(events))
	}
	for i, ev := range events {
		r := records[i]
		if r.name != string(ev.Type) {
			t.Errorf("event %d is <%s>, want <%s>", i, r.name, ev.Type)
		}
		order, want := expectedChildren(ev)
		if fmt.Sprint(r.order) != fmt.Sprint(order) {
			t.Errorf("event %d (%s) has children %v, want %v", i, ev.Type, r.order, order)
		}
		for name, value := range want {
			if r.children[name] != value {
				t.Errorf("event %d (%s) <%s> = %q, want %q", i, ev.Type, name, r.children[name], value)
			}
		}
	}
}

func TestWriteXMLValidatesAndRoundTrips(t *testing.T) {
	events := sampleEvents("alice", 1, time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
	var buf bytes.Buffer
	if err := WriteXML(&buf, events); err != nil {
		t.Fatal(err)
	}
	checkAgainstSchema(t, buf.Bytes())
	checkRecords(t, parseLog(t, buf.Bytes()), events)
	if !strings.Contains(buf.String(), "&lt;b&gt;&amp;c&#34;d&#39;e") {
		t.Errorf("special characters are not escaped as expected:\n%s", buf.String())
	}
}

func TestWriteXMLEdgesOfTheTimeWindow(t *testing.T) {
	events := []trading.Event{
		{Type: trading.UserCommandEvent, TxNum: 1, Command: trading.Add, Time: time.UnixMilli(minTimestampMillis)},
		{Type: trading.UserCommandEvent, TxNum: 2, Command: trading.Add, Time: time.UnixMilli(maxTimestampMillis)},
	}
	var buf bytes.Buffer
	if err := WriteXML(&buf, events); err != nil {
		t.Fatal(err)
	}
	checkAgainstSchema(t, buf.Bytes())
}

func TestWriteXMLEmptyLog(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteXML(&buf, nil); err != nil {
		t.Fatal(err)
	}
	checkAgainstSchema(t, buf.Bytes())
	if n := len(parseLog(t, buf.Bytes())); n != 0 {
		t.Fatalf("empty log has %d events", n)
	}
}

// The checker itself must be able to fail, or the tests above prove nothing.
func TestSchemaCheckRejectsInvalidDocuments(t *testing.T) {
	bad := []string{
		`<log><userCommand><timestamp>1700000000000</timestamp><server>s</server><transactionNum>1</transactionNum><command>ADD</command><stockSymbol>ABCD</stockSymbol></userCommand></log>`,
		`<log><userCommand><timestamp>1500000000000</timestamp><server>s</server><transactionNum>1</transactionNum><command>ADD</command></userCommand></log>`,
		`<log><quoteServer><timestamp>1700000000000</timestamp><server>s</server><transactionNum>1</transactionNum></quoteServer></log>`,
	}
	for _, doc := range bad {
		if err := xmllint(t, []byte(doc)); err == nil {
			t.Errorf("xmllint accepted an invalid document: %s", doc)
		}
	}
}

func validEvent() trading.Event {
	return trading.Event{Key: "k1", Type: trading.UserCommandEvent, Time: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		TxNum: 1, Command: trading.Buy, User: "bob", Symbol: "ABC", Funds: money("10.00")}
}

// invalidEvents are events logfile.xsd (or the table) cannot take, with a
// word the error must contain.
func invalidEvents() map[string]struct {
	event trading.Event
	says  string
} {
	cases := map[string]struct {
		event trading.Event
		says  string
	}{}
	bad := func(name, says string, change func(*trading.Event)) {
		ev := validEvent()
		change(&ev)
		cases[name] = struct {
			event trading.Event
			says  string
		}{ev, says}
	}
	bad("no key", "key", func(e *trading.Event) { e.Key = "" })
	bad("no type", "type", func(e *trading.Event) { e.Type = "" })
	bad("unknown type", "type", func(e *trading.Event) { e.Type = "tradeEvent" })
	bad("zero txNum", "transaction", func(e *trading.Event) { e.TxNum = 0 })
	bad("negative txNum", "transaction", func(e *trading.Event) { e.TxNum = -5 })
	bad("no time", "time", func(e *trading.Event) { e.Time = time.Time{} })
	bad("time before 2020", "time", func(e *trading.Event) { e.Time = time.UnixMilli(minTimestampMillis - 1) })
	bad("time after 2100", "time", func(e *trading.Event) { e.Time = time.UnixMilli(maxTimestampMillis + 1) })
	bad("no command", "command", func(e *trading.Event) { e.Command = "" })
	bad("unknown command", "command", func(e *trading.Event) { e.Command = "SHORT" })
	bad("lower-case command", "command", func(e *trading.Event) { e.Command = "buy" })
	bad("symbol of 4", "symbol", func(e *trading.Event) { e.Symbol = "ABCD" })
	bad("funds with 3 decimals", "decimals", func(e *trading.Event) { e.Funds = money("1.234") })
	bad("funds too large", "too large", func(e *trading.Event) { e.Funds = money("1000000000000000000") })
	bad("NUL in message", "XML", func(e *trading.Event) { e.Type, e.Message = trading.ErrorEvent, "a\x00b" })
	bad("control character in user", "XML", func(e *trading.Event) { e.User = "bo\x1bb" })
	bad("invalid UTF-8 in filename", "XML", func(e *trading.Event) { e.Filename = "f\xffile" })
	bad("quote without price", "price", func(e *trading.Event) { e.Type, e.Funds = trading.QuoteServerEvent, decimal.NullDecimal{} })
	bad("quote with unknown command", "command", func(e *trading.Event) {
		e.Type, e.Command, e.Price = trading.QuoteServerEvent, "NOPE", money("1")
	})
	bad("transaction without funds", "funds", func(e *trading.Event) {
		e.Type, e.Action, e.Funds = trading.AccountTransactionEvent, "add", decimal.NullDecimal{}
	})
	bad("transaction with odd action", "action", func(e *trading.Event) { e.Type, e.Action = trading.AccountTransactionEvent, "ADD" })
	return cases
}

func TestValidateRejects(t *testing.T) {
	if err := Validate(validEvent()); err != nil {
		t.Fatalf("the valid event is refused: %v", err)
	}
	for name, c := range invalidEvents() {
		t.Run(name, func(t *testing.T) {
			err := Validate(c.event)
			if !errors.Is(err, ErrInvalidEvent) {
				t.Fatalf("Validate = %v, want ErrInvalidEvent", err)
			}
			if !strings.Contains(err.Error(), c.says) {
				t.Errorf("error %q does not mention %q", err, c.says)
			}
			// The encoder refuses it too, except for the key, which the XML
			// does not carry.
			encodeErr := WriteXML(io.Discard, []trading.Event{c.event})
			if name == "no key" {
				if encodeErr != nil {
					t.Errorf("WriteXML needs no key, got %v", encodeErr)
				}
			} else if !errors.Is(encodeErr, ErrInvalidEvent) {
				t.Errorf("WriteXML = %v, want ErrInvalidEvent", encodeErr)
			}
		})
	}
}

// TestXMLTextIsTheCharProduction holds xmlText to XML 1.0's Char production
// (and valid UTF-8) on ASCII, non-ASCII and mixed strings, a bad character
// before, at and after the first non-ASCII one.
func TestXMLTextIsTheCharProduction(t *testing.T) {
	char := func(r rune) bool { // https://www.w3.org/TR/xml/#NT-Char
		return r == 0x9 || r == 0xA || r == 0xD || (r >= 0x20 && r <= 0xD7FF) ||
			(r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
	}
	want := func(s string) bool {
		return utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return !char(r) })
	}
	for _, s := range []string{"", "abc", "a\tb\nc\r", "\x7f", "a\x1fb", "\x00", "é", "ü\u2028\U0001F600", "\uFFFD",
		"x\uFFFE", "x\uFFFF", "ab\xff", "é\x01", "\x01é", "é\xff", "a\x80", "\xed\xa0\x80", "report.xml"} {
		if got := xmlText(s); got != want(s) {
			t.Errorf("xmlText(%q) = %v, want %v", s, got, want(s))
		}
	}
}

// BenchmarkValidate is the check every audit record passes before it is
// written (and again when a DUMPLOG encodes it).
func BenchmarkValidate(b *testing.B) {
	ev := validEvent()
	ev.Type, ev.Message = trading.ErrorEvent, "you hold no free shares of ABC to sell"
	for b.Loop() {
		if err := Validate(ev); err != nil {
			b.Fatal(err)
		}
	}
}
