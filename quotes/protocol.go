// Package quotes speaks the legacy quote server's protocol: an emulator of the
// server (with its measured latency), a hedging client that hides most of that
// latency, and a cache that keeps every quote for its 60 s of validity so that
// each billed legacy hit is made, and audited, once.
//
// The wire protocol (see ../shared/spec/daytrading.md, "The legacy quote
// server") is one request per TCP connection:
//
//	request: SYM,userid\n
//	reply:   price,SYM,userid,timestamp,cryptokey\n
//
// with the price in dollars with 2 decimals, the timestamp in milliseconds
// since the epoch and the cryptokey an opaque token of about 44 characters.
package quotes

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/daytradinginc/daytrader/trading"
	"github.com/shopspring/decimal"
)

const (
	// MaxRequestLine is the longest request line the emulator reads, newline
	// included. A valid request is at most 3+1+64+2 = 70 bytes; the margin is
	// for a trailing "\r".
	MaxRequestLine = 128
	// MaxReplyLine is the longest reply line the client reads, newline
	// included: 12 price digits + 3 + 64 + 20 + 128 + 5 separators fits well.
	MaxReplyLine = 512
	// maxCryptokey bounds the opaque token so a broken server cannot hand us
	// an unbounded string to audit.
	maxCryptokey = 128
)

var (
	// replyPrice is a positive price as the server writes it: exactly two
	// decimals, no sign, no exponent, at most 12 integer digits.
	replyPrice = regexp.MustCompile(`^[0-9]{1,12}\.[0-9]{2}$`)
	// cryptokeyPattern is what an opaque token may contain: printable ASCII
	// without spaces or commas (commas separate the fields).
	cryptokeyPattern = regexp.MustCompile(`^[!-+\--~]{1,128}$`)
)

// trimLineEnd removes the line terminator ("\n", tolerating "\r\n") and
// reports an error if another line break remains inside the line.
func trimLineEnd(what, line string) (string, error) {
	s := strings.TrimSuffix(line, "\n")
	s = strings.TrimSuffix(s, "\r")
	if strings.ContainsAny(s, "\r\n") {
		return "", fmt.Errorf("%s contains more than one line", what)
	}
	return s, nil
}

// FormatRequest is the request line for symbol and user.
func FormatRequest(symbol, user string) string {
	return symbol + "," + user + "\n"
}

// ParseRequest reads a request line `SYM,userid` (the trailing newline is
// optional) and checks both fields like the rest of the system does.
func ParseRequest(line string) (symbol, user string, err error) {
	s, err := trimLineEnd("request", line)
	if err != nil {
		return "", "", err
	}
	if s == "" {
		return "", "", fmt.Errorf("empty request: want SYM,userid")
	}
	fields := strings.Split(s, ",")
	if len(fields) != 2 {
		return "", "", fmt.Errorf("request has %d fields, want 2 (SYM,userid)", len(fields))
	}
	symbol, user = fields[0], fields[1]
	if !trading.ValidSymbol(symbol) {
		return "", "", fmt.Errorf("stock symbol %q must be 1 to 3 upper-case letters", symbol)
	}
	if err := trading.CheckUser(user); err != nil {
		return "", "", err
	}
	return symbol, user, nil
}

// FormatReply is the reply line for q: price with exactly 2 decimals, the
// server timestamp in ms and the cryptokey, newline-terminated.
func FormatReply(q trading.Quote) string {
	return fmt.Sprintf("%s,%s,%s,%d,%s\n", q.Price.StringFixed(2), q.Symbol, q.User, q.QuoteServerTime, q.Cryptokey)
}

// ParseReply reads a reply line `price,SYM,userid,timestamp,cryptokey` (the
// trailing newline is optional) strictly: every field must be well formed and
// the price must be greater than 0. FetchedAt is left zero (the client sets it
// when the reply arrived), and whether the reply is for the symbol that was
// asked is for the caller to check.
func ParseReply(line string) (trading.Quote, error) {
	s, err := trimLineEnd("reply", line)
	if err != nil {
		return trading.Quote{}, err
	}
	if s == "" {
		return trading.Quote{}, fmt.Errorf("empty reply: want price,SYM,userid,timestamp,cryptokey")
	}
	fields := strings.Split(s, ",")
	if len(fields) != 5 {
		return trading.Quote{}, fmt.Errorf("reply has %d fields, want 5 (price,SYM,userid,timestamp,cryptokey)", len(fields))
	}
	priceText, symbol, user, timeText, cryptokey := fields[0], fields[1], fields[2], fields[3], fields[4]

	if !replyPrice.MatchString(priceText) {
		return trading.Quote{}, fmt.Errorf("reply price %q is not a dollar price with 2 decimals like 12.50", priceText)
	}
	price, err := decimal.NewFromString(priceText)
	if err != nil {
		return trading.Quote{}, fmt.Errorf("reply price %q: %w", priceText, err)
	}
	if !price.IsPositive() {
		return trading.Quote{}, fmt.Errorf("reply price %s must be greater than 0", priceText)
	}
	if !trading.ValidSymbol(symbol) {
		return trading.Quote{}, fmt.Errorf("reply symbol %q must be 1 to 3 upper-case letters", symbol)
	}
	if err := trading.CheckUser(user); err != nil {
		return trading.Quote{}, fmt.Errorf("reply %w", err)
	}
	// strconv.ParseInt alone would accept a sign; the server writes digits only.
	if timeText == "" || strings.Trim(timeText, "0123456789") != "" {
		return trading.Quote{}, fmt.Errorf("reply timestamp %q is not milliseconds since the epoch", timeText)
	}
	ms, err := strconv.ParseInt(timeText, 10, 64)
	if err != nil || ms <= 0 {
		return trading.Quote{}, fmt.Errorf("reply timestamp %q is not milliseconds since the epoch", timeText)
	}
	if !cryptokeyPattern.MatchString(cryptokey) {
		return trading.Quote{}, fmt.Errorf("reply cryptokey %q must be 1 to %d printable characters without spaces or commas", truncate(cryptokey, 40), maxCryptokey)
	}
	return trading.Quote{
		Symbol:          symbol,
		User:            user,
		Price:           price,
		QuoteServerTime: ms,
		Cryptokey:       cryptokey,
	}, nil
}

// truncate shortens s for an error message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
