package e2e

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/internal/browsertest"
	"github.com/daytradinginc/daytrader/internal/stacktest"
	"github.com/daytradinginc/daytrader/internal/testenv"
	"github.com/daytradinginc/daytrader/trading"
	"github.com/daytradinginc/daytrader/worker"
	"github.com/daytradinginc/daytrader/workflows"
	"github.com/shopspring/decimal"
)

// TestBrowserOnTheRealStack is a trader's session in real Chromium against
// the whole system: the web UI, the embedded Temporal server, the worker,
// the quote emulator and Postgres. It registers, trades, watches a trigger
// execute and a pending buy expire live, reads the history, downloads and
// validates its DUMPLOG, and checks that one trader can't reach another's
// account or the administrator's pages. It waits out a real 60-second
// confirm window, so it takes a little over a minute.
func TestBrowserOnTheRealStack(t *testing.T) {
	// Watch triggers every 2 s (instead of 30 s) so the test sees one fire
	// as soon as the cached quote (60 s) runs out: the test runs its own
	// worker with these options.
	fast := workflows.DefaultAccountOptions()
	fast.TriggerCheckEvery = 2 * time.Second
	fast.ChildDebounce = 200 * time.Millisecond
	fast.MaxChildDelay = time.Second

	const admin = "boss"
	dev := stacktest.Start(t, stacktest.Options{Web: true, NoWorker: true, QuotePrices: pricesFile(t, "ABC,12.34\nXYZ,20.00\n"),
		AdminUser: admin, AdminPass: "admin password"})
	w := worker.New(dev.Client, dev.Acts, worker.Options{TaskQueue: dev.Config.TaskQueue, Account: fast})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	ui := browsertest.New(t, dev.WebURL)
	ui.Wait = 30 * time.Second

	ui.Open("/register")
	register(ui, "alice", "correct horse")
	ui.Screenshot("real-01-new-account")

	ui.Fill("#add-amount", "1000")
	ui.Click("#form-add button")
	ui.WaitText("#result", "added $1000.00")
	ui.WaitText("[data-testid=cash]", "$1,000.00")

	ui.Fill("#quote-symbol", "ABC")
	ui.Click("#form-quote button")
	ui.WaitText("#result", "ABC is $12.34")

	// Buy, then commit.
	ui.Fill("#buy-symbol", "ABC")
	ui.Fill("#buy-amount", "100")
	ui.Click("#form-buy button")
	ui.WaitText("#result", "buy 8 ABC at $12.34")
	ui.WaitText("[data-testid=pending-buys]", "ABC")
	ui.Click("#form-commit-buy button")
	ui.WaitText("#result", "bought 8 ABC")
	ui.WaitText("[data-testid=cash]", "$901.28")

	// Sell, then cancel: nothing moves.
	ui.Fill("#sell-symbol", "ABC")
	ui.Fill("#sell-amount", "24.68")
	ui.Click("#form-sell button")
	ui.WaitText("#result", "sell 2 ABC")
	ui.Click("#form-cancel-sell button")
	ui.WaitText("#result", "cancelled the pending sell")
	ui.WaitText("section[aria-labelledby=holdings-title]", "8")

	// Bad input: an inline error, and the account is unchanged.
	browsertest.Eval[any](ui, "switch off the browser's own checks", `document.querySelector("#form-add").noValidate = true`)
	ui.Fill("#add-amount", "1.234")
	ui.Click("#form-add button")
	ui.WaitText("#form-add .form-error", "is not a dollar amount")
	ui.WaitText("[data-testid=cash]", "$901.28")

	// An automatic buy of XYZ at $15 or less (XYZ is at $20: it waits).
	ui.Fill("#set-buy-amount-symbol", "XYZ")
	ui.Fill("#set-buy-amount-amount", "100")
	ui.Click("#form-set-buy-amount button")
	ui.WaitText("#result", "$100.00 reserved to buy XYZ")
	ui.Fill("#set-buy-trigger-symbol", "XYZ")
	ui.Fill("#set-buy-trigger-price", "15")
	ui.Click("#form-set-buy-trigger button")
	ui.WaitText("#result", "will buy XYZ")
	ui.WaitText("section[aria-labelledby=orders-title]", "XYZ")
	ui.WaitText("[data-testid=cash]", "$801.28")

	// A pending buy left unconfirmed.
	ui.Fill("#buy-symbol", "ABC")
	ui.Fill("#buy-amount", "50")
	ui.Click("#form-buy button")
	ui.WaitText("#result", "buy 4 ABC")
	if left := ui.Text("[data-testid=pending-buys] .countdown-text"); !regexp.MustCompile(`^[1-6]?[0-9] s$`).MatchString(left) {
		t.Errorf("the pending buy's countdown shows %q, want seconds left", left)
	}
	ui.Screenshot("real-02-pending-and-order")

	// The market moves; the page is left alone from here on.
	browsertest.Eval[any](ui, "mark the page", `window.notReloaded = true`)
	if err := dev.Quotes.SetPrice("XYZ", decimal.RequireFromString("10.00")); err != nil {
		t.Fatal(err)
	}
	ui.Wait = 100 * time.Second
	// The trigger's watcher sees $10 once the cached $20 quote expires and
	// buys floor(100 / 10) = 10 XYZ; the pending buy expires after 60 s.
	ui.WaitText("section[aria-labelledby=holdings-title]", "XYZ")
	ui.WaitText("section[aria-labelledby=orders-title]", "No automatic buy or sell orders")
	ui.WaitGone("[data-testid=pending-buys]")
	ui.Wait = 30 * time.Second
	if !browsertest.Eval[bool](ui, "check the page was not reloaded", `window.notReloaded === true`) {
		t.Error("the page reloaded instead of updating live")
	}
	ui.WaitText("[data-testid=cash]", "$801.28")
	ui.Screenshot("real-03-trigger-executed-buy-expired")

	// The charts, replayed from the real audit history with the market's
	// quotes: every trade was at the market price, so the portfolio stays
	// worth $1,000 (cash 801.28, 8 ABC at 12.34, 10 XYZ at 10), reproduced
	// exactly; the watcher's execution is XYZ's automatic buy.
	ui.WaitFor("the portfolio chart at $1,000", `(() => { const m = document.querySelectorAll("[data-testid=portfolio-chart] circle");
		return m.length > 0 && m[m.length-1].dataset.v === "1000"; })()`)
	if browsertest.Eval[bool](ui, "look for the approximate note", `document.querySelector("[data-testid=portfolio-chart] .stat-note") !== null`) {
		t.Error("the portfolio chart says the real history could not be reproduced exactly")
	}
	ui.ClickNav("tr[data-symbol=XYZ] a")
	ui.WaitText("[data-testid=symbol-trades]", "Buy (automatic)")
	ui.WaitText("[data-testid=symbol-position] [data-stat=shares]", "10")
	ui.WaitText("[data-testid=symbol-position] [data-stat=last-price]", "$10.00")
	ui.Open("/symbols/ABC")
	ui.WaitText("[data-testid=symbol-trades] [data-col=total]", "$98.72")
	ui.WaitText("[data-testid=symbol-position] [data-stat=shares]", "8")
	ui.Screenshot("real-06-symbol")

	// More than a page of history: 50 summaries through the API as well.
	ctx := context.Background()
	accounts := workflows.NewAccounts(dev.Client)
	store := audit.NewStore(dev.DB)
	for range 50 {
		tx, err := store.NextTxNum(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := accounts.Execute(ctx, trading.Command{TxNum: tx, Name: trading.DisplaySummary, User: "alice"}); err != nil {
			t.Fatal(err)
		}
	}

	// History: newest first, with the trigger's execution, paged by 50.
	ui.Open("/history")
	ui.WaitText("[data-testid=history]", "DISPLAY_SUMMARY")
	ui.Screenshot("real-04-history")
	if older := browsertest.Eval[string](ui, "find the older page", `(document.querySelector("a[href*='before=']")||{}).href || ""`); older != "" {
		ui.Open(strings.TrimPrefix(older, dev.WebURL))
		ui.WaitText("[data-testid=history]", "SET_BUY_TRIGGER") // the execution's systemEvent
		ui.WaitText("[data-testid=history]", "ADD")
	} else {
		t.Error("the history has more than one page of records but no link to the older ones")
	}

	// DUMPLOG download of one's own history validates against logfile.xsd.
	xml := browsertest.Eval[string](ui, "download DUMPLOG", `fetch("/dumplog").then(r => r.ok ? r.text() : "HTTP " + r.status)`)
	dump := filepath.Join(t.TempDir(), "alice.xml")
	if err := os.WriteFile(dump, []byte(xml), 0o644); err != nil {
		t.Fatal(err)
	}
	xmllint(t, dump, filepath.Join(testenv.SharedDir(t), "spec", "logfile.xsd"))
	if !strings.Contains(xml, "<username>alice</username>") || strings.Contains(xml, admin) {
		t.Error("alice's DUMPLOG is not just alice's history")
	}

	// Security, from alice's logged-in browser.
	status := func(script string) string { return browsertest.Eval[string](ui, script, script) }
	if s := status(`fetch("/commands", {method: "POST", headers: {"Content-Type": "application/x-www-form-urlencoded"}, body: "command=ADD&amount=5"}).then(r => String(r.status))`); s != "403" {
		t.Errorf("a POST without the CSRF token got %s, want 403", s)
	}
	for _, path := range []string{"/admin/dumplog", "/admin/users/" + admin, "/api/accounts/" + admin + "/summary"} {
		if s := status(`fetch("` + path + `").then(r => String(r.status))`); s != "403" && s != "404" {
			t.Errorf("trader alice GET %s: %s, want 403", path, s)
		}
	}
	ui.WaitText("[data-testid=history]", "ADD") // still logged in, still alice

	// The administrator sees alice and a link to her workflow.
	bob := browsertest.New(t, dev.WebURL)
	bob.Open("/login")
	bob.Fill("#username", admin)
	bob.Fill("#password", "admin password")
	bob.ClickNav("form[action='/login'] button[type=submit]")
	bob.WaitText(".nav", "Administration")
	bob.Open("/admin")
	bob.WaitText("[data-testid=users]", "alice")
	bob.Screenshot("real-05-admin")
	gxml := browsertest.Eval[string](bob, "global DUMPLOG", `fetch("/admin/dumplog").then(r => r.ok ? r.text() : "HTTP " + r.status)`)
	gdump := filepath.Join(t.TempDir(), "all.xml")
	if err := os.WriteFile(gdump, []byte(gxml), 0o644); err != nil {
		t.Fatal(err)
	}
	xmllint(t, gdump, filepath.Join(testenv.SharedDir(t), "spec", "logfile.xsd"))
}

func register(ui *browsertest.Browser, user, password string) {
	ui.Fill("#username", user)
	ui.Fill("#password", password)
	ui.Fill("#confirm", password)
	ui.ClickNav("form[action='/register'] button[type=submit]")
	ui.WaitText("#summary", "no trading account yet")
}
