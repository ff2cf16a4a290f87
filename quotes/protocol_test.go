package quotes

import (
	"strings"
	"testing"

	"github.com/daytradinginc/daytrader/trading"
	"github.com/shopspring/decimal"
)

func TestReplyRoundTrip(t *testing.T) {
	q := trading.Quote{
		Symbol:          "ABC",
		User:            "oY01WVirLr",
		Price:           decimal.RequireFromString("12.5"),
		QuoteServerTime: 1700000000123,
		Cryptokey:       newCryptokey(),
	}
	line := FormatReply(q)
	if want := "12.50,ABC,oY01WVirLr,1700000000123," + q.Cryptokey + "\n"; line != want {
		t.Fatalf("FormatReply = %q, want %q", line, want)
	}
	if len(q.Cryptokey) != 44 {
		t.Errorf("cryptokey %q has %d characters, want 44", q.Cryptokey, len(q.Cryptokey))
	}
	got, err := ParseReply(line)
	if err != nil {
		t.Fatalf("ParseReply(%q): %v", line, err)
	}
	if got.Symbol != q.Symbol || got.User != q.User || !got.Price.Equal(q.Price) ||
		got.QuoteServerTime != q.QuoteServerTime || got.Cryptokey != q.Cryptokey || !got.FetchedAt.IsZero() {
		t.Errorf("ParseReply(FormatReply(q)) = %+v, want %+v", got, q)
	}
	if got.Price.StringFixed(2) != "12.50" {
		t.Errorf("price = %s", got.Price.StringFixed(2))
	}
	// The newline is optional and a CRLF is tolerated.
	for _, l := range []string{strings.TrimSuffix(line, "\n"), strings.TrimSuffix(line, "\n") + "\r\n"} {
		if _, err := ParseReply(l); err != nil {
			t.Errorf("ParseReply(%q): %v", l, err)
		}
	}
}

func TestParseReplyRejects(t *testing.T) {
	const key = "k3y+/="
	cases := []struct {
		line, wantErr string
	}{
		{"", "empty reply"},
		{"\n", "empty reply"},
		{"12.50,ABC,bob,1700000000000\n", "4 fields, want 5"},
		{"12.50,ABC,bob,1700000000000," + key + ",extra\n", "6 fields, want 5"},
		{"ERROR: bad request\n", "1 fields"},
		{"12.5,ABC,bob,1700000000000," + key, "not a dollar price with 2 decimals"},
		{"12,ABC,bob,1700000000000," + key, "not a dollar price"},
		{"12.500,ABC,bob,1700000000000," + key, "not a dollar price"},
		{"-1.00,ABC,bob,1700000000000," + key, "not a dollar price"},
		{"+1.00,ABC,bob,1700000000000," + key, "not a dollar price"},
		{"1e3,ABC,bob,1700000000000," + key, "not a dollar price"},
		{"0.00,ABC,bob,1700000000000," + key, "greater than 0"},
		{"1234567890123.00,ABC,bob,1700000000000," + key, "not a dollar price"},
		{"12.50,abc,bob,1700000000000," + key, "symbol \"abc\""},
		{"12.50,ABCD,bob,1700000000000," + key, "symbol \"ABCD\""},
		{"12.50,ABC,,1700000000000," + key, "user id \"\""},
		{"12.50,ABC,bo b,1700000000000," + key, "user id"},
		{"12.50,ABC,bob,," + key, "timestamp \"\""},
		{"12.50,ABC,bob,-5," + key, "timestamp \"-5\""},
		{"12.50,ABC,bob,+5," + key, "timestamp \"+5\""},
		{"12.50,ABC,bob,0," + key, "timestamp \"0\""},
		{"12.50,ABC,bob,17e11," + key, "timestamp"},
		{"12.50,ABC,bob,99999999999999999999," + key, "timestamp"},
		{"12.50,ABC,bob,1700000000000,", "cryptokey \"\""},
		{"12.50,ABC,bob,1700000000000,a b", "cryptokey"},
		{"12.50,ABC,bob,1700000000000," + strings.Repeat("k", 129), "cryptokey"},
		{"12.50,ABC,bob,1700000000000," + key + "\nsecond line\n", "more than one line"},
	}
	for _, c := range cases {
		_, err := ParseReply(c.line)
		if err == nil {
			t.Errorf("ParseReply(%q) = nil error, want %q", c.line, c.wantErr)
			continue
		}
		if !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("ParseReply(%q) = %q, want it to mention %q", c.line, err, c.wantErr)
		}
	}
}

func TestParseRequest(t *testing.T) {
	symbol, user, err := ParseRequest(FormatRequest("S", "oY01WVirLr"))
	if err != nil || symbol != "S" || user != "oY01WVirLr" {
		t.Fatalf("ParseRequest = %q, %q, %v", symbol, user, err)
	}
	if _, _, err := ParseRequest("ABC,bob\r\n"); err != nil {
		t.Errorf("CRLF request: %v", err)
	}
	if _, _, err := ParseRequest("ABC,bob"); err != nil {
		t.Errorf("request without newline: %v", err)
	}
	cases := []struct{ line, wantErr string }{
		{"", "empty request"},
		{"\n", "empty request"},
		{"ABC\n", "1 fields, want 2"},
		{"ABC,\n", "user id \"\""},
		{"ABC,bob,extra\n", "3 fields"},
		{"abc,bob\n", "symbol \"abc\""},
		{",bob\n", "symbol \"\""},
		{"ABCD,bob\n", "symbol \"ABCD\""},
		{"ABC,bo-b\n", "user id \"bo-b\""},
		{"ABC,bob\nDEF,bob\n", "more than one line"},
		{"\x00\xff,bob\n", "symbol"},
	}
	for _, c := range cases {
		_, _, err := ParseRequest(c.line)
		if err == nil || !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("ParseRequest(%q) = %v, want an error mentioning %q", c.line, err, c.wantErr)
		}
	}
}

// FuzzParseReply checks that the reply parser never panics and that whatever
// it accepts is well formed and survives a round trip.
func FuzzParseReply(f *testing.F) {
	f.Add("12.50,ABC,bob,1700000000000,k3y+/=\n")
	f.Add("0.01,Z,u1,1,x")
	f.Add("ERROR: nope\n")
	f.Fuzz(func(t *testing.T, line string) {
		q, err := ParseReply(line)
		if err != nil {
			return
		}
		if !q.Price.IsPositive() || !trading.ValidSymbol(q.Symbol) || !trading.ValidUser(q.User) || q.QuoteServerTime <= 0 {
			t.Fatalf("ParseReply(%q) accepted %+v", line, q)
		}
		again, err := ParseReply(FormatReply(q))
		if err != nil || !again.Price.Equal(q.Price) || again.Cryptokey != q.Cryptokey {
			t.Fatalf("round trip of %q: %+v, %v", line, again, err)
		}
	})
}

// FuzzParseRequest checks that the request parser never panics and only
// accepts valid symbols and users.
func FuzzParseRequest(f *testing.F) {
	f.Add("ABC,bob\n")
	f.Add("abc,bob")
	f.Add(",\n")
	f.Fuzz(func(t *testing.T, line string) {
		symbol, user, err := ParseRequest(line)
		if err != nil {
			return
		}
		if !trading.ValidSymbol(symbol) || !trading.ValidUser(user) {
			t.Fatalf("ParseRequest(%q) accepted %q, %q", line, symbol, user)
		}
		if s2, u2, err := ParseRequest(FormatRequest(symbol, user)); err != nil || s2 != symbol || u2 != user {
			t.Fatalf("round trip of %q: %q, %q, %v", line, s2, u2, err)
		}
	})
}
