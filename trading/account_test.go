package trading

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

func TestAdd(t *testing.T) {
	t.Run("the first ADD opens the account with that cash", func(t *testing.T) {
		d := newDesk(t)
		out := d.ok("ADD,alice,100.50", "userCommand ADD", "accountTransaction add 100.50")
		if !d.acct.Opened {
			t.Error("the account is not open")
		}
		d.wantCash("100.50")
		if !out.Result.Funds.Valid || !out.Result.Funds.Decimal.Equal(dec("100.50")) {
			t.Errorf("result funds %v, want 100.50", out.Result.Funds)
		}
		if ev := out.Events[0]; ev.User != alice || !ev.Funds.Decimal.Equal(dec("100.50")) || ev.TxNum != 1 {
			t.Errorf("userCommand event %+v does not carry user, funds and transaction number", ev)
		}
	})

	t.Run("a second ADD adds to the cash", func(t *testing.T) {
		d := newDesk(t)
		d.mustOK("ADD,alice,100")
		d.ok("ADD,alice,0.25", "userCommand ADD", "accountTransaction add 0.25")
		d.wantCash("100.25")
	})

	for _, amount := range []string{"0", "0.00", "-5", "+5", "1.234", "1e3", ".5", "5.", "", "ten"} {
		t.Run("a failed ADD of "+strconv.Quote(amount)+" does not create the account", func(t *testing.T) {
			d := newDesk(t, "ABC=10")
			d.refused("ADD,alice,"+amount, "amount")
			if d.acct.Opened {
				t.Fatal("the failed ADD opened the account")
			}
			d.refused("QUOTE,alice,ABC", "does not exist")
		})
	}

	t.Run("an ADD for another user is refused and opens nothing", func(t *testing.T) {
		d := newDesk(t)
		d.refused("ADD,bob,100", "bob")
		if d.acct.Opened {
			t.Error("alice's account was opened by bob's ADD")
		}
	})
}

func TestEveryOtherCommandNeedsAnAccount(t *testing.T) {
	for _, line := range []string{
		"QUOTE,alice,ABC",
		"BUY,alice,ABC,10",
		"COMMIT_BUY,alice",
		"CANCEL_BUY,alice",
		"SELL,alice,ABC,10",
		"COMMIT_SELL,alice",
		"CANCEL_SELL,alice",
		"SET_BUY_AMOUNT,alice,ABC,10",
		"SET_BUY_TRIGGER,alice,ABC,10",
		"CANCEL_SET_BUY,alice,ABC",
		"SET_SELL_AMOUNT,alice,ABC,10",
		"SET_SELL_TRIGGER,alice,ABC,10",
		"CANCEL_SET_SELL,alice,ABC",
		"DISPLAY_SUMMARY,alice",
		"DUMPLOG,alice,./testLOG",
	} {
		t.Run(line+" fails before the first ADD", func(t *testing.T) {
			d := newDesk(t, "ABC=10")
			d.refused(line, "does not exist")
			if d.quotes.asked["ABC"] != 0 {
				t.Error("a quote was billed for a user without an account")
			}
		})
	}
}

func TestCommandsForAnotherUserAreRefused(t *testing.T) {
	for _, line := range []string{
		"ADD,bob,10",
		"QUOTE,bob,ABC",
		"BUY,bob,ABC,10",
		"COMMIT_BUY,bob",
		"SET_BUY_AMOUNT,bob,ABC,10",
		"CANCEL_SET_SELL,bob,ABC",
		"DISPLAY_SUMMARY,bob",
		"DUMPLOG,bob,./testLOG",
		"QUOTE,Alice,ABC", // user ids are case-sensitive
	} {
		t.Run(line+" is refused by alice's account", func(t *testing.T) {
			d := newDesk(t, "ABC=10")
			d.mustOK("ADD,alice,100")
			d.refused(line, "sent to the account of alice")
		})
	}
	t.Run("the administrator's global DUMPLOG is not an account command", func(t *testing.T) {
		d := newDesk(t)
		d.mustOK("ADD,alice,100")
		d.refused("DUMPLOG,./all", "account of alice")
	})
}

func TestBadInputChangesNothing(t *testing.T) {
	for _, tc := range []struct{ line, msg string }{
		{"BUY,alice,abc,10", "symbol"},
		{"BUY,alice,ABCD,10", "symbol"},
		{"BUY,alice,ABC,1.234", "amount"},
		{"SELL,alice,ABC,0", "amount"},
		{"SET_BUY_AMOUNT,alice,ABC,-1", "amount"},
		{"SET_BUY_TRIGGER,alice,ABC,0.00", "trigger price"},
		{"SET_SELL_TRIGGER,alice,ABC,1e3", "trigger price"},
		{"QUOTE,alice,", "symbol"},
		{"DUMPLOG,alice,../x", "dump file name"},
		{"DUMPLOG,alice,.hidden", "dump file name"},
	} {
		t.Run(tc.line+" is refused naming the "+tc.msg, func(t *testing.T) {
			d := newDesk(t, "ABC=10")
			d.mustOK("ADD,alice,100")
			d.refused(tc.line, tc.msg)
			if d.quotes.asked["ABC"] != 0 {
				t.Error("a malformed command was quoted (and billed)")
			}
		})
	}
	t.Run("an unknown command is refused", func(t *testing.T) {
		d := newDesk(t)
		d.mustOK("ADD,alice,100")
		before := business(t, d.acct)
		out := d.acct.Execute(Command{TxNum: 9, Name: "FOO", User: alice}, d.env())
		if out.Result.OK || !strings.Contains(out.Result.Message, "unknown command") {
			t.Errorf("FOO: %+v", out.Result)
		}
		if got := describeAll(out.Events); !slices.Equal(got, []string{"userCommand FOO", "errorEvent FOO"}) {
			t.Errorf("FOO audited %q", got)
		}
		if business(t, d.acct) != before {
			t.Error("FOO changed the account")
		}
	})
	t.Run("a command without a transaction number is refused", func(t *testing.T) {
		d := newDesk(t)
		out := d.acct.Execute(Command{Name: Add, User: alice, Amount: "5"}, d.env())
		if out.Result.OK || d.acct.Opened {
			t.Errorf("ADD with transaction number 0 was accepted: %+v", out.Result)
		}
	})
	t.Run("a malformed field is left out of the audit records so they still fit the schema", func(t *testing.T) {
		d := newDesk(t)
		d.mustOK("ADD,alice,100")
		out := d.exec("BUY,alice,abc,1.234")
		for _, ev := range out.Events {
			if ev.Symbol != "" || ev.Funds.Valid {
				t.Errorf("%s event carries the malformed symbol %q or amount %v", ev.Type, ev.Symbol, ev.Funds)
			}
		}
	})
}

func TestQuote(t *testing.T) {
	t.Run("QUOTE returns the price and audits the legacy hit exactly as answered", func(t *testing.T) {
		d := newDesk(t, "ABC=10.25")
		d.mustOK("ADD,alice,100")
		before := business(t, d.acct)
		out := d.ok("QUOTE,alice,ABC", "userCommand QUOTE", "quoteServer ABC 10.25")
		if out.Result.Quote == nil || !out.Result.Quote.Price.Equal(dec("10.25")) {
			t.Fatalf("result quote %+v, want 10.25", out.Result.Quote)
		}
		if !strings.Contains(out.Result.Message, "10.25") {
			t.Errorf("message %q does not show the price", out.Result.Message)
		}
		ev := out.Events[1]
		q := *out.Result.Quote
		if ev.QuoteServerTime != q.QuoteServerTime || ev.Cryptokey != q.Cryptokey || ev.User != q.User || ev.Symbol != "ABC" {
			t.Errorf("quoteServer event %+v does not match the quote %+v", ev, q)
		}
		if business(t, d.acct) != before {
			t.Error("QUOTE changed the account")
		}
	})

	t.Run("a quote served from the cache is not audited again", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.mustOK("ADD,alice,100")
		d.mustOK("QUOTE,alice,ABC")
		d.ok("QUOTE,alice,ABC", "userCommand QUOTE")
		if d.quotes.asked["ABC"] != 2 {
			t.Errorf("quoter asked %d times", d.quotes.asked["ABC"])
		}
	})

	t.Run("the quote is remembered as the symbol's last price", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.mustOK("ADD,alice,100")
		d.mustOK("QUOTE,alice,ABC")
		if q := d.acct.LastQuotes["ABC"]; !q.Price.Equal(dec("10")) || !q.FetchedAt.Equal(t0) {
			t.Errorf("last quote %+v", q)
		}
	})

	t.Run("a quote error fails cleanly", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.mustOK("ADD,alice,100")
		d.quotes.fail["ABC"] = errors.New("quote server unreachable")
		d.refused("QUOTE,alice,ABC", "quote server unreachable")
	})

	t.Run("without a quoter every quote fails cleanly", func(t *testing.T) {
		a := NewAccount(alice)
		a.Execute(Command{TxNum: 1, Name: Add, User: alice, Amount: "5"}, Env{Now: t0})
		out := a.Execute(Command{TxNum: 2, Name: QuoteCmd, User: alice, Symbol: "ABC"}, Env{Now: t0})
		if out.Result.OK || !strings.Contains(out.Result.Message, "no quote") {
			t.Errorf("QUOTE without a quoter: %+v", out.Result)
		}
	})
}

func TestBuy(t *testing.T) {
	t.Run("BUY pushes a pending buy and moves nothing yet", func(t *testing.T) {
		d := newDesk(t, "ABC=30")
		d.mustOK("ADD,alice,1000")
		d.ok("BUY,alice,ABC,100", "userCommand BUY", "quoteServer ABC 30.00")
		d.wantCash("1000")
		d.wantHolding("ABC", 0)
		want := []Pending{{TxNum: 2, Symbol: "ABC", Shares: 3, Price: dec("30"), CreatedAt: t0}}
		if !pendingEqual(d.acct.PendingBuys, want) {
			t.Errorf("pending buys %+v, want %+v", d.acct.PendingBuys, want)
		}
		if d.acct.ReservedCash().Sign() != 0 {
			t.Error("a pending buy reserved cash")
		}
	})

	for _, tc := range []struct {
		amount, price string
		shares        int64
	}{
		{"100", "30", 3},
		{"100", "33.34", 2},
		{"10", "10", 1},
		{"100.00", "100.00", 1},
		{"99.99", "0.01", 9999},
		{"1000000", "0.03", 33333333},
	} {
		t.Run("$"+tc.amount+" at $"+tc.price+" is "+strconv.FormatInt(tc.shares, 10)+" shares (floor)", func(t *testing.T) {
			d := newDesk(t, "ABC="+tc.price)
			d.mustOK("ADD,alice," + tc.amount)
			d.mustOK("BUY,alice,ABC," + tc.amount)
			if p := d.acct.PendingBuys[0]; p.Shares != tc.shares || !p.Price.Equal(dec(tc.price)) {
				t.Errorf("pending %+v, want %d shares at %s", p, tc.shares, tc.price)
			}
		})
	}

	t.Run("cash equal to the amount is enough", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.mustOK("ADD,alice,100")
		d.mustOK("BUY,alice,ABC,100")
	})

	t.Run("BUY needs cash >= amount, and asks no (billed) quote when it has not", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.mustOK("ADD,alice,100")
		d.refused("BUY,alice,ABC,100.01", "not enough cash")
		if d.quotes.asked["ABC"] != 0 {
			t.Error("the refused BUY was quoted")
		}
	})

	t.Run("pending buys reserve nothing: a second BUY checks the same cash", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.mustOK("ADD,alice,100")
		d.mustOK("BUY,alice,ABC,100")
		d.mustOK("BUY,alice,ABC,100")
		d.wantCash("100")
		if len(d.acct.PendingBuys) != 2 {
			t.Errorf("%d pending buys", len(d.acct.PendingBuys))
		}
	})

	t.Run("an amount worth less than one share is refused", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.mustOK("ADD,alice,100")
		d.mustOK("QUOTE,alice,ABC") // the quote is cached: the BUY's audit is exactly userCommand + errorEvent
		d.refused("BUY,alice,ABC,9.99", "no share")
	})

	t.Run("a failed BUY still audits the quote it was billed for", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.mustOK("ADD,alice,100")
		before := business(t, d.acct)
		out := d.exec("BUY,alice,ABC,5")
		want := []string{"userCommand BUY", "quoteServer ABC 10.00", "errorEvent BUY"}
		if got := describeAll(out.Events); out.Result.OK || !slices.Equal(got, want) {
			t.Errorf("BUY of less than a share: ok=%v, audited %q, want %q", out.Result.OK, got, want)
		}
		if business(t, d.acct) != before {
			t.Error("the failed BUY changed the account")
		}
	})

	t.Run("a quote error makes BUY fail cleanly", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.mustOK("ADD,alice,100")
		d.quotes.fail["ABC"] = errors.New("quote server unreachable")
		d.refused("BUY,alice,ABC,50", "could not get a quote for ABC")
	})
}

func TestCommitBuy(t *testing.T) {
	t.Run("COMMIT_BUY without a pending buy fails", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.mustOK("ADD,alice,100")
		d.refused("COMMIT_BUY,alice", "no pending buy")
	})

	t.Run("COMMIT_BUY costs shares*price and adds the shares", func(t *testing.T) {
		d := newDesk(t, "ABC=30")
		d.mustOK("ADD,alice,1000")
		d.mustOK("BUY,alice,ABC,100")
		out := d.ok("COMMIT_BUY,alice", "userCommand COMMIT_BUY", "accountTransaction remove 90.00")
		d.wantCash("910")
		d.wantHolding("ABC", 3)
		if len(d.acct.PendingBuys) != 0 {
			t.Error("the pending buy is still there")
		}
		if !out.Result.Funds.Decimal.Equal(dec("90")) {
			t.Errorf("result funds %v, want 90", out.Result.Funds)
		}
	})

	t.Run("COMMIT_BUY pops the most recent pending buy", func(t *testing.T) {
		d := newDesk(t, "ABC=10", "DEF=5")
		d.mustOK("ADD,alice,1000")
		d.mustOK("BUY,alice,ABC,100")
		d.mustOK("BUY,alice,DEF,50")
		d.ok("COMMIT_BUY,alice", "userCommand COMMIT_BUY", "accountTransaction remove 50.00")
		d.wantHolding("DEF", 10)
		d.wantHolding("ABC", 0)
		d.ok("COMMIT_BUY,alice", "userCommand COMMIT_BUY", "accountTransaction remove 100.00")
		d.wantHolding("ABC", 10)
		d.wantCash("850")
	})

	t.Run("COMMIT_BUY pays the price quoted at BUY time, not the current one", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.mustOK("ADD,alice,1000")
		d.mustOK("BUY,alice,ABC,100")
		d.quotes.set("ABC", "12")
		d.mustOK("QUOTE,alice,ABC")
		d.ok("COMMIT_BUY,alice", "userCommand COMMIT_BUY", "accountTransaction remove 100.00")
		d.wantHolding("ABC", 10)
	})

	t.Run("COMMIT_BUY with too little cash at commit fails and keeps the pending buy", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.mustOK("ADD,alice,100")
		d.mustOK("BUY,alice,ABC,100")
		d.mustOK("SET_BUY_AMOUNT,alice,DEF,50") // cash is now 50
		d.refused("COMMIT_BUY,alice", "not enough cash")
		d.mustOK("CANCEL_SET_BUY,alice,DEF")
		d.ok("COMMIT_BUY,alice", "userCommand COMMIT_BUY", "accountTransaction remove 100.00")
		d.wantCash("0")
		d.wantHolding("ABC", 10)
	})
}

func TestCancelBuy(t *testing.T) {
	t.Run("CANCEL_BUY without a pending buy fails", func(t *testing.T) {
		d := newDesk(t)
		d.mustOK("ADD,alice,100")
		d.refused("CANCEL_BUY,alice", "no pending buy")
	})
	t.Run("CANCEL_BUY drops the most recent pending buy and moves nothing", func(t *testing.T) {
		d := newDesk(t, "ABC=10", "DEF=5")
		d.mustOK("ADD,alice,100")
		d.mustOK("BUY,alice,ABC,100")
		d.mustOK("BUY,alice,DEF,50")
		out := d.ok("CANCEL_BUY,alice", "userCommand CANCEL_BUY")
		if !strings.Contains(out.Result.Message, "DEF") {
			t.Errorf("message %q does not say which buy was cancelled", out.Result.Message)
		}
		if len(d.acct.PendingBuys) != 1 || d.acct.PendingBuys[0].Symbol != "ABC" {
			t.Errorf("pending buys %+v, want only ABC", d.acct.PendingBuys)
		}
		d.wantCash("100")
		d.wantHolding("DEF", 0)
	})
}

func TestSell(t *testing.T) {
	t.Run("SELL pushes a pending sell and moves nothing yet", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.own("ABC", 10)
		cash := d.acct.Cash
		d.ok("SELL,alice,ABC,55", "userCommand SELL")
		want := []Pending{{TxNum: 4, Symbol: "ABC", Shares: 5, Price: dec("10"), CreatedAt: t0}}
		if !pendingEqual(d.acct.PendingSells, want) {
			t.Errorf("pending sells %+v, want %+v", d.acct.PendingSells, want)
		}
		d.wantHolding("ABC", 10)
		if !d.acct.Cash.Equal(cash) {
			t.Error("SELL moved cash")
		}
	})

	t.Run("SELL quotes the symbol and audits a legacy hit", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.own("ABC", 10)
		d.quotes.set("ABC", "20")
		d.ok("SELL,alice,ABC,100", "userCommand SELL", "quoteServer ABC 20.00")
		if p := d.acct.PendingSells[0]; p.Shares != 5 || !p.Price.Equal(dec("20")) {
			t.Errorf("pending sell %+v, want 5 at 20", p)
		}
	})

	t.Run("selling exactly the free shares is allowed", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.own("ABC", 10)
		d.mustOK("SELL,alice,ABC,109.99")
	})

	t.Run("SELL of more shares than held is refused", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.own("ABC", 10)
		d.refused("SELL,alice,ABC,110", "needs 11 shares: you hold 10")
	})

	t.Run("SELL without shares is refused before quoting", func(t *testing.T) {
		d := newDesk(t, "ABC=10", "DEF=5")
		d.own("ABC", 10)
		d.refused("SELL,alice,DEF,10", "no free shares of DEF")
		if d.quotes.asked["DEF"] != 0 {
			t.Error("DEF was quoted (and billed) for nothing")
		}
	})

	t.Run("SELL of less than one share is refused", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.own("ABC", 10)
		d.refused("SELL,alice,ABC,9.99", "less than one share")
	})

	t.Run("shares reserved by a sell order are not held", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.own("ABC", 10)
		d.mustOK("SET_SELL_AMOUNT,alice,ABC,60")
		d.mustOK("SET_SELL_TRIGGER,alice,ABC,12") // reserves 5, watched
		d.wantHolding("ABC", 5)
		d.refused("SELL,alice,ABC,60", "needs 6 shares: you hold 5")
		d.mustOK("SELL,alice,ABC,50")
	})

	t.Run("pending sells reserve nothing: each SELL checks the same shares", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.own("ABC", 10)
		d.mustOK("SELL,alice,ABC,100")
		d.mustOK("SELL,alice,ABC,100")
		d.wantHolding("ABC", 10)
		d.mustOK("COMMIT_SELL,alice")
		d.refused("COMMIT_SELL,alice", "no longer hold")
	})

	t.Run("a quote error makes SELL fail cleanly", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.own("ABC", 10)
		d.quotes.fail["ABC"] = errors.New("quote server unreachable")
		d.refused("SELL,alice,ABC,50", "could not get a quote for ABC")
	})
}

func TestCommitSell(t *testing.T) {
	t.Run("COMMIT_SELL without a pending sell fails", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.own("ABC", 10)
		d.refused("COMMIT_SELL,alice", "no pending sell")
	})

	t.Run("COMMIT_SELL sells at the price quoted at SELL time", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.own("ABC", 10)
		d.quotes.set("ABC", "12")
		d.mustOK("SELL,alice,ABC,60") // 5 shares at 12
		d.quotes.set("ABC", "8")
		d.mustOK("QUOTE,alice,ABC")
		out := d.ok("COMMIT_SELL,alice", "userCommand COMMIT_SELL", "accountTransaction add 60.00")
		d.wantHolding("ABC", 5)
		d.wantCash("60")
		if len(d.acct.PendingSells) != 0 {
			t.Error("the pending sell is still there")
		}
		if !out.Result.Funds.Decimal.Equal(dec("60")) {
			t.Errorf("result funds %v", out.Result.Funds)
		}
	})

	t.Run("COMMIT_SELL pops the most recent pending sell", func(t *testing.T) {
		d := newDesk(t, "ABC=10", "DEF=5")
		d.own("ABC", 10)
		d.own("DEF", 10)
		d.mustOK("SELL,alice,ABC,100")
		d.mustOK("SELL,alice,DEF,25")
		d.ok("COMMIT_SELL,alice", "userCommand COMMIT_SELL", "accountTransaction add 25.00")
		d.wantHolding("DEF", 5)
		d.wantHolding("ABC", 10)
	})

	t.Run("COMMIT_SELL needs the shares still held, else it keeps the pending sell", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.own("ABC", 10)
		d.mustOK("SELL,alice,ABC,100")            // all 10
		d.mustOK("SET_SELL_AMOUNT,alice,ABC,20")  // 1 share at the trigger 20
		d.mustOK("SET_SELL_TRIGGER,alice,ABC,20") // reserved: 9 free
		d.refused("COMMIT_SELL,alice", "you hold 9")
		d.mustOK("CANCEL_SET_SELL,alice,ABC")
		d.ok("COMMIT_SELL,alice", "userCommand COMMIT_SELL", "accountTransaction add 100.00")
		d.wantHolding("ABC", 0)
	})
}

func TestCancelSell(t *testing.T) {
	t.Run("CANCEL_SELL without a pending sell fails", func(t *testing.T) {
		d := newDesk(t)
		d.mustOK("ADD,alice,100")
		d.refused("CANCEL_SELL,alice", "no pending sell")
	})
	t.Run("CANCEL_SELL drops the most recent pending sell and moves nothing", func(t *testing.T) {
		d := newDesk(t, "ABC=10", "DEF=5")
		d.own("ABC", 10)
		d.own("DEF", 10)
		d.mustOK("SELL,alice,ABC,100")
		d.mustOK("SELL,alice,DEF,25")
		d.ok("CANCEL_SELL,alice", "userCommand CANCEL_SELL")
		if len(d.acct.PendingSells) != 1 || d.acct.PendingSells[0].Symbol != "ABC" {
			t.Errorf("pending sells %+v, want only ABC", d.acct.PendingSells)
		}
		d.wantHolding("DEF", 10)
		d.wantCash("0")
	})
}

func TestPendingExpiry(t *testing.T) {
	sides := []struct {
		command, setup, sym string
		succeeds            []string // the events of the command at c + 60 s
	}{
		{"COMMIT_BUY", "BUY,alice,DEF,50", "DEF", []string{"userCommand COMMIT_BUY", "accountTransaction remove 50.00"}},
		{"CANCEL_BUY", "BUY,alice,DEF,50", "DEF", []string{"userCommand CANCEL_BUY"}},
		{"COMMIT_SELL", "SELL,alice,ABC,50", "ABC", []string{"userCommand COMMIT_SELL", "accountTransaction add 50.00"}},
		{"CANCEL_SELL", "SELL,alice,ABC,50", "ABC", []string{"userCommand CANCEL_SELL"}},
	}
	setup := func(t *testing.T, line string) *desk {
		d := newDesk(t, "ABC=10", "DEF=5")
		d.own("ABC", 10)
		d.mustOK("ADD,alice,100")
		d.mustOK(line)
		return d
	}
	for _, s := range sides {
		t.Run(s.command+" works at c + 60 s exactly", func(t *testing.T) {
			d := setup(t, s.setup)
			d.advance(PendingValidity)
			d.ok(s.command+",alice", s.succeeds...)
		})

		t.Run(s.command+" fails at c + 60 s + 1 ms, and the expiry is audited once", func(t *testing.T) {
			d := setup(t, s.setup)
			cash, holding := d.acct.Cash, d.acct.Holdings[s.sym]
			d.advance(PendingValidity + time.Millisecond)
			out := d.exec(s.command + ",alice")
			kind, _, _ := strings.Cut(s.setup, ",")
			want := []string{"userCommand " + s.command, "debugEvent " + kind + " " + s.sym, "errorEvent " + s.command}
			if got := describeAll(out.Events); out.Result.OK || !slices.Equal(got, want) {
				t.Fatalf("ok=%v, audited %q, want %q", out.Result.OK, got, want)
			}
			if len(d.acct.PendingBuys)+len(d.acct.PendingSells) != 0 {
				t.Error("the expired trade is still pending")
			}
			if !d.acct.Cash.Equal(cash) || d.acct.Holdings[s.sym] != holding {
				t.Error("the expired trade moved cash or shares")
			}
			d.refused(s.command+",alice", "no pending") // no second debugEvent
		})
	}

	t.Run("the most recent unexpired pending buy is committed; an older expired one is dropped", func(t *testing.T) {
		d := newDesk(t, "ABC=10", "DEF=5")
		d.mustOK("ADD,alice,1000")
		d.mustOK("BUY,alice,ABC,100")
		d.advance(30 * time.Second)
		d.mustOK("BUY,alice,DEF,50")
		d.advance(31 * time.Second)
		d.ok("COMMIT_BUY,alice", "userCommand COMMIT_BUY", "debugEvent BUY ABC", "accountTransaction remove 50.00")
		d.wantHolding("DEF", 10)
		d.refused("COMMIT_BUY,alice", "no pending buy")
	})

	t.Run("ExpirePending drops a trade once and audits it under the transaction that made it", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.mustOK("ADD,alice,1000")
		d.mustOK("BUY,alice,ABC,100")
		if evs := d.acct.ExpirePending(t0.Add(PendingValidity)); len(evs) != 0 {
			t.Fatalf("expired at c + 60 s: %+v", evs)
		}
		evs := d.acct.ExpirePending(t0.Add(PendingValidity + time.Millisecond))
		if len(evs) != 1 {
			t.Fatalf("%d events, want 1", len(evs))
		}
		ev := evs[0]
		if ev.Type != DebugEvent || ev.TxNum != 2 || ev.Command != Buy || ev.User != alice || !ev.Funds.Decimal.Equal(dec("100")) ||
			!strings.Contains(ev.Message, "expired") {
			t.Errorf("debug event %+v", ev)
		}
		if again := d.acct.ExpirePending(t0.Add(2 * PendingValidity)); len(again) != 0 {
			t.Errorf("expired twice: %+v", again)
		}
	})

	t.Run("NextExpiry is when the oldest pending trade expires", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		if !d.acct.NextExpiry().IsZero() {
			t.Error("NextExpiry without pending trades is not zero")
		}
		d.own("ABC", 10)
		d.mustOK("ADD,alice,10")
		d.advance(5 * time.Second)
		d.mustOK("BUY,alice,ABC,10")
		d.advance(5 * time.Second)
		d.mustOK("SELL,alice,ABC,10")
		if got, want := d.acct.NextExpiry(), t0.Add(5*time.Second+PendingValidity); !got.Equal(want) {
			t.Errorf("NextExpiry %s, want %s", got, want)
		}
	})
}

func TestSetBuyAmount(t *testing.T) {
	t.Run("a new buy order moves the amount from cash into its reserve", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.mustOK("ADD,alice,100")
		out := d.ok("SET_BUY_AMOUNT,alice,ABC,40", "userCommand SET_BUY_AMOUNT", "accountTransaction remove 40.00")
		d.wantCash("60")
		o := d.acct.BuyOrders["ABC"]
		if !o.Reserve.Equal(dec("40")) || o.Trigger.Valid {
			t.Errorf("buy order %+v, want reserve 40 without trigger", o)
		}
		if !d.acct.ReservedCash().Equal(dec("40")) || len(d.acct.Triggers()) != 0 {
			t.Errorf("reserved %s, triggers %v", d.acct.ReservedCash(), d.acct.Triggers())
		}
		if !strings.Contains(out.Result.Message, "SET_BUY_TRIGGER") {
			t.Errorf("message %q does not say a trigger is still needed", out.Result.Message)
		}
		if d.quotes.asked["ABC"] != 0 {
			t.Error("SET_BUY_AMOUNT asked for a quote")
		}
	})

	t.Run("a new buy order needs cash >= amount", func(t *testing.T) {
		d := newDesk(t)
		d.mustOK("ADD,alice,100")
		d.refused("SET_BUY_AMOUNT,alice,ABC,100.01", "not enough cash")
		d.mustOK("SET_BUY_AMOUNT,alice,ABC,100")
		d.wantCash("0")
	})

	t.Run("replacing the amount needs cash >= A - R and moves only the difference", func(t *testing.T) {
		d := newDesk(t)
		d.mustOK("ADD,alice,150")
		d.mustOK("SET_BUY_AMOUNT,alice,ABC,100") // cash 50
		d.refused("SET_BUY_AMOUNT,alice,ABC,150.01", "not enough cash")
		d.ok("SET_BUY_AMOUNT,alice,ABC,150", "userCommand SET_BUY_AMOUNT", "accountTransaction remove 50.00")
		d.wantCash("0")
		if !d.acct.BuyOrders["ABC"].Reserve.Equal(dec("150")) {
			t.Errorf("reserve %s, want 150", d.acct.BuyOrders["ABC"].Reserve)
		}
	})

	t.Run("lowering the amount returns the difference to cash", func(t *testing.T) {
		d := newDesk(t)
		d.mustOK("ADD,alice,100")
		d.mustOK("SET_BUY_AMOUNT,alice,ABC,100")
		d.ok("SET_BUY_AMOUNT,alice,ABC,30", "userCommand SET_BUY_AMOUNT", "accountTransaction add 70.00")
		d.wantCash("70")
		if !d.acct.BuyOrders["ABC"].Reserve.Equal(dec("30")) {
			t.Errorf("reserve %s, want 30", d.acct.BuyOrders["ABC"].Reserve)
		}
	})

	t.Run("setting the same amount again moves nothing", func(t *testing.T) {
		d := newDesk(t)
		d.mustOK("ADD,alice,100")
		d.mustOK("SET_BUY_AMOUNT,alice,ABC,30")
		d.ok("SET_BUY_AMOUNT,alice,ABC,30.00", "userCommand SET_BUY_AMOUNT")
		d.wantCash("70")
	})

	t.Run("replacing the amount keeps the trigger", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.mustOK("ADD,alice,100")
		d.mustOK("SET_BUY_AMOUNT,alice,ABC,100")
		d.mustOK("SET_BUY_TRIGGER,alice,ABC,5")
		out := d.mustOK("SET_BUY_AMOUNT,alice,ABC,50")
		if p, ok := d.acct.TriggerPrice(TriggerKey{BuySide, "ABC"}); !ok || !p.Equal(dec("5")) {
			t.Errorf("trigger after replacing the amount: %s, %v", p, ok)
		}
		if !strings.Contains(out.Result.Message, "5.00") {
			t.Errorf("message %q does not mention the kept trigger", out.Result.Message)
		}
	})
}

func TestSetBuyTrigger(t *testing.T) {
	t.Run("SET_BUY_TRIGGER needs a buy order", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.mustOK("ADD,alice,100")
		d.refused("SET_BUY_TRIGGER,alice,ABC,5", "no buy order for ABC")
		if d.quotes.asked["ABC"] != 0 {
			t.Error("a quote was billed for a trigger without an order")
		}
	})

	t.Run("a trigger below the price is set and watched", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.mustOK("ADD,alice,100")
		d.mustOK("SET_BUY_AMOUNT,alice,ABC,100")
		d.ok("SET_BUY_TRIGGER,alice,ABC,9.99", "userCommand SET_BUY_TRIGGER", "quoteServer ABC 10.00")
		if got := d.acct.Triggers(); !slices.Equal(got, []TriggerKey{{BuySide, "ABC"}}) {
			t.Errorf("Triggers() = %v", got)
		}
		if p, ok := d.acct.TriggerPrice(TriggerKey{BuySide, "ABC"}); !ok || !p.Equal(dec("9.99")) {
			t.Errorf("TriggerPrice = %s, %v", p, ok)
		}
		if o := d.acct.BuyOrders["ABC"]; o.TriggerTxNum != 3 || !o.Reserve.Equal(dec("100")) {
			t.Errorf("buy order %+v", o)
		}
		d.wantCash("0")
		d.wantHolding("ABC", 0)
	})

	for _, tc := range []struct {
		name, reserve, price, trigger string
		shares                        int64
		cash                          string
		events                        []string
	}{
		{"at a price equal to the trigger the order executes", "100", "30", "30", 3, "10",
			[]string{"systemEvent SET_BUY_TRIGGER ABC 90.00", "accountTransaction add 10.00"}},
		{"at a price below the trigger the order executes at the price", "100", "25", "30", 4, "0",
			[]string{"systemEvent SET_BUY_TRIGGER ABC 100.00"}},
		{"a reserve below the price buys 0 shares and returns the whole reserve", "20", "25", "30", 0, "20",
			[]string{"systemEvent SET_BUY_TRIGGER ABC 0.00", "accountTransaction add 20.00"}},
		{"floor(reserve / price) shares are bought, the rest goes back to cash", "100", "33.34", "40", 2, "33.32",
			[]string{"systemEvent SET_BUY_TRIGGER ABC 66.68", "accountTransaction add 33.32"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDesk(t, "ABC="+tc.price)
			d.mustOK("ADD,alice," + tc.reserve)
			d.mustOK("SET_BUY_AMOUNT,alice,ABC," + tc.reserve)
			want := append([]string{"userCommand SET_BUY_TRIGGER", "quoteServer ABC " + dec(tc.price).StringFixed(2)}, tc.events...)
			out := d.ok("SET_BUY_TRIGGER,alice,ABC,"+tc.trigger, want...)
			d.wantHolding("ABC", tc.shares)
			d.wantCash(tc.cash)
			if _, ok := d.acct.BuyOrders["ABC"]; ok || len(d.acct.Triggers()) != 0 {
				t.Error("the executed order is still there")
			}
			if !strings.Contains(out.Result.Message, "executed") {
				t.Errorf("message %q does not say the order executed", out.Result.Message)
			}
		})
	}

	t.Run("setting the trigger again replaces it and checks it at once", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.mustOK("ADD,alice,100")
		d.mustOK("SET_BUY_AMOUNT,alice,ABC,100")
		d.mustOK("SET_BUY_TRIGGER,alice,ABC,5")
		d.ok("SET_BUY_TRIGGER,alice,ABC,8", "userCommand SET_BUY_TRIGGER")
		if p, _ := d.acct.TriggerPrice(TriggerKey{BuySide, "ABC"}); !p.Equal(dec("8")) {
			t.Errorf("trigger %s, want 8", p)
		}
		d.ok("SET_BUY_TRIGGER,alice,ABC,10", "userCommand SET_BUY_TRIGGER", "systemEvent SET_BUY_TRIGGER ABC 100.00")
		d.wantHolding("ABC", 10)
	})

	t.Run("a quote error leaves the trigger set and watched", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.mustOK("ADD,alice,100")
		d.mustOK("SET_BUY_AMOUNT,alice,ABC,100")
		d.quotes.fail["ABC"] = errors.New("quote server unreachable")
		out := d.ok("SET_BUY_TRIGGER,alice,ABC,9", "userCommand SET_BUY_TRIGGER")
		if p, ok := d.acct.TriggerPrice(TriggerKey{BuySide, "ABC"}); !ok || !p.Equal(dec("9")) {
			t.Errorf("trigger %s, %v", p, ok)
		}
		if !strings.Contains(out.Result.Message, "deferred") {
			t.Errorf("message %q does not say the price check was deferred", out.Result.Message)
		}
	})
}

func TestCancelSetBuy(t *testing.T) {
	t.Run("CANCEL_SET_BUY needs a buy order", func(t *testing.T) {
		d := newDesk(t)
		d.mustOK("ADD,alice,100")
		d.refused("CANCEL_SET_BUY,alice,ABC", "no buy order for ABC")
	})
	for _, withTrigger := range []bool{false, true} {
		name := "CANCEL_SET_BUY without a trigger returns the reserve to cash"
		if withTrigger {
			name = "CANCEL_SET_BUY with a trigger returns the reserve and stops watching"
		}
		t.Run(name, func(t *testing.T) {
			d := newDesk(t, "ABC=10")
			d.mustOK("ADD,alice,100")
			d.mustOK("SET_BUY_AMOUNT,alice,ABC,40")
			if withTrigger {
				d.mustOK("SET_BUY_TRIGGER,alice,ABC,5")
			}
			out := d.ok("CANCEL_SET_BUY,alice,ABC", "userCommand CANCEL_SET_BUY", "accountTransaction add 40.00")
			d.wantCash("100")
			if len(d.acct.BuyOrders) != 0 || len(d.acct.Triggers()) != 0 {
				t.Errorf("orders %v, triggers %v", d.acct.BuyOrders, d.acct.Triggers())
			}
			if !out.Result.Funds.Decimal.Equal(dec("40")) {
				t.Errorf("result funds %v", out.Result.Funds)
			}
			d.refused("CANCEL_SET_BUY,alice,ABC", "no buy order")
		})
	}
}

func TestSetSellAmount(t *testing.T) {
	t.Run("SET_SELL_AMOUNT needs free shares", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.mustOK("ADD,alice,100")
		d.refused("SET_SELL_AMOUNT,alice,ABC,50", "no free shares of ABC")
	})

	t.Run("SET_SELL_AMOUNT on shares all reserved by the order is refused", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.own("ABC", 10)
		d.mustOK("SET_SELL_AMOUNT,alice,ABC,120")
		d.mustOK("SET_SELL_TRIGGER,alice,ABC,12") // all 10 reserved
		d.refused("SET_SELL_AMOUNT,alice,ABC,60", "no free shares of ABC")
	})

	t.Run("a new sell order is recorded but not active until its trigger is set", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.own("ABC", 10)
		asked := d.quotes.asked["ABC"]
		d.ok("SET_SELL_AMOUNT,alice,ABC,50", "userCommand SET_SELL_AMOUNT")
		o := d.acct.SellOrders["ABC"]
		if !o.Amount.Equal(dec("50")) || o.Trigger.Valid || o.ReservedShares != 0 {
			t.Errorf("sell order %+v", o)
		}
		d.wantHolding("ABC", 10)
		if len(d.acct.Triggers()) != 0 || d.quotes.asked["ABC"] != asked {
			t.Errorf("triggers %v; quotes asked %d more", d.acct.Triggers(), d.quotes.asked["ABC"]-asked)
		}
	})

	t.Run("replacing the amount keeps the trigger and reserved shares; the next trigger uses the new amount", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.own("ABC", 10)
		d.mustOK("SET_SELL_AMOUNT,alice,ABC,50")
		d.mustOK("SET_SELL_TRIGGER,alice,ABC,12") // 4 reserved, watched
		d.ok("SET_SELL_AMOUNT,alice,ABC,100", "userCommand SET_SELL_AMOUNT")
		o := d.acct.SellOrders["ABC"]
		if !o.Amount.Equal(dec("100")) || !o.Trigger.Decimal.Equal(dec("12")) || o.ReservedShares != 4 {
			t.Errorf("sell order %+v, want amount 100, trigger 12, 4 reserved", o)
		}
		d.wantHolding("ABC", 6)
		d.mustOK("SET_SELL_TRIGGER,alice,ABC,12") // 100/12 = 8
		if o := d.acct.SellOrders["ABC"]; o.ReservedShares != 8 {
			t.Errorf("reserved %d, want 8", o.ReservedShares)
		}
		d.wantHolding("ABC", 2)
	})
}

func TestSetSellTrigger(t *testing.T) {
	t.Run("SET_SELL_TRIGGER needs a sell order", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.own("ABC", 10)
		d.refused("SET_SELL_TRIGGER,alice,ABC,12", "no sell order for ABC")
	})

	t.Run("a trigger above the price reserves floor(amount / T) shares and is watched", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.own("ABC", 10)
		d.mustOK("SET_SELL_AMOUNT,alice,ABC,55")
		d.ok("SET_SELL_TRIGGER,alice,ABC,10.50", "userCommand SET_SELL_TRIGGER")
		o := d.acct.SellOrders["ABC"]
		if o.ReservedShares != 5 || !o.Trigger.Decimal.Equal(dec("10.5")) || o.TriggerTxNum != 5 {
			t.Errorf("sell order %+v, want 5 reserved at 10.50", o)
		}
		d.wantHolding("ABC", 5)
		if got := d.acct.Triggers(); !slices.Equal(got, []TriggerKey{{SellSide, "ABC"}}) {
			t.Errorf("Triggers() = %v", got)
		}
	})

	t.Run("a trigger at which the amount is less than one share is refused", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.own("ABC", 10)
		d.mustOK("SET_SELL_AMOUNT,alice,ABC,5")
		d.refused("SET_SELL_TRIGGER,alice,ABC,10", "less than one share")
	})

	t.Run("the previous reservation goes back first: needs n <= free + r, and on failure the old reservation and trigger stay", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.own("ABC", 10)
		d.mustOK("SET_SELL_AMOUNT,alice,ABC,50")
		d.mustOK("SET_SELL_TRIGGER,alice,ABC,12.50") // 4 reserved, 6 free
		d.mustOK("SET_SELL_AMOUNT,alice,ABC,137.50")
		d.refused("SET_SELL_TRIGGER,alice,ABC,12.50", "needs 11 shares: you hold 10")
		if o := d.acct.SellOrders["ABC"]; o.ReservedShares != 4 || !o.Trigger.Decimal.Equal(dec("12.5")) {
			t.Errorf("after the failure: %+v", o)
		}
		d.mustOK("SET_SELL_TRIGGER,alice,ABC,13.75") // 137.50 / 13.75 = 10 = 6 free + 4 reserved
		if o := d.acct.SellOrders["ABC"]; o.ReservedShares != 10 || !o.Trigger.Decimal.Equal(dec("13.75")) {
			t.Errorf("sell order %+v, want 10 reserved at 13.75", o)
		}
		d.wantHolding("ABC", 0)
		d.mustOK("SET_SELL_TRIGGER,alice,ABC,50") // 2 shares: 8 go back
		d.wantHolding("ABC", 8)
	})

	for _, tc := range []struct {
		name, price, trigger string
		events               []string
	}{
		{"at a price equal to the trigger the order sells its reserved shares", "12", "12",
			[]string{"systemEvent SET_SELL_TRIGGER ABC 60.00", "accountTransaction add 60.00"}},
		{"at a price above the trigger it sells at the quoted price, not at the trigger", "12", "10",
			[]string{"systemEvent SET_SELL_TRIGGER ABC 72.00", "accountTransaction add 72.00"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDesk(t, "ABC=10")
			d.own("ABC", 10)
			d.mustOK("SET_SELL_AMOUNT,alice,ABC,60")
			d.quotes.set("ABC", tc.price)
			want := append([]string{"userCommand SET_SELL_TRIGGER", "quoteServer ABC " + dec(tc.price).StringFixed(2)}, tc.events...)
			d.ok("SET_SELL_TRIGGER,alice,ABC,"+tc.trigger, want...)
			n := 60 / dec(tc.trigger).IntPart()
			d.wantHolding("ABC", 10-n)
			d.wantCash(dec(tc.price).Mul(decimal.NewFromInt(n)).String())
			if len(d.acct.SellOrders) != 0 || len(d.acct.Triggers()) != 0 {
				t.Error("the executed order is still there")
			}
		})
	}

	t.Run("a quote error leaves the trigger set and the shares reserved", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.own("ABC", 10)
		d.mustOK("SET_SELL_AMOUNT,alice,ABC,60")
		d.quotes.fail["ABC"] = errors.New("quote server unreachable")
		out := d.ok("SET_SELL_TRIGGER,alice,ABC,6", "userCommand SET_SELL_TRIGGER")
		if o := d.acct.SellOrders["ABC"]; o.ReservedShares != 10 || !o.Trigger.Decimal.Equal(dec("6")) {
			t.Errorf("sell order %+v", o)
		}
		if !strings.Contains(out.Result.Message, "deferred") {
			t.Errorf("message %q does not say the price check was deferred", out.Result.Message)
		}
	})
}

func TestCancelSetSell(t *testing.T) {
	t.Run("CANCEL_SET_SELL needs a sell order", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.own("ABC", 10)
		d.refused("CANCEL_SET_SELL,alice,ABC", "no sell order for ABC")
	})
	t.Run("CANCEL_SET_SELL with a trigger returns the reserved shares", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.own("ABC", 10)
		d.mustOK("SET_SELL_AMOUNT,alice,ABC,60")
		d.mustOK("SET_SELL_TRIGGER,alice,ABC,12")
		d.wantHolding("ABC", 5)
		d.ok("CANCEL_SET_SELL,alice,ABC", "userCommand CANCEL_SET_SELL")
		d.wantHolding("ABC", 10)
		if len(d.acct.SellOrders) != 0 || len(d.acct.Triggers()) != 0 {
			t.Error("the order is still there")
		}
	})
	t.Run("CANCEL_SET_SELL without a trigger removes the order", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.own("ABC", 10)
		d.mustOK("SET_SELL_AMOUNT,alice,ABC,60")
		d.ok("CANCEL_SET_SELL,alice,ABC", "userCommand CANCEL_SET_SELL")
		d.wantHolding("ABC", 10)
		if len(d.acct.SellOrders) != 0 {
			t.Error("the order is still there")
		}
	})
}

func TestDisplaySummary(t *testing.T) {
	t.Run("a result nobody reads gets no summary, and the same events", func(t *testing.T) {
		read, unread := newDesk(t, "ABC=10"), newDesk(t, "ABC=10")
		for _, d := range []*desk{read, unread} {
			d.mustOK("ADD,alice,200")
			d.mustOK("BUY,alice,ABC,30")
			d.mustOK("COMMIT_BUY,alice")
		}
		cmd, err := ParseArgs(4, "DISPLAY_SUMMARY", []string{alice})
		if err != nil {
			t.Fatal(err)
		}
		full := read.acct.Execute(cmd, read.env())
		env := unread.env()
		env.ResultUnread = true
		bare := unread.acct.Execute(cmd, env)
		if full.Result.Summary == nil || bare.Result.Summary != nil || !bare.Result.OK {
			t.Errorf("summaries: read %v, unread %v (ok %v); want one only when read, both OK",
				full.Result.Summary != nil, bare.Result.Summary != nil, bare.Result.OK)
		}
		if got, want := describeAll(bare.Events), describeAll(full.Events); !slices.Equal(got, want) {
			t.Errorf("events with the result unread %v, read %v: want the same", got, want)
		}
		if business(t, read.acct) != business(t, unread.acct) {
			t.Error("the accounts differ")
		}
	})
	t.Run("DISPLAY_SUMMARY changes nothing and shows everything, pending trades with their time left", func(t *testing.T) {
		d := newDesk(t, "ABC=10", "DEF=5")
		d.own("ABC", 10)
		d.mustOK("ADD,alice,200")
		d.mustOK("SET_SELL_AMOUNT,alice,ABC,48")
		d.mustOK("SET_SELL_TRIGGER,alice,ABC,12") // 4 reserved
		d.mustOK("SET_BUY_AMOUNT,alice,DEF,50")   // cash 150
		d.mustOK("BUY,alice,DEF,20")              // 4 at 5, at t0
		d.advance(20 * time.Second)
		d.mustOK("BUY,alice,ABC,30") // 3 at 10, at t0+20s
		d.mustOK("SELL,alice,ABC,20")
		d.advance(15 * time.Second)

		before := business(t, d.acct)
		out := d.ok("DISPLAY_SUMMARY,alice", "userCommand DISPLAY_SUMMARY")
		if business(t, d.acct) != before {
			t.Error("DISPLAY_SUMMARY changed the account")
		}
		s := out.Result.Summary
		if s == nil {
			t.Fatal("no summary in the result")
		}
		if !s.Exists || s.User != alice || !s.AsOf.Equal(d.now) || !s.Cash.Equal(dec("150")) || !s.ReservedCash.Equal(dec("50")) {
			t.Errorf("summary header %+v", s)
		}
		if len(s.Holdings) != 1 || s.Holdings[0].Symbol != "ABC" || s.Holdings[0].Shares != 6 || s.Holdings[0].ReservedShares != 4 ||
			!s.Holdings[0].LastPrice.Decimal.Equal(dec("10")) {
			t.Errorf("holdings %+v", s.Holdings)
		}
		if len(s.PendingBuys) != 2 {
			t.Fatalf("pending buys %+v", s.PendingBuys)
		}
		newest, oldest := s.PendingBuys[0], s.PendingBuys[1]
		if newest.Symbol != "ABC" || newest.Shares != 3 || !newest.Total.Equal(dec("30")) || newest.ExpiresAt.Sub(s.AsOf) != 45*time.Second {
			t.Errorf("newest pending buy %+v: want ABC, 3 shares, $30, 45 s left", newest)
		}
		if oldest.Symbol != "DEF" || oldest.ExpiresAt.Sub(s.AsOf) != 25*time.Second {
			t.Errorf("oldest pending buy %+v: want DEF, 25 s left", oldest)
		}
		if len(s.PendingSells) != 1 || s.PendingSells[0].Shares != 2 || s.PendingSells[0].ExpiresAt.Sub(s.AsOf) != 45*time.Second {
			t.Errorf("pending sells %+v", s.PendingSells)
		}
		if len(s.BuyOrders) != 1 || s.BuyOrders[0].Symbol != "DEF" || !s.BuyOrders[0].Reserve.Equal(dec("50")) || s.BuyOrders[0].Trigger.Valid {
			t.Errorf("buy orders %+v", s.BuyOrders)
		}
		if len(s.SellOrders) != 1 || !s.SellOrders[0].Trigger.Decimal.Equal(dec("12")) || s.SellOrders[0].ReservedShares != 4 ||
			!s.SellOrders[0].Amount.Equal(dec("48")) {
			t.Errorf("sell orders %+v", s.SellOrders)
		}
		if n := len(s.Recent); n == 0 || s.Recent[n-1].Command != Sell {
			t.Errorf("recent activity %+v", s.Recent)
		}
	})

	t.Run("the summary leaves out pending trades past their window", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.mustOK("ADD,alice,100")
		d.mustOK("BUY,alice,ABC,30")
		if s := d.acct.Summary(t0.Add(PendingValidity)); len(s.PendingBuys) != 1 {
			t.Errorf("at c + 60 s the pending buy is not shown")
		}
		if s := d.acct.Summary(t0.Add(PendingValidity + time.Millisecond)); len(s.PendingBuys) != 0 {
			t.Errorf("an expired pending buy is shown")
		}
	})

	t.Run("the summary of a user without an account says so", func(t *testing.T) {
		s := NewAccount(alice).Summary(t0)
		if s.Exists || s.Holdings == nil || s.PendingBuys == nil || s.BuyOrders == nil {
			t.Errorf("summary %+v", s)
		}
	})

	t.Run("recent activity keeps the last commands, failed ones included", func(t *testing.T) {
		d := newDesk(t)
		d.mustOK("ADD,alice,100")
		for range recentLimit + 5 {
			d.exec("COMMIT_BUY,alice")
		}
		d.mustOK("ADD,alice,1")
		r := d.acct.Recent
		if len(r) != recentLimit || r[len(r)-1].TxNum != d.tx || !r[len(r)-1].OK || r[0].OK {
			t.Errorf("recent activity %+v", r)
		}
	})

	t.Run("a full recent activity takes the next command without a new array", func(t *testing.T) {
		a := NewAccount(alice)
		for tx := range int64(recentLimit + 3) {
			a.remember(RecentCommand{TxNum: tx + 1})
		}
		tx := int64(recentLimit + 3)
		allocs := testing.AllocsPerRun(50, func() {
			tx++
			a.remember(RecentCommand{TxNum: tx})
		})
		if allocs != 0 {
			t.Errorf("remember allocated %.1f times a command once full; want 0", allocs)
		}
		if len(a.Recent) != recentLimit || a.Recent[0].TxNum != tx-recentLimit+1 || a.Recent[recentLimit-1].TxNum != tx {
			t.Errorf("recent activity %+v; want transactions %d to %d", a.Recent, tx-recentLimit+1, tx)
		}
		for i := 1; i < len(a.Recent); i++ {
			if a.Recent[i].TxNum != a.Recent[i-1].TxNum+1 {
				t.Fatalf("recent activity out of order at %d: %+v", i, a.Recent)
			}
		}
	})
}

func TestDumpLogCommand(t *testing.T) {
	d := newDesk(t)
	d.mustOK("ADD,alice,100")
	before := business(t, d.acct)
	out := d.ok("DUMPLOG,alice,./testLOG", "userCommand DUMPLOG")
	if !strings.Contains(out.Result.Message, "testLOG") || strings.Contains(out.Result.Message, "./") {
		t.Errorf("message %q", out.Result.Message)
	}
	if out.Events[0].Filename != "./testLOG" {
		t.Errorf("userCommand filename %q", out.Events[0].Filename)
	}
	if business(t, d.acct) != before {
		t.Error("DUMPLOG changed the account")
	}
}

func TestFreshQuotesFireTriggers(t *testing.T) {
	// A watched buy order of $50 on ABC at trigger 9, with the price at 10;
	// alice also holds 10 ABC so SELL can quote.
	watched := func(t *testing.T) *desk {
		d := newDesk(t, "ABC=10", "DEF=5")
		d.own("ABC", 10)
		d.mustOK("ADD,alice,100")
		d.mustOK("SET_BUY_AMOUNT,alice,ABC,50")
		d.mustOK("SET_BUY_TRIGGER,alice,ABC,9")
		return d
	}
	for _, line := range []string{"QUOTE,alice,ABC", "BUY,alice,ABC,10", "SELL,alice,ABC,10"} {
		name, _, _ := strings.Cut(line, ",")
		t.Run("the fresh quote of "+name+" fires a buy trigger it meets", func(t *testing.T) {
			d := watched(t)
			d.quotes.set("ABC", "9")
			d.ok(line, "userCommand "+name, "quoteServer ABC 9.00",
				"systemEvent SET_BUY_TRIGGER ABC 45.00", "accountTransaction add 5.00")
			d.wantHolding("ABC", 15)
			d.wantCash("55")
			if len(d.acct.Triggers()) != 0 {
				t.Errorf("triggers left: %v", d.acct.Triggers())
			}
		})
	}

	t.Run("a fresh quote fires a sell trigger it meets", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.own("ABC", 10)
		d.mustOK("SET_SELL_AMOUNT,alice,ABC,60")
		d.mustOK("SET_SELL_TRIGGER,alice,ABC,12") // 5 reserved
		d.quotes.set("ABC", "12.50")
		d.ok("QUOTE,alice,ABC", "userCommand QUOTE", "quoteServer ABC 12.50",
			"systemEvent SET_SELL_TRIGGER ABC 62.50", "accountTransaction add 62.50")
		d.wantHolding("ABC", 5)
		d.wantCash("62.50")
	})

	t.Run("a quote above the buy trigger or of another symbol fires nothing", func(t *testing.T) {
		d := watched(t)
		d.quotes.set("ABC", "9.01")
		d.ok("QUOTE,alice,ABC", "userCommand QUOTE", "quoteServer ABC 9.01")
		d.quotes.set("DEF", "0.01")
		d.ok("QUOTE,alice,DEF", "userCommand QUOTE", "quoteServer DEF 0.01")
		if len(d.acct.Triggers()) != 1 {
			t.Errorf("triggers %v", d.acct.Triggers())
		}
	})
}

func TestSideFires(t *testing.T) {
	for _, c := range []struct {
		side           Side
		price, trigger string
		want           bool
	}{
		{BuySide, "8.99", "9.00", true},
		{BuySide, "9.00", "9.00", true}, // equality fires
		{BuySide, "9.01", "9.00", false},
		{SellSide, "12.01", "12.00", true},
		{SellSide, "12.00", "12.00", true},
		{SellSide, "11.99", "12.00", false},
		{Side("hold"), "1.00", "9.00", false},
	} {
		if got := c.side.Fires(dec(c.price), dec(c.trigger)); got != c.want {
			t.Errorf("%s trigger at %s, price %s: fires = %v, want %v", c.side, c.trigger, c.price, got, c.want)
		}
	}
}

func TestCheckTriggers(t *testing.T) {
	watched := func(t *testing.T) *desk {
		d := newDesk(t, "ABC=10")
		d.own("ABC", 10)
		d.mustOK("ADD,alice,100")
		d.mustOK("SET_BUY_AMOUNT,alice,ABC,50")
		d.mustOK("SET_BUY_TRIGGER,alice,ABC,9") // tx 6
		d.mustOK("SET_SELL_AMOUNT,alice,ABC,60")
		d.mustOK("SET_SELL_TRIGGER,alice,ABC,12") // tx 8, 5 reserved
		return d
	}
	quote := func(price string) Quote {
		return Quote{Symbol: "ABC", User: alice, Price: dec(price), FetchedAt: t0.Add(time.Minute)}
	}

	t.Run("a price between the triggers fires nothing", func(t *testing.T) {
		d := watched(t)
		before := business(t, d.acct)
		for _, p := range []string{"9.01", "10", "11.99"} {
			if evs, fired := d.acct.CheckTriggers(quote(p), 0, t0.Add(time.Minute)); len(evs)+len(fired) != 0 {
				t.Errorf("at %s: fired %v", p, fired)
			}
		}
		if business(t, d.acct) != before {
			t.Error("checking changed the account")
		}
	})

	t.Run("a watcher's check fires an order once, audited under the transaction that set its trigger", func(t *testing.T) {
		d := watched(t)
		now := t0.Add(time.Minute)
		evs, fired := d.acct.CheckTriggers(quote("8"), 0, now)
		if !slices.Equal(fired, []TriggerKey{{BuySide, "ABC"}}) {
			t.Fatalf("fired %v", fired)
		}
		want := []string{"systemEvent SET_BUY_TRIGGER ABC 48.00", "accountTransaction add 2.00"}
		if got := describeAll(evs); !slices.Equal(got, want) {
			t.Errorf("audited %q, want %q", got, want)
		}
		for _, ev := range evs {
			if ev.TxNum != 6 || ev.User != alice || !ev.Time.Equal(now) {
				t.Errorf("event %+v: want transaction 6 for alice at %s", ev, now)
			}
		}
		d.wantHolding("ABC", 11)
		d.wantCash("52")
		if q := d.acct.LastQuotes["ABC"]; !q.Price.Equal(dec("8")) {
			t.Errorf("the firing quote is not remembered: %+v", q)
		}
		after := business(t, d.acct)
		if evs, fired := d.acct.CheckTriggers(quote("8"), 0, now); len(evs)+len(fired) != 0 {
			t.Errorf("fired a second time: %v", fired)
		}
		if business(t, d.acct) != after {
			t.Error("the second check changed the account")
		}
	})

	t.Run("a sell order fires at or above its trigger and sells its reserved shares at the price", func(t *testing.T) {
		d := watched(t)
		evs, fired := d.acct.CheckTriggers(quote("13"), 42, t0.Add(time.Minute))
		if !slices.Equal(fired, []TriggerKey{{SellSide, "ABC"}}) {
			t.Fatalf("fired %v", fired)
		}
		want := []string{"systemEvent SET_SELL_TRIGGER ABC 65.00", "accountTransaction add 65.00"}
		if got := describeAll(evs); !slices.Equal(got, want) || evs[0].TxNum != 42 {
			t.Errorf("audited %q under %d, want %q under 42", got, evs[0].TxNum, want)
		}
		d.wantHolding("ABC", 5)
		d.wantCash("115")
		if _, ok := d.acct.TriggerPrice(TriggerKey{SellSide, "ABC"}); ok {
			t.Error("the sell trigger is still live")
		}
	})

	t.Run("an order without a trigger never fires", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.own("ABC", 10)
		d.mustOK("ADD,alice,100")
		d.mustOK("SET_BUY_AMOUNT,alice,ABC,50")
		d.mustOK("SET_SELL_AMOUNT,alice,ABC,50")
		for _, p := range []string{"0.01", "10000"} {
			if _, fired := d.acct.CheckTriggers(quote(p), 0, t0); len(fired) != 0 {
				t.Errorf("at %s fired %v", p, fired)
			}
		}
	})

	t.Run("TriggerPrice knows only live triggers", func(t *testing.T) {
		d := watched(t)
		if _, ok := d.acct.TriggerPrice(TriggerKey{BuySide, "DEF"}); ok {
			t.Error("a trigger on DEF")
		}
		if _, ok := d.acct.TriggerPrice(TriggerKey{"hold", "ABC"}); ok {
			t.Error("a trigger of an unknown side")
		}
		if got := d.acct.Triggers(); !slices.Equal(got, []TriggerKey{{BuySide, "ABC"}, {SellSide, "ABC"}}) {
			t.Errorf("Triggers() = %v", got)
		}
	})
}

func TestShareCountsNeverOverflow(t *testing.T) {
	// Share counts are int64: past MaxShares a count could wrap around and a
	// holding turn negative. Amounts stop below MaxMoney, yet a BUY of nearly
	// $10^15 at $0.01 is 10^17 shares, more than MaxShares.
	t.Run("a BUY worth more shares than an account may own is refused, not wrapped around", func(t *testing.T) {
		d := newDesk(t, "ABC=0.01")
		d.mustOK("ADD,alice,999999999999999.99")
		d.mustOK("QUOTE,alice,ABC")
		d.refused("BUY,alice,ABC,999999999999999", "more than") // 10^17 shares
	})

	// 2^64 + 5 shares at $1 is 5 shares once wrapped around in an int64.
	const wraps = "18446744073709551621"
	t.Run("an amount of 2^64 + 5 dollars is refused at the door", func(t *testing.T) {
		d := newDesk(t, "ABC=1")
		d.refused("ADD,alice,"+wraps, "must be less than")
		d.mustOK("ADD,alice,10")
		d.refused("BUY,alice,ABC,"+wraps, "must be less than")
	})

	t.Run("a SELL of 2^64 + 5 shares is refused, not taken for 5 shares", func(t *testing.T) {
		d := newDesk(t, "ABC=1")
		d.own("ABC", 10)
		d.refused("SELL,alice,ABC,"+wraps, "must be less than")
		d.refused("SET_SELL_AMOUNT,alice,ABC,"+wraps, "must be less than")
		d.mustOK("SET_SELL_AMOUNT,alice,ABC,999999999999999")
		d.refused("SET_SELL_TRIGGER,alice,ABC,1", "you hold 10")
	})

	big := decimal.NewFromInt(MaxShares).Mul(dec("0.006")).String() // 0.6·MaxShares shares at $0.01
	t.Run("COMMIT_BUY that would own more than MaxShares is refused and keeps the pending buy", func(t *testing.T) {
		d := newDesk(t, "ABC=0.01")
		d.mustOK("ADD,alice," + big)
		d.mustOK("ADD,alice," + big)
		d.mustOK("BUY,alice,ABC," + big)
		d.mustOK("BUY,alice,ABC," + big)
		d.mustOK("COMMIT_BUY,alice")
		d.refused("COMMIT_BUY,alice", "more than")
		d.wantHolding("ABC", MaxShares*6/10)
	})

	t.Run("a buy order that fires buys up to MaxShares and returns the rest of its reserve", func(t *testing.T) {
		d := newDesk(t, "ABC=0.01")
		d.mustOK("ADD,alice," + big)
		d.mustOK("ADD,alice," + big)
		d.mustOK("BUY,alice,ABC," + big)
		d.mustOK("COMMIT_BUY,alice")
		d.mustOK("SET_BUY_AMOUNT,alice,ABC," + big)
		cost := decimal.NewFromInt(MaxShares * 4 / 10).Mul(dec("0.01"))
		d.ok("SET_BUY_TRIGGER,alice,ABC,0.01", "userCommand SET_BUY_TRIGGER",
			"systemEvent SET_BUY_TRIGGER ABC "+cost.StringFixed(2), "accountTransaction add "+dec(big).Sub(cost).StringFixed(2))
		d.wantHolding("ABC", MaxShares)
	})
}

func TestCheckInvariants(t *testing.T) {
	for _, tc := range []struct {
		name    string
		corrupt func(a *Account)
	}{
		{"negative cash", func(a *Account) { a.Cash = dec("-0.01") }},
		{"a negative holding", func(a *Account) { a.Holdings["ABC"] = -1 }},
		{"a negative buy reserve", func(a *Account) { a.BuyOrders["ABC"] = BuyOrder{Reserve: dec("-1")} }},
		{"negative reserved shares", func(a *Account) { a.SellOrders["ABC"] = SellOrder{Amount: dec("1"), ReservedShares: -1} }},
		{"a negative sell amount", func(a *Account) { a.SellOrders["ABC"] = SellOrder{Amount: dec("-1")} }},
	} {
		t.Run("CheckInvariants reports "+tc.name, func(t *testing.T) {
			a := NewAccount(alice)
			if err := a.CheckInvariants(); err != nil {
				t.Fatalf("a new account breaks an invariant: %v", err)
			}
			tc.corrupt(a)
			if err := a.CheckInvariants(); err == nil {
				t.Error("not reported")
			}
		})
	}
}

func TestQuoteValidity(t *testing.T) {
	q := Quote{Symbol: "ABC", Price: dec("1"), FetchedAt: t0}
	if !q.ValidAt(t0) || !q.ValidAt(t0.Add(QuoteValidity)) {
		t.Error("a quote is not valid within its 60 s")
	}
	if q.ValidAt(t0.Add(QuoteValidity + time.Millisecond)) {
		t.Error("a quote is valid after 60 s")
	}
	if (Quote{}).ValidAt(t0) {
		t.Error("a quote never fetched is valid")
	}
}

func TestForgetStaleQuotes(t *testing.T) {
	d := newDesk(t, "ABC=10", "DEF=5", "GHI=1", "JKL=2")
	d.own("ABC", 1)
	d.mustOK("ADD,alice,100")
	d.mustOK("SET_BUY_AMOUNT,alice,GHI,10")
	d.mustOK("QUOTE,alice,DEF")
	d.mustOK("QUOTE,alice,GHI")
	d.advance(QuoteValidity)
	d.mustOK("QUOTE,alice,JKL")
	d.acct.ForgetStaleQuotes(d.now.Add(time.Millisecond))
	got := sortedKeys(d.acct.LastQuotes)
	if want := []string{"ABC", "GHI", "JKL"}; !slices.Equal(got, want) {
		t.Errorf("remembered quotes %v, want %v (DEF is stale and unused)", got, want)
	}
}

func pendingEqual(got, want []Pending) bool {
	return slices.EqualFunc(got, want, func(a, b Pending) bool {
		return a.TxNum == b.TxNum && a.Symbol == b.Symbol && a.Shares == b.Shares && a.Price.Equal(b.Price) && a.CreatedAt.Equal(b.CreatedAt)
	})
}

// The test fixtures shared by the rules' tests (property_test.go too): a fixed
// clock, a fake quote server and a "desk" that runs workload lines against
// one account.

const alice = "alice"

// t0 is the fixed clock's start. Tests move time only with desk.advance.
var t0 = time.Date(2026, time.March, 2, 14, 30, 0, 0, time.UTC)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// fakeQuoter serves prices from a map and counts how often each symbol is
// asked. The first ask for a symbol after its price was set is answered as a
// legacy quote server hit (legacyHit true: billed, must be audited); later
// asks are cache hits, as the caller's 60 s cache would serve them.
type fakeQuoter struct {
	clock  *time.Time
	user   string
	prices map[string]decimal.Decimal
	fail   map[string]error
	asked  map[string]int
	served map[string]bool
	hits   int
}

func newFakeQuoter(clock *time.Time, user string) *fakeQuoter {
	return &fakeQuoter{clock: clock, user: user, prices: map[string]decimal.Decimal{},
		fail: map[string]error{}, asked: map[string]int{}, served: map[string]bool{}}
}

func (f *fakeQuoter) Quote(sym string) (Quote, bool, error) {
	f.asked[sym]++
	if err := f.fail[sym]; err != nil {
		return Quote{}, false, err
	}
	p, ok := f.prices[sym]
	if !ok {
		return Quote{}, false, fmt.Errorf("no price for %s", sym)
	}
	hit := !f.served[sym]
	f.served[sym] = true
	if hit {
		f.hits++
	}
	return Quote{Symbol: sym, User: f.user, Price: p, QuoteServerTime: f.clock.UnixMilli() - 3,
		Cryptokey: "ck-" + sym + "-" + p.String(), FetchedAt: *f.clock}, hit, nil
}

// set moves the price of sym; the next ask is a fresh legacy hit.
func (f *fakeQuoter) set(sym, price string) {
	f.prices[sym] = dec(price)
	delete(f.served, sym)
}

// desk runs workload lines (`BUY,alice,ABC,100.00`) against one account at a
// fixed clock, numbering the transactions 1, 2, 3...
type desk struct {
	t      *testing.T
	acct   *Account
	quotes *fakeQuoter
	now    time.Time
	tx     int64
}

// newDesk returns a desk for alice, who has no account yet, with prices
// given as "SYM=price".
func newDesk(t *testing.T, prices ...string) *desk {
	d := &desk{t: t, acct: NewAccount(alice), now: t0}
	d.quotes = newFakeQuoter(&d.now, alice)
	for _, p := range prices {
		sym, price, _ := strings.Cut(p, "=")
		d.quotes.set(sym, price)
	}
	return d
}

func (d *desk) env() Env { return Env{Now: d.now, Quote: d.quotes.Quote} }

func (d *desk) advance(dur time.Duration) { d.now = d.now.Add(dur) }

func (d *desk) exec(line string) Outcome {
	d.t.Helper()
	fields := strings.Split(line, ",")
	d.tx++
	cmd, err := ParseArgs(d.tx, fields[0], fields[1:])
	if err != nil {
		d.t.Fatalf("test line %q does not parse: %v", line, err)
	}
	return d.acct.Execute(cmd, d.env())
}

// mustOK runs a setup line that must succeed.
func (d *desk) mustOK(line string) Outcome {
	d.t.Helper()
	out := d.exec(line)
	if !out.Result.OK {
		d.t.Fatalf("%s failed: %s", line, out.Result.Message)
	}
	d.checkInvariants()
	return out
}

// ok runs a line that must succeed with exactly the audit events wanted (see
// describe for their spelling), every one for alice under this transaction.
func (d *desk) ok(line string, wantEvents ...string) Outcome {
	d.t.Helper()
	out := d.mustOK(line)
	if got := describeAll(out.Events); !slices.Equal(got, wantEvents) {
		d.t.Errorf("%s audited\n\t%s\nwant\n\t%s", line, strings.Join(got, "\n\t"), strings.Join(wantEvents, "\n\t"))
	}
	if out.Result.Message == "" {
		d.t.Errorf("%s succeeded without a message for the trader", line)
	}
	d.checkEventsBelong(out)
	return out
}

// refused runs a line whose precondition fails: the command is audited as
// exactly a userCommand and an errorEvent whose message (also the trader's
// result) contains wantMsg, and the account is unchanged.
func (d *desk) refused(line, wantMsg string) Outcome {
	d.t.Helper()
	before := business(d.t, d.acct)
	recent := len(d.acct.Recent)
	out := d.exec(line)
	if out.Result.OK {
		d.t.Fatalf("%s succeeded (%s), want it refused with %q", line, out.Result.Message, wantMsg)
	}
	name, _, _ := strings.Cut(line, ",")
	want := []string{"userCommand " + name, "errorEvent " + name}
	if got := describeAll(out.Events); !slices.Equal(got, want) {
		d.t.Errorf("%s audited %q, want %q", line, got, want)
	}
	last := out.Events[len(out.Events)-1]
	if last.Message == "" || !strings.Contains(last.Message, wantMsg) {
		d.t.Errorf("%s: error message %q does not contain %q", line, last.Message, wantMsg)
	}
	if out.Result.Message != last.Message {
		d.t.Errorf("%s: the trader is told %q, the audit says %q", line, out.Result.Message, last.Message)
	}
	if after := business(d.t, d.acct); after != before {
		d.t.Errorf("%s changed the account:\nbefore %s\nafter  %s", line, before, after)
	}
	if len(d.acct.Recent) == 0 || d.acct.Recent[len(d.acct.Recent)-1].OK || len(d.acct.Recent) > max(recent+1, recentLimit) {
		d.t.Errorf("%s: recent activity does not end with the failed command: %+v", line, d.acct.Recent)
	}
	d.checkEventsBelong(out)
	d.checkInvariants()
	return out
}

func (d *desk) checkEventsBelong(out Outcome) {
	d.t.Helper()
	for _, ev := range out.Events {
		if ev.Type != DebugEvent && ev.TxNum != d.tx {
			d.t.Errorf("%s event carries transaction %d, want %d", ev.Type, ev.TxNum, d.tx)
		}
		if ev.User != alice && ev.Type != ErrorEvent && ev.Type != UserCommandEvent {
			d.t.Errorf("%s event is for user %q", ev.Type, ev.User)
		}
		if !ev.Time.Equal(d.now) {
			d.t.Errorf("%s event is stamped %s, want the command's time %s", ev.Type, ev.Time, d.now)
		}
	}
}

func (d *desk) checkInvariants() {
	d.t.Helper()
	if err := d.acct.CheckInvariants(); err != nil {
		d.t.Fatalf("invariant broken: %v", err)
	}
}

// own makes alice hold n more shares of sym bought at its current price,
// leaving her cash as it was.
func (d *desk) own(sym string, n int64) {
	d.t.Helper()
	cost := d.quotes.prices[sym].Mul(decimal.NewFromInt(n)).StringFixed(2)
	d.mustOK("ADD,alice," + cost)
	d.mustOK("BUY,alice," + sym + "," + cost)
	d.mustOK("COMMIT_BUY,alice")
}

func (d *desk) wantCash(want string) {
	d.t.Helper()
	if !d.acct.Cash.Equal(dec(want)) {
		d.t.Errorf("cash is %s, want %s", d.acct.Cash, want)
	}
}

func (d *desk) wantHolding(sym string, want int64) {
	d.t.Helper()
	if got := d.acct.Holdings[sym]; got != want {
		d.t.Errorf("free shares of %s: %d, want %d", sym, got, want)
	}
}

// business is the account's state as JSON, except Recent (the activity log,
// which records every command, failed or not) and LastQuotes (the price
// cache: a quote that was billed stays usable even if its command failed).
func business(t *testing.T, a *Account) string {
	t.Helper()
	c := *a
	c.Recent = nil
	c.LastQuotes = nil
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// describe spells an audit event the way the tests want it:
//
//	userCommand BUY / errorEvent BUY
//	accountTransaction add 10.00
//	quoteServer ABC 30.00
//	systemEvent SET_BUY_TRIGGER ABC 90.00
//	debugEvent BUY ABC
func describe(ev Event) string {
	switch ev.Type {
	case UserCommandEvent, ErrorEvent:
		return fmt.Sprintf("%s %s", ev.Type, ev.Command)
	case AccountTransactionEvent:
		return fmt.Sprintf("accountTransaction %s %s", ev.Action, fixed(ev.Funds))
	case QuoteServerEvent:
		return fmt.Sprintf("quoteServer %s %s", ev.Symbol, fixed(ev.Price))
	case SystemEvent:
		return fmt.Sprintf("systemEvent %s %s %s", ev.Command, ev.Symbol, fixed(ev.Funds))
	case DebugEvent:
		return fmt.Sprintf("debugEvent %s %s", ev.Command, ev.Symbol)
	}
	return "unknown event " + string(ev.Type)
}

func fixed(d decimal.NullDecimal) string {
	if !d.Valid {
		return "<no amount>"
	}
	return d.Decimal.StringFixed(2)
}

func describeAll(evs []Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = describe(ev)
	}
	return out
}

// TestProfitAndLoss follows one holding's cost basis through buys at two
// prices, a partial sale, trigger executions and cancels, and checks what the
// summary shows at the last price.
func TestProfitAndLoss(t *testing.T) {
	holding := func(t *testing.T, d *desk, sym string) Holding {
		t.Helper()
		for _, h := range d.acct.Summary(d.now).Holdings {
			if h.Symbol == sym {
				return h
			}
		}
		t.Fatalf("no holding of %s", sym)
		return Holding{}
	}
	wantDec := func(t *testing.T, what string, got decimal.Decimal, want string) {
		t.Helper()
		if !got.Equal(dec(want)) {
			t.Errorf("%s is %s, want %s", what, got, want)
		}
	}
	wantNull := func(t *testing.T, what string, got decimal.NullDecimal, want string) {
		t.Helper()
		if want == "" {
			if got.Valid {
				t.Errorf("%s is %s, want none", what, got.Decimal)
			}
			return
		}
		if !got.Valid || !got.Decimal.Equal(dec(want)) {
			t.Errorf("%s is %v, want %s", what, got, want)
		}
	}

	t.Run("COMMIT_BUY adds the shares at their cost", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.own("ABC", 10)
		h := holding(t, d, "ABC")
		wantDec(t, "cost basis", h.CostBasis, "100")
		wantDec(t, "average cost", h.AvgCost, "10")
		wantNull(t, "market value", h.MarketValue, "100")
		wantNull(t, "unrealized P&L", h.UnrealizedPL, "0")
		wantNull(t, "unrealized %", h.UnrealizedPct, "0")
	})

	t.Run("a buy at another price averages the cost; the last quote values the holding", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.own("ABC", 10) // $100
		d.quotes.set("ABC", "16")
		d.own("ABC", 5) // $80: 15 shares for $180, $12 each
		d.quotes.set("ABC", "15")
		d.mustOK("QUOTE,alice,ABC")
		h := holding(t, d, "ABC")
		wantDec(t, "cost basis", h.CostBasis, "180")
		wantDec(t, "average cost", h.AvgCost, "12")
		wantNull(t, "market value", h.MarketValue, "225")
		wantNull(t, "unrealized P&L", h.UnrealizedPL, "45")
		wantNull(t, "unrealized %", h.UnrealizedPct, "25")
		s := d.acct.Summary(d.now)
		wantDec(t, "total cost", s.CostBasis, "180")
		wantNull(t, "total value", s.MarketValue, "225")
		wantNull(t, "total unrealized", s.UnrealizedPL, "45")
		wantDec(t, "realized", s.RealizedPL, "0")
	})

	t.Run("a partial COMMIT_SELL removes shares at average cost and realizes the difference", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.own("ABC", 10)
		d.quotes.set("ABC", "16")
		d.own("ABC", 5) // 15 for $180
		d.quotes.set("ABC", "20")
		d.mustOK("SELL,alice,ABC,100") // 5 shares at 20
		d.mustOK("COMMIT_SELL,alice")
		h := holding(t, d, "ABC")
		wantDec(t, "cost basis", h.CostBasis, "120") // 10 left at $12
		wantDec(t, "average cost", h.AvgCost, "12")
		wantNull(t, "unrealized P&L", h.UnrealizedPL, "80")
		wantDec(t, "realized", d.acct.Summary(d.now).RealizedPL, "40") // 100 − 5·12
		d.mustOK("SELL,alice,ABC,200")                                 // the rest
		d.mustOK("COMMIT_SELL,alice")
		if _, ok := d.acct.CostBasis["ABC"]; ok {
			t.Errorf("selling every share left a cost basis %s", d.acct.CostBasis["ABC"])
		}
		wantDec(t, "realized", d.acct.RealizedPL, "120")
	})

	t.Run("an uneven average leaves no residue once every share is sold", func(t *testing.T) {
		d := newDesk(t, "ABC=3.33")
		d.mustOK("ADD,alice,10")
		d.mustOK("BUY,alice,ABC,10") // 3 shares for $9.99
		d.mustOK("COMMIT_BUY,alice")
		for range 3 {
			d.mustOK("SELL,alice,ABC,3.33")
			d.mustOK("COMMIT_SELL,alice")
		}
		if len(d.acct.CostBasis) != 0 {
			t.Errorf("cost basis left: %v", d.acct.CostBasis)
		}
		wantDec(t, "realized", d.acct.RealizedPL, "0")
	})

	t.Run("trigger executions buy at cost and sell at average cost", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.own("ABC", 10) // $100
		d.mustOK("ADD,alice,100")
		d.mustOK("SET_BUY_AMOUNT,alice,ABC,50")
		d.mustOK("SET_BUY_TRIGGER,alice,ABC,9")
		d.acct.CheckTriggers(Quote{Symbol: "ABC", User: alice, Price: dec("8"), FetchedAt: d.now}, 0, d.now) // 6 for $48
		wantDec(t, "cost basis after the buy trigger", d.acct.CostBasis["ABC"], "148")
		d.mustOK("SET_SELL_AMOUNT,alice,ABC,60")
		d.mustOK("SET_SELL_TRIGGER,alice,ABC,15")                                                             // 4 reserved
		wantDec(t, "cost basis with shares reserved", d.acct.CostBasis["ABC"], "148")                         // still owned
		d.acct.CheckTriggers(Quote{Symbol: "ABC", User: alice, Price: dec("16"), FetchedAt: d.now}, 0, d.now) // 4 for $64
		wantDec(t, "cost basis after the sell trigger", d.acct.CostBasis["ABC"], "111")                       // 148 − 4·9.25
		wantDec(t, "realized", d.acct.RealizedPL, "27")                                                       // 64 − 37
		d.checkInvariants()
	})

	t.Run("cancels and expiries change no cost basis", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.own("ABC", 10)
		d.mustOK("ADD,alice,100")
		d.mustOK("BUY,alice,ABC,50")
		d.mustOK("CANCEL_BUY,alice")
		d.mustOK("SELL,alice,ABC,50")
		d.mustOK("CANCEL_SELL,alice")
		d.mustOK("SET_SELL_AMOUNT,alice,ABC,50")
		d.mustOK("SET_SELL_TRIGGER,alice,ABC,50")
		d.mustOK("CANCEL_SET_SELL,alice,ABC")
		d.mustOK("SET_BUY_AMOUNT,alice,ABC,50")
		d.mustOK("CANCEL_SET_BUY,alice,ABC")
		d.mustOK("BUY,alice,ABC,50")
		d.advance(2 * time.Minute)
		if out := d.exec("COMMIT_BUY,alice"); out.Result.OK {
			t.Fatal("an expired buy was committed")
		}
		d.mustOK("SELL,alice,ABC,50")
		d.advance(2 * time.Minute)
		if out := d.exec("COMMIT_SELL,alice"); out.Result.OK {
			t.Fatal("an expired sell was committed")
		}
		wantDec(t, "cost basis", d.acct.CostBasis["ABC"], "100")
		wantDec(t, "realized", d.acct.RealizedPL, "0")
	})

	t.Run("without a last price value and unrealized P&L are unknown", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.own("ABC", 2)
		delete(d.acct.LastQuotes, "ABC")
		h := holding(t, d, "ABC")
		wantNull(t, "market value", h.MarketValue, "")
		wantNull(t, "unrealized P&L", h.UnrealizedPL, "")
		wantNull(t, "total value", d.acct.Summary(d.now).MarketValue, "")
		wantDec(t, "total cost", d.acct.Summary(d.now).CostBasis, "20")
	})

	t.Run("state carried from before cost basis counts older shares at zero cost", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.own("ABC", 4)
		d.acct.CostBasis = nil // as JSON from an older run decodes
		d.mustOK("SELL,alice,ABC,20")
		d.mustOK("COMMIT_SELL,alice")
		d.own("ABC", 2)
		wantDec(t, "cost basis", d.acct.CostBasis["ABC"], "20")
		wantDec(t, "realized", d.acct.RealizedPL, "20")
		d.checkInvariants()
	})

	t.Run("the P&L survives continue-as-new (a JSON round trip)", func(t *testing.T) {
		d := newDesk(t, "ABC=10")
		d.own("ABC", 10)
		d.mustOK("SELL,alice,ABC,30")
		d.mustOK("COMMIT_SELL,alice")
		b, err := json.Marshal(d.acct)
		if err != nil {
			t.Fatal(err)
		}
		var next Account
		if err := json.Unmarshal(b, &next); err != nil {
			t.Fatal(err)
		}
		wantDec(t, "cost basis", next.CostBasis["ABC"], "70")
		wantDec(t, "realized", next.RealizedPL, "0")
	})
}
