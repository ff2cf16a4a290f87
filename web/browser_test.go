package web

import (
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shopspring/decimal"

	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/internal/browsertest"
	"github.com/daytradinginc/daytrader/trading"
)

// TestBrowserTradeFlow is a trader's first session in a real browser:
// register, add funds, quote, buy, commit, see a refused input and a failed
// command, watch the page follow the account live (SSE and the pending-trade
// countdown), then the history and, as administrator, the admin page.
func TestBrowserTradeFlow(t *testing.T) {
	admin := uniqueUser("admin")
	ts := newTestServer(t, func(c *Config) { c.AdminUser, c.AdminPassword = admin, "admin password" })
	ui := browsertest.New(t, ts.URL)
	user := uniqueUser("trader")

	ui.Open("/register")
	ui.Screenshot("01-register")
	ui.Fill("#username", user)
	ui.Fill("#password", "correct horse")
	ui.Fill("#confirm", "correct horse")
	ui.ClickNav("form[action='/register'] button[type=submit]")
	ui.WaitText("#summary", "You have no trading account yet")
	ui.WaitText(".user-badge", user)

	ui.Fill("#add-amount", "1000")
	ui.Click("#form-add button")
	ui.WaitText("#result", "added $1,000.00")
	ui.WaitText("[data-testid=cash]", "$1,000.00")

	ui.Fill("#quote-symbol", "ABC")
	ui.Click("#form-quote button")
	ui.WaitText("#result", "ABC is $12.34")

	ui.Fill("#buy-symbol", "ABC")
	ui.Fill("#buy-amount", "100")
	ui.Click("#form-buy button")
	ui.WaitText("#result", "buy 8 ABC pending")
	ui.WaitText("[data-testid=pending-buys]", "ABC")
	if left := ui.Text("[data-testid=pending-buys] .countdown-text"); !regexp.MustCompile(`^[1-6]?[0-9] s$`).MatchString(left) {
		t.Errorf("pending buy countdown shows %q, want seconds left", left)
	}
	ui.Screenshot("02-pending-buy")

	ui.Click("#form-commit-buy button")
	ui.WaitText("#result", "bought 8 ABC")
	ui.WaitText("[data-testid=cash]", "$901.28") // 1000 - 8 × 12.34
	ui.WaitText("#holdings-title", "Holdings")
	ui.WaitGone("[data-testid=pending-buys]")

	// A business failure is reported in the result banner.
	ui.Click("#form-commit-buy button")
	ui.WaitText("#result", "COMMIT_BUY failed")
	ui.WaitText("#result", "no pending buy")

	// Input the browser would let through is still checked by the server:
	// with the form's own checks switched off, the error appears inline.
	browsertest.Eval[any](ui, "switch off client-side checks", `document.querySelector("#form-add").noValidate = true`)
	ui.Fill("#add-amount", "1.234")
	ui.Click("#form-add button")
	ui.WaitText("#form-add .form-error", "is not a dollar amount like 12 or 12.50")
	if inv := ui.Text("#form-add"); inv == "" {
		t.Error("the ADD form vanished after a refused input")
	}
	ui.Screenshot("03-dashboard")
	executed := len(ts.accounts.executedCommands())

	// Live: the account changes behind the page's back (a trigger executed)
	// and the audit store reports a write: the page follows without reload.
	select {
	case <-ts.audit.listening:
	case <-time.After(20 * time.Second):
		t.Fatal("the page never opened its event stream")
	}
	browsertest.Eval[any](ui, "mark the page", `window.notReloaded = true`)
	ts.accounts.update(user, func(s *trading.Summary) {
		s.Cash = decimal.RequireFromString("5000")
		s.PendingBuys = []trading.PendingView{{Symbol: "XYZ", Shares: 3, Price: decimal.NewFromInt(2), Total: decimal.NewFromInt(6),
			CreatedAt: time.Now().Add(-58 * time.Second), ExpiresAt: time.Now().Add(2 * time.Second)}}
	})
	ts.audit.write(user)
	ui.WaitText("[data-testid=cash]", "$5,000.00")
	ui.WaitText("[data-testid=pending-buys]", "XYZ")
	// The account drops the expired buy on its own timer; no audit write
	// says so, but the countdown reloads the summary when it runs out.
	ts.accounts.update(user, func(s *trading.Summary) { s.PendingBuys = nil })
	ui.WaitGone("[data-testid=pending-buys]")
	notReloaded, err := chromedp.Run(ui.Ctx, chromedp.Evaluate[bool](`window.notReloaded === true`))
	if err != nil || !notReloaded {
		t.Errorf("the page reloaded instead of updating in place (%v)", err)
	}
	if n := len(ts.accounts.executedCommands()); n != executed {
		t.Errorf("live updates executed %d commands", n-executed)
	}

	ts.audit.setPage(audit.HistoryPage{Events: []audit.StoredEvent{
		{ID: 3, Event: trading.Event{Type: trading.AccountTransactionEvent, Time: time.Now(), TxNum: 1000000004, Command: trading.CommitBuy,
			User: user, Action: "remove", Funds: decimal.NewNullDecimal(decimal.RequireFromString("98.72"))}},
		{ID: 2, Event: trading.Event{Type: trading.QuoteServerEvent, Time: time.Now(), TxNum: 1000000003, Command: trading.Buy,
			User: user, Symbol: "ABC", Price: decimal.NewNullDecimal(decimal.RequireFromString("12.34")), Cryptokey: "c2VjcmV0LWtleQ=="}},
		{ID: 1, Event: trading.Event{Type: trading.UserCommandEvent, Time: time.Now(), TxNum: 1000000001, Command: trading.Add,
			User: user, Funds: decimal.NewNullDecimal(decimal.NewFromInt(1000))}},
	}})
	ui.ClickNav(".nav a[href='/history']")
	ui.WaitText("[data-testid=history]", "COMMIT_BUY")
	ui.Screenshot("04-history")

	ui.ClickNav(".whoami button")
	ui.WaitText("#login-title", "Sign in")
	ui.Fill("#username", admin)
	ui.Fill("#password", "admin password")
	ui.ClickNav("form[action='/login'] button[type=submit]")
	ui.WaitText(".nav", "Administration")
	ui.ClickNav(".nav a[href='/admin']")
	ui.WaitText("[data-testid=users]", user)
	ui.Screenshot("05-admin")
	ui.ClickNav("a[href='/admin/users/" + user + "']")
	ui.WaitText("[data-testid=cash]", "$5,000.00")
	ui.Screenshot("06-admin-account")

	// The same pages on a phone.
	ui.Do("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
	ui.ClickNav(".nav a[href='/']")
	ui.WaitText("#card-funds", "Add funds")
	ui.Screenshot("07-phone-dashboard")
}
