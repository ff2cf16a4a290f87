package trading_test

import (
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/trading"
	"github.com/shopspring/decimal"
)

// fuzzStart is when a fuzzed sequence begins; the audit schema only takes
// times from 2020 to 2100.
var fuzzStart = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

// FuzzExecuteJSON decodes arbitrary bytes the way the account workflow
// decodes its `commands` signal (a JSON array of commands; a single object is
// the `command` signal) and executes what decodes on an account, as the
// workflow does. Whatever the input:
//
//   - nothing panics;
//   - the first audit record is the command's userCommand, and the command
//     failed exactly when an errorEvent (the last record) says why;
//   - a command that fails Validate fails with Validate's message, and a
//     command that fails changes nothing (pending trades past their 60 s
//     may expire all the same);
//   - CheckInvariants holds (no negative cash, holding or reserve);
//   - free cash moves exactly by the audited accountTransactions;
//   - every legacy quote hit is audited once;
//   - every record of a command the workflow runs (known command, positive
//     transaction number) can be stored in the audit (audit.Validate).
//
// priceCents is the quote server's price ($0.01 to $100,000.00), quoteDown
// makes it fail, step is how far the clock moves between commands (up to
// two minutes, so pending trades expire); step's top bit starts from an
// account that was never opened instead of one with a bit of everything.
func FuzzExecuteJSON(f *testing.F) {
	f.Add([]byte(`{"txNum":1,"command":"ADD","user":"alice","amount":"100.00"}`), uint32(1000), uint16(1), false)
	f.Add([]byte(`[{"txNum":2,"command":"BUY","user":"alice","symbol":"ABC","amount":"99.99"},{"txNum":3,"command":"COMMIT_BUY","user":"alice"}]`), uint32(1234), uint16(5), false)
	f.Add([]byte(`[{"txNum":4,"command":"SET_SELL_TRIGGER","user":"alice","symbol":"ABC","price":"0.01"}]`), uint32(999999), uint16(0), false)
	f.Add([]byte(`{"txNum":5,"command":"COMMIT_SELL","user":"alice"}`), uint32(1), uint16(61), false)
	f.Add([]byte(`{"txNum":6,"command":"QUOTE","user":"alice","symbol":"XY"}`), uint32(500), uint16(0), true)
	f.Add([]byte(`{"txNum":7,"command":"ADD","user":"bob","amount":"1000000"}`), uint32(500), uint16(0), false)
	f.Add([]byte(`{"txNum":-1,"command":"DROP","user":"alice\u0000","amount":"-5","symbol":"abcd"}`), uint32(0), uint16(0x8000), false)
	f.Add([]byte(`{"txNum":8,"command":"DUMPLOG","user":"alice","filename":"../../etc/passwd"}`), uint32(0), uint16(0), false)
	f.Add([]byte(`[{"txNum":9,"command":"SET_BUY_AMOUNT","user":"alice","symbol":"Q","amount":"99999999999999999.99"},{"txNum":10,"command":"CANCEL_SET_BUY","user":"alice","symbol":"Q"}]`), uint32(7), uint16(3), false)
	f.Add([]byte(`{"txNum":"1","command":7}`), uint32(1), uint16(1), false)
	f.Fuzz(func(t *testing.T, data []byte, priceCents uint32, step uint16, quoteDown bool) {
		var cmds []trading.Command
		if err := json.Unmarshal(data, &cmds); err != nil {
			var one trading.Command
			if err := json.Unmarshal(data, &one); err != nil {
				return // the signal's decoder refuses it: nothing reaches the rules
			}
			cmds = []trading.Command{one}
		}
		if len(cmds) > 64 {
			cmds = cmds[:64]
		}
		price := decimal.New(int64(priceCents%10_000_000)+1, -2)
		now := fuzzStart
		a := trading.NewAccount("alice")
		if step&0x8000 == 0 {
			a = openedAccount(t, now)
		}
		for _, cmd := range cmds {
			now = now.Add(time.Duration(step%121) * time.Second)
			executeChecked(t, a, cmd, now, price, quoteDown)
		}
	})
}

// openedAccount is alice with cash, a holding, a pending buy and a pending
// sell, a buy order with its trigger and a sell order with its trigger, all
// set up at $10.00 a share.
func openedAccount(t *testing.T, now time.Time) *trading.Account {
	t.Helper()
	a := trading.NewAccount("alice")
	ten := decimal.NewFromInt(10)
	quote := func(sym string) (trading.Quote, bool, error) {
		return trading.Quote{Symbol: sym, User: "alice", Price: ten, QuoteServerTime: now.UnixMilli(), Cryptokey: "k", FetchedAt: now}, false, nil
	}
	for i, c := range []trading.Command{
		{Name: trading.Add, Amount: "100000.00"},
		{Name: trading.Buy, Symbol: "ABC", Amount: "1000.00"},
		{Name: trading.CommitBuy},
		{Name: trading.Buy, Symbol: "XY", Amount: "500.00"},
		{Name: trading.Sell, Symbol: "ABC", Amount: "200.00"},
		{Name: trading.SetBuyAmount, Symbol: "Q", Amount: "300.00"},
		{Name: trading.SetBuyTrigger, Symbol: "Q", Price: "5.00"},
		{Name: trading.SetSellAmount, Symbol: "ABC", Amount: "100.00"},
		{Name: trading.SetSellTrigger, Symbol: "ABC", Price: "20.00"},
	} {
		c.TxNum, c.User = int64(1_000_000+i), "alice"
		if out := a.Execute(c, trading.Env{Now: now, Quote: quote}); !out.Result.OK {
			t.Fatalf("setting up alice: %s: %s", c, out.Result.Message)
		}
	}
	return a
}

// state is the account without its recent activity and remembered quotes,
// which every command may change.
func state(t *testing.T, a *trading.Account) string {
	t.Helper()
	c := *a
	c.Recent, c.LastQuotes = nil, nil
	b, err := json.Marshal(&c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func clone(t *testing.T, a *trading.Account) *trading.Account {
	t.Helper()
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	c := trading.NewAccount("")
	if err := json.Unmarshal(b, c); err != nil {
		t.Fatal(err)
	}
	return c
}

func executeChecked(t *testing.T, a *trading.Account, cmd trading.Command, now time.Time, price decimal.Decimal, quoteDown bool) {
	t.Helper()
	before := clone(t, a)
	unchanged := clone(t, a)
	unchanged.ExpirePending(now)
	validateErr := cmd.Validate()
	hits := 0
	quote := func(sym string) (trading.Quote, bool, error) {
		if quoteDown {
			return trading.Quote{}, false, errors.New("quote server unreachable")
		}
		hits++
		return trading.Quote{Symbol: sym, User: a.User, Price: price, QuoteServerTime: now.UnixMilli(), Cryptokey: "k", FetchedAt: now}, true, nil
	}

	out := a.Execute(cmd, trading.Env{Now: now, Quote: quote})

	evs, res := out.Events, out.Result
	if len(evs) == 0 || evs[0].Type != trading.UserCommandEvent || evs[0].TxNum != cmd.TxNum {
		t.Fatalf("%s: the first record is not its userCommand: %+v", cmd, evs)
	}
	errorEvents, quoteEvents := 0, 0
	moved := decimal.Zero
	for _, ev := range evs {
		switch ev.Type {
		case trading.ErrorEvent:
			errorEvents++
		case trading.QuoteServerEvent:
			quoteEvents++
		case trading.AccountTransactionEvent:
			switch ev.Action {
			case "add":
				moved = moved.Add(ev.Funds.Decimal)
			case "remove":
				moved = moved.Sub(ev.Funds.Decimal)
			default:
				t.Fatalf("%s: accountTransaction action %q", cmd, ev.Action)
			}
		}
	}
	if res.OK != (errorEvents == 0) {
		t.Fatalf("%s: OK=%v with %d errorEvents", cmd, res.OK, errorEvents)
	}
	if !res.OK {
		last := evs[len(evs)-1]
		if errorEvents != 1 || last.Type != trading.ErrorEvent || last.Message != res.Message || res.Message == "" {
			t.Fatalf("%s failed (%q) without exactly one errorEvent, last, saying so: %+v", cmd, res.Message, evs)
		}
		if got, want := state(t, a), state(t, unchanged); got != want {
			t.Fatalf("%s failed (%s) but changed the account:\n before: %s\n  after: %s", cmd, res.Message, want, got)
		}
	}
	if validateErr != nil && (res.OK || res.Message != validateErr.Error()) {
		t.Fatalf("%s: Validate says %q, Execute says OK=%v %q", cmd, validateErr, res.OK, res.Message)
	}
	if err := a.CheckInvariants(); err != nil {
		t.Fatalf("%s: %v", cmd, err)
	}
	if got := a.Cash.Sub(before.Cash); !got.Equal(moved) {
		t.Fatalf("%s: cash moved by %s, the accountTransactions by %s", cmd, got, moved)
	}
	if quoteEvents != hits {
		t.Fatalf("%s: %d legacy hits, %d quoteServer records", cmd, hits, quoteEvents)
	}
	if cmd.Name.Known() && cmd.TxNum > 0 {
		for i, ev := range evs {
			ev.Key = "fuzz"
			if err := audit.Validate(ev); err != nil {
				t.Fatalf("%s: record %d cannot be stored: %v", cmd, i+1, err)
			}
		}
	}
	s := a.Summary(now)
	for _, h := range s.Holdings {
		if h.Shares < 0 || h.ReservedShares < 0 {
			t.Fatalf("%s: summary holding %+v", cmd, h)
		}
	}
}

// FuzzParseMoney: whatever ParseMoney accepts is a positive amount of whole
// cents written only with digits and at most one dot, equal to the text's
// exact value, and formats back (StringFixed(2)) to the canonical form of
// the text, which ParseMoney accepts as the same amount. What it refuses
// gets a message.
func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"12", "12.5", "12.50", "0.01", "007.10", "0", "0.00", "-1", "+1", "1e3", " 1", "1.", ".5",
		"1.234", "99999999999999999.99", "0x10", "１２", "NaN", "1_000", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := trading.ParseMoney("amount", s)
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("ParseMoney(%q) refused without a message", s)
			}
			return
		}
		if strings.Trim(s, "0123456789.") != "" || strings.Count(s, ".") > 1 {
			t.Fatalf("ParseMoney(%q) accepted characters other than digits and one dot", s)
		}
		if !d.IsPositive() {
			t.Fatalf("ParseMoney(%q) = %s, not positive", s, d)
		}
		if !d.Equal(d.Round(2)) {
			t.Fatalf("ParseMoney(%q) = %s, more than 2 decimals", s, d)
		}
		exact, ok := new(big.Rat).SetString(s)
		if !ok || exact.Cmp(d.Rat()) != 0 {
			t.Fatalf("ParseMoney(%q) = %s, the text's value is %v", s, d, exact)
		}
		if got, want := d.StringFixed(2), canonicalMoney(s); got != want {
			t.Fatalf("ParseMoney(%q) formats as %q, want %q", s, got, want)
		}
		again, err := trading.ParseMoney("amount", d.StringFixed(2))
		if err != nil || !again.Equal(d) {
			t.Fatalf("ParseMoney(%q) = %s, whose formatting %q parses to %s, %v", s, d, d.StringFixed(2), again, err)
		}
	})
}

// canonicalMoney writes a digits[.digits] amount with no leading zeros and
// exactly two decimals, by string manipulation alone.
func canonicalMoney(s string) string {
	whole, frac, _ := strings.Cut(s, ".")
	whole = strings.TrimLeft(whole, "0")
	if whole == "" {
		whole = "0"
	}
	return whole + "." + (frac + "00")[:2]
}
