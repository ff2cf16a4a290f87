package e2e

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/daytradinginc/daytrader/internal/browsertest"
	"github.com/daytradinginc/daytrader/internal/stacktest"
	"github.com/daytradinginc/daytrader/trading"
)

// plCells reads the holdings table's profit and loss cells as shown:
// row (a symbol, "total" or "realized") → column (data-col) → text.
func plCells(ui *browsertest.Browser) map[string]map[string]string {
	return browsertest.Eval[map[string]map[string]string](ui, "read the P&L cells", `(() => {
		const rows = {};
		document.querySelectorAll("section[aria-labelledby=holdings-title] tr[data-symbol]").forEach(tr => {
			const cells = rows[tr.dataset.symbol] = {};
			tr.querySelectorAll("[data-col]").forEach(td => { cells[td.dataset.col] = td.textContent.trim().split(/\s+/).join(" "); });
		});
		return rows;
	})()`)
}

// wantPL compares the shown P&L cells with the figures worked out by hand.
func wantPL(t *testing.T, ui *browsertest.Browser, when string, want map[string]map[string]string) {
	t.Helper()
	got := plCells(ui)
	for row, cols := range want {
		for col, text := range cols {
			if got[row][col] != text {
				t.Errorf("%s: %s %s shows %q, want %q", when, row, col, got[row][col], text)
			}
		}
	}
}

// TestBrowserProfitAndLoss trades a known sequence in Chromium on the real
// stack (web UI, embedded Temporal, worker, quote emulator with fixed
// prices, Postgres) and checks the dashboard's profit and loss against
// figures worked out by hand. A quote is reused for 60 s, so the market
// moves once, and the test waits for the old quotes to run out.
//
//	ADD 1000                                  cash 1000
//	ABC at 10.00: BUY 100 → 10 ABC for 100    cash  900, ABC basis 100
//	XYZ at 20.00: BUY  70 →  3 XYZ for  60    cash  840, XYZ basis  60
//	              SELL 20 →  1 XYZ for  20    cash  860, XYZ basis 60 - 60×1/3 = 40; realized 20 - 20 = 0
//	ABC at 12.50: BUY  50 →  4 ABC for  50    cash  810, ABC 14 shares, basis 150
//	              SELL 30 →  2 ABC for  25    cash  835, sold basis 150×2/14 = 21.43, ABC basis 128.57; realized +3.57
//	XYZ at 18.00: SELL 18 →  1 XYZ for  18    cash  853, sold basis 40×1/2 = 20, XYZ basis 20; realized 3.57 - 2 = 1.57
//
// ABC: 12 shares, average 128.57 / 12 = 10.7142 ($10.71), worth 12 × 12.50 = 150.00,
// unrealized 150 - 128.57 = +21.43 (+21.43 / 128.57 = +16.67 %). XYZ: 1 share,
// average 20.00, worth 18.00, unrealized -2.00 (-10.00 %). Totals: cost 148.57,
// worth 168.00, unrealized +19.43; realized +1.57; total value 853 + 168 = 1,021.00
// (= 1000 + 1.57 + 19.43).
func TestBrowserProfitAndLoss(t *testing.T) {
	dev := stacktest.Start(t, stacktest.Options{Web: true, QuotePrices: pricesFile(t, "ABC,10.00\nXYZ,20.00\n")})
	ui := browsertest.New(t, dev.WebURL)
	ui.SignUp("plalice", "correct horse")

	ui.Command("add", "added $1000.00", "amount", "1000")
	ui.Command("buy", "buy 10 ABC at $10.00", "symbol", "ABC", "amount", "100")
	ui.Command("commit-buy", "bought 10 ABC")
	ui.Command("buy", "buy 3 XYZ at $20.00", "symbol", "XYZ", "amount", "70")
	lastQuote := time.Now() // XYZ's quote was fetched before this; ABC's earlier
	ui.Command("commit-buy", "bought 3 XYZ")
	ui.Command("sell", "sell 1 XYZ at $20.00", "symbol", "XYZ", "amount", "20")
	ui.Command("commit-sell", "sold 1 XYZ at $20.00 for $20.00")
	ui.WaitText("[data-testid=cash]", "$860.00")
	wantPL(t, ui, "at the buying prices", map[string]map[string]string{
		"ABC":      {"avg-cost": "$10.00", "market-value": "$100.00", "unrealized": "$0.00 0.00 %"},
		"XYZ":      {"avg-cost": "$20.00", "market-value": "$40.00", "unrealized": "$0.00 0.00 %"},
		"total":    {"cost": "$140.00 cost", "market-value": "$140.00", "unrealized": "$0.00"},
		"realized": {"realized": "$0.00"},
	})

	// The market moves; the account and the worker's cache reuse a quote
	// for trading.QuoteValidity after it was fetched.
	for sym, price := range map[string]string{"ABC": "12.50", "XYZ": "18.00"} {
		if err := dev.Quotes.SetPrice(sym, decimal.RequireFromString(price)); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(time.Until(lastQuote.Add(trading.QuoteValidity + time.Second)))

	ui.Command("quote", "ABC is $12.50", "symbol", "ABC")
	ui.Command("buy", "buy 4 ABC at $12.50", "symbol", "ABC", "amount", "50")
	ui.Command("commit-buy", "bought 4 ABC")
	ui.Command("sell", "sell 2 ABC at $12.50", "symbol", "ABC", "amount", "30")
	ui.Command("commit-sell", "sold 2 ABC at $12.50 for $25.00")
	ui.Command("sell", "sell 1 XYZ at $18.00", "symbol", "XYZ", "amount", "18")
	ui.Command("commit-sell", "sold 1 XYZ at $18.00 for $18.00")
	ui.WaitText("[data-testid=cash]", "$853.00")
	wantPL(t, ui, "after the market moved", map[string]map[string]string{
		"ABC":      {"avg-cost": "$10.71", "market-value": "$150.00", "unrealized": "+$21.43 +16.67 %"},
		"XYZ":      {"avg-cost": "$20.00", "market-value": "$18.00", "unrealized": "-$2.00 -10.00 %"},
		"total":    {"cost": "$148.57 cost", "market-value": "$168.00", "unrealized": "+$19.43"},
		"realized": {"realized": "+$1.57"},
	})
	total := browsertest.Eval[string](ui, "read the total value", `Array.from(document.querySelectorAll("#summary .stat")).
		filter(s => s.querySelector(".stat-label").textContent === "Total value").map(s => s.querySelector(".stat-value").textContent).join()`)
	if total != "$1,021.00" {
		t.Errorf("the total value shows %q, want $1,021.00", total)
	}
	ui.Screenshot("real-pl-01-dashboard")
}
