package main

import (
	"strings"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/trading"
	"github.com/shopspring/decimal"
)

// TestPrintSummaryShowsProfitAndLoss: the text summary of an account the
// rules built (a buy at two prices, a partial sale, a quote) shows each
// holding's average cost, value and unrealized P&L, and the totals with the
// realized P&L; a holding with no price says n/a rather than a number.
func TestPrintSummaryShowsProfitAndLoss(t *testing.T) {
	now := time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC)
	price := map[string]string{"ABC": "10", "XY": "5"}
	quoter := func(sym string) (trading.Quote, bool, error) {
		return trading.Quote{Symbol: sym, User: "alice", Price: decimal.RequireFromString(price[sym]), FetchedAt: now}, false, nil
	}
	a := trading.NewAccount("alice")
	tx := int64(0)
	run := func(name trading.CommandName, symbol, amount string) {
		tx++
		out := a.Execute(trading.Command{TxNum: tx, Name: name, User: "alice", Symbol: symbol, Amount: amount}, trading.Env{Now: now, Quote: quoter})
		if !out.Result.OK {
			t.Fatalf("%s %s %s: %s", name, symbol, amount, out.Result.Message)
		}
	}
	run(trading.Add, "", "1000")
	run(trading.Buy, "ABC", "100") // 10 at 10
	run(trading.CommitBuy, "", "")
	price["ABC"] = "16"
	run(trading.Buy, "ABC", "80") // 5 at 16: 15 for 180
	run(trading.CommitBuy, "", "")
	price["ABC"] = "20"
	run(trading.Sell, "ABC", "100") // 5 at 20: realized 100 - 60
	run(trading.CommitSell, "", "")
	price["ABC"] = "9"
	run(trading.QuoteCmd, "ABC", "") // 10 worth 90, cost 120
	run(trading.Buy, "XY", "10")
	run(trading.CommitBuy, "", "")
	delete(a.LastQuotes, "XY")

	var b strings.Builder
	printSummary(&b, a.Summary(now))
	out := b.String()
	for _, want := range []string{
		"holding  ABC       10 shares (+0 reserved)  avg cost $12.00  value $90.00  unrealized -$30.00 (-25.00 %)",
		"holding  XY         2 shares (+0 reserved)  avg cost $5.00  value n/a  unrealized n/a\n",
		"total    cost $130.00  value n/a  unrealized n/a  realized $40.00",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}
