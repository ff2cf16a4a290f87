// Package trading holds the DayTrading business rules: account state and every
// command of ../shared/spec/daytrading.md. It is pure Go (no Temporal, no SQL)
// so the rules run in microseconds in tests and the very same code runs inside
// the account workflow.
package trading

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// CommandName is one of the spec's command names, exactly as written in
// workload files and in the audit log's commandType enumeration.
type CommandName string

const (
	Add            CommandName = "ADD"
	QuoteCmd       CommandName = "QUOTE"
	Buy            CommandName = "BUY"
	CommitBuy      CommandName = "COMMIT_BUY"
	CancelBuy      CommandName = "CANCEL_BUY"
	Sell           CommandName = "SELL"
	CommitSell     CommandName = "COMMIT_SELL"
	CancelSell     CommandName = "CANCEL_SELL"
	SetBuyAmount   CommandName = "SET_BUY_AMOUNT"
	SetBuyTrigger  CommandName = "SET_BUY_TRIGGER"
	CancelSetBuy   CommandName = "CANCEL_SET_BUY"
	SetSellAmount  CommandName = "SET_SELL_AMOUNT"
	SetSellTrigger CommandName = "SET_SELL_TRIGGER"
	CancelSetSell  CommandName = "CANCEL_SET_SELL"
	DisplaySummary CommandName = "DISPLAY_SUMMARY"
	DumpLog        CommandName = "DUMPLOG"
)

// argKind names what one positional argument of a command is.
type argKind int

const (
	argUser argKind = iota
	argSymbol
	argAmount
	argPrice
	argFilename
)

// commandArgs is the positional signature of every command as it appears in a
// workload line after the command name. DUMPLOG has two forms (user+file, or
// file alone for the whole system); the global form is handled by ParseArgs.
var commandArgs = map[CommandName][]argKind{
	Add:            {argUser, argAmount},
	QuoteCmd:       {argUser, argSymbol},
	Buy:            {argUser, argSymbol, argAmount},
	CommitBuy:      {argUser},
	CancelBuy:      {argUser},
	Sell:           {argUser, argSymbol, argAmount},
	CommitSell:     {argUser},
	CancelSell:     {argUser},
	SetBuyAmount:   {argUser, argSymbol, argAmount},
	SetBuyTrigger:  {argUser, argSymbol, argPrice},
	CancelSetBuy:   {argUser, argSymbol},
	SetSellAmount:  {argUser, argSymbol, argAmount},
	SetSellTrigger: {argUser, argSymbol, argPrice},
	CancelSetSell:  {argUser, argSymbol},
	DisplaySummary: {argUser},
	DumpLog:        {argUser, argFilename},
}

// Known reports whether n is a command of the spec.
func (n CommandName) Known() bool { _, ok := commandArgs[n]; return ok }

// NeedsQuote reports whether the command asks for the current price of its
// symbol (so the workflow can fetch quotes for a whole batch at once).
func (n CommandName) NeedsQuote() bool {
	switch n {
	case QuoteCmd, Buy, Sell, SetBuyTrigger, SetSellTrigger:
		return true
	}
	return false
}

// Command is one trader instruction. It is also the plain JSON payload of the
// account workflow's `command` signal, `commands` signal and `execute` update:
//
//	{"txNum": 7, "command": "BUY", "user": "alice", "symbol": "ABC", "amount": "100.00"}
//
// Money travels as a decimal string so that no float ever touches it.
type Command struct {
	TxNum    int64       `json:"txNum"`
	Name     CommandName `json:"command"`
	User     string      `json:"user,omitempty"`
	Symbol   string      `json:"symbol,omitempty"`
	Amount   string      `json:"amount,omitempty"` // dollars: ADD, BUY, SELL, SET_*_AMOUNT
	Price    string      `json:"price,omitempty"`  // trigger price: SET_*_TRIGGER
	Filename string      `json:"filename,omitempty"`
}

func (c Command) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%d] %s", c.TxNum, c.Name)
	for _, s := range []string{c.User, c.Symbol, c.Amount, c.Price, c.Filename} {
		if s != "" {
			b.WriteString(",")
			b.WriteString(s)
		}
	}
	return b.String()
}

// ParseArgs builds a command from its name and positional arguments, as written
// in a workload line (`BUY,alice,ABC,100.00` is name BUY, args alice ABC 100.00).
// It checks only the shape (known name, argument count); the values are checked
// by Validate so that a bad value becomes an audited error event.
func ParseArgs(txNum int64, name string, args []string) (Command, error) {
	n := CommandName(strings.TrimSpace(name))
	kinds, ok := commandArgs[n]
	if !ok {
		return Command{}, fmt.Errorf("unknown command %q", name)
	}
	for i := range args {
		args[i] = strings.TrimSpace(args[i])
	}
	cmd := Command{TxNum: txNum, Name: n}
	if n == DumpLog && len(args) == 1 { // the administrator's global form
		cmd.Filename = args[0]
		return cmd, nil
	}
	if len(args) != len(kinds) {
		return Command{}, fmt.Errorf("%s takes %d arguments, got %d", n, len(kinds), len(args))
	}
	for i, k := range kinds {
		switch k {
		case argUser:
			cmd.User = args[i]
		case argSymbol:
			cmd.Symbol = args[i]
		case argAmount:
			cmd.Amount = args[i]
		case argPrice:
			cmd.Price = args[i]
		case argFilename:
			cmd.Filename = args[i]
		}
	}
	return cmd, nil
}

// MaxMoney bounds every amount and price a command may carry: a quadrillion
// dollars, far beyond any trade, and small enough that every audited sum
// fits the audit store's numeric(20,2) columns.
var MaxMoney = decimal.New(1, 15)

// The three checks below run several times for every command of a workload
// (parse, rules, audit), so they are byte loops rather than regexps: the
// regexps were 2 % of the CPU of the 1,000,000-command run. Their tests hold
// them to the regexps they replace.

// ValidUser reports whether s is a well-formed user id ([A-Za-z0-9]{1,64}).
func ValidUser(s string) bool {
	if len(s) < 1 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isDigit(c) && !isUpper(c) && !('a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }

// digits returns how many ASCII digits s starts with.
func digits(s string) int {
	n := 0
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	return n
}

// moneyText reports whether s is digits with an optional 1-2 digit
// fraction ([0-9]+(\.[0-9]{1,2})?).
func moneyText(s string) bool {
	n := digits(s)
	if n == 0 {
		return false
	}
	if n == len(s) {
		return true
	}
	frac := s[n:]
	if frac[0] != '.' {
		return false
	}
	f := digits(frac[1:])
	return f >= 1 && f <= 2 && 1+f == len(frac)
}

// CheckUser returns nil for a well-formed user id, otherwise the error that
// says what a user id must be. An id far too long is shown cut short, so a
// hostile id cannot flood the message (and the audit record carrying it).
func CheckUser(user string) error {
	if ValidUser(user) {
		return nil
	}
	return fmt.Errorf("user id %s must be 1 to 64 letters or digits", quoteShort(user, 64))
}

// quoteShort quotes s (control characters escaped) and, past limit bytes,
// cuts it at a character boundary and says how long it was.
func quoteShort(s string, limit int) string {
	if len(s) <= limit {
		return fmt.Sprintf("%q", s)
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%q… (%d bytes)", s[:cut], len(s))
}

// ValidSymbol reports whether s is a well-formed stock symbol ([A-Z]{1,3}).
func ValidSymbol(s string) bool {
	if len(s) < 1 || len(s) > 3 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isUpper(s[i]) {
			return false
		}
	}
	return true
}

// ParseMoney parses a dollar amount or price as the spec reads it: digits with
// an optional 1-2 digit fraction, value > 0. Anything else is an error that
// names what was wrong.
func ParseMoney(what, s string) (decimal.Decimal, error) {
	if !moneyText(s) || len(s) > 20 {
		return decimal.Decimal{}, fmt.Errorf("%s %q is not a dollar amount like 12 or 12.50", what, s)
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("%s %q is not a dollar amount like 12 or 12.50", what, s)
	}
	if !d.IsPositive() {
		return decimal.Decimal{}, fmt.Errorf("%s must be greater than 0", what)
	}
	if d.GreaterThanOrEqual(MaxMoney) {
		return decimal.Decimal{}, fmt.Errorf("%s must be less than $%s", what, MaxMoney.StringFixed(0))
	}
	return d, nil
}

// Validate checks that the command's fields are all present and well formed
// for its name. A command that fails Validate changes nothing.
func (c Command) Validate() error {
	kinds, ok := commandArgs[c.Name]
	if !ok {
		return fmt.Errorf("unknown command %q", c.Name)
	}
	if c.TxNum <= 0 {
		return fmt.Errorf("transaction number must be positive, got %d", c.TxNum)
	}
	if c.Name == DumpLog && c.User == "" {
		kinds = []argKind{argFilename}
	}
	for _, k := range kinds {
		switch k {
		case argUser:
			if err := CheckUser(c.User); err != nil {
				return err
			}
		case argSymbol:
			if !ValidSymbol(c.Symbol) {
				return fmt.Errorf("stock symbol %q must be 1 to 3 upper-case letters", c.Symbol)
			}
		case argAmount:
			if _, err := ParseMoney("amount", c.Amount); err != nil {
				return err
			}
		case argPrice:
			if _, err := ParseMoney("trigger price", c.Price); err != nil {
				return err
			}
		case argFilename:
			if err := ValidFilename(c.Filename); err != nil {
				return err
			}
		}
	}
	return nil
}

// ValidFor checks c as Validate does and that it is a command of user's
// account: a command naming another user, or the administrator's
// system-wide DUMPLOG (no user), is refused.
func (c Command) ValidFor(user string) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if c.Name == DumpLog && c.User == "" {
		return fmt.Errorf("the system-wide DUMPLOG is not a command of the account of %s", user)
	}
	if c.User != user {
		return fmt.Errorf("command for user %s sent to the account of %s", c.User, user)
	}
	return nil
}

// ValidFilename checks a DUMPLOG file name: a plain name inside the dump
// directory, made of letters, digits, '.', '_' and '-' and not starting with
// a dot. Workload files say `./testLOG`, so a leading "./" is accepted;
// anything that could leave the directory is refused.
func ValidFilename(name string) error {
	n := strings.TrimPrefix(name, "./")
	if n == "" || len(n) > 255 {
		return fmt.Errorf("dump file name %q must be 1 to 255 characters", name)
	}
	if !filenamePattern.MatchString(n) || strings.HasPrefix(n, ".") {
		return fmt.Errorf("dump file name %q must be a plain file name inside the dump directory (letters, digits, '.', '_', '-')", name)
	}
	return nil
}

var filenamePattern = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// CleanFilename returns the dump file name without the "./" that workload
// files put in front of it. Call it only on names that passed ValidFilename.
func CleanFilename(name string) string { return strings.TrimPrefix(name, "./") }
