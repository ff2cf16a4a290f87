package web

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shopspring/decimal"

	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/trading"
)

// uiBrowser drives a headless Chromium (a fresh profile each time) against
// a running web server at base. It is independent of what stands behind the
// server, so the same steps run against the fakes here and against the real
// stack.
type uiBrowser struct {
	t         *testing.T
	ctx       context.Context
	base      string
	artifacts string
}

// chromiumPath finds the browser: $CHROMIUM, /usr/bin/chromium, or chromium
// on the PATH.
func chromiumPath() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	p, _ := exec.LookPath("chromium")
	return p
}

// artifactsDir is where screenshots go: $ARTIFACTS_DIR, or ./artifacts
// (ignored by git).
func artifactsDir(t *testing.T) string {
	dir := os.Getenv("ARTIFACTS_DIR")
	if dir == "" {
		dir = "artifacts"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("creating the artifacts directory: %v", err)
	}
	return dir
}

func newUIBrowser(t *testing.T, base string) *uiBrowser {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		t.Skip("browser test: no Chromium found (set CHROMIUM or install the chromium package)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	// The first Run starts the browser; it must not carry a timeout (that
	// would stop the whole browser), so steps get their own deadlines below.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return &uiBrowser{t: t, ctx: ctx, base: base, artifacts: artifactsDir(t)}
}

// do runs steps with a deadline and fails the test, naming the step, if
// they fail.
func (b *uiBrowser) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %s: %v", step, err)
	}
}

func (b *uiBrowser) open(path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.base+path), chromedp.WaitReady(chromedp.CSS("body")))
}

// fill types value into the input sel (replacing what it holds).
func (b *uiBrowser) fill(sel, value string) {
	b.t.Helper()
	selJS, _ := json.Marshal(sel)
	b.eval("clear "+sel, `document.querySelector(`+string(selJS)+`).value = ""`)
	b.do("fill "+sel, chromedp.SendKeys(chromedp.CSS(sel), value))
}

func (b *uiBrowser) click(sel string) {
	b.t.Helper()
	b.do("click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// waitFor waits until the JavaScript expression cond is true. It polls
// rather than using one long in-page wait, so it lives through navigations.
func (b *uiBrowser) waitFor(what, cond string) {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var lastErr error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond))
		cancel()
		if err == nil && ok {
			return
		}
		lastErr = err
		time.Sleep(100 * time.Millisecond)
	}
	b.t.Fatalf("browser: waiting for %s: gave up (last error: %v)", what, lastErr)
}

// waitText waits until the text of the element sel contains want.
func (b *uiBrowser) waitText(sel, want string) {
	b.t.Helper()
	selJS, _ := json.Marshal(sel)
	wantJS, _ := json.Marshal(want)
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const el = document.querySelector(`+string(selJS)+`); return el ? el.textContent : "(no element)"; })()`))
		cancel()
		if err == nil && strings.Contains(got, want) {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("browser: waiting for %s to contain %s: it holds %q (last error: %v)", sel, wantJS, got, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitGone waits until no element matches sel.
func (b *uiBrowser) waitGone(sel string) {
	b.t.Helper()
	selJS, _ := json.Marshal(sel)
	b.waitFor(sel+" to go away", `document.querySelector(`+string(selJS)+`) === null`)
}

func (b *uiBrowser) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("browser: reading %s: %v", sel, err)
	}
	return s
}

func (b *uiBrowser) eval(step, js string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](js)); err != nil {
		b.t.Fatalf("browser: %s: %v", step, err)
	}
}

// screenshot saves the whole page as <artifacts>/<name>.png.
func (b *uiBrowser) screenshot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("browser: screenshot %s: %v", name, err)
	}
	path := filepath.Join(b.artifacts, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot %s", path)
}

// TestBrowserTradeFlow is a trader's first session in a real browser:
// register, add funds, quote, buy, commit, see a refused input and a failed
// command, watch the page follow the account live (SSE and the pending-trade
// countdown), then the history and, as administrator, the admin page.
func TestBrowserTradeFlow(t *testing.T) {
	admin := uniqueUser("admin")
	ts := newTestServer(t, func(c *Config) { c.AdminUser, c.AdminPassword = admin, "admin password" })
	ui := newUIBrowser(t, ts.URL)
	user := uniqueUser("trader")

	ui.open("/register")
	ui.screenshot("01-register")
	ui.fill("#username", user)
	ui.fill("#password", "correct horse")
	ui.fill("#confirm", "correct horse")
	ui.click("form[action='/register'] button[type=submit]")
	ui.waitText("#summary", "You have no trading account yet")
	ui.waitText(".user-badge", user)

	ui.fill("#add-amount", "1000")
	ui.click("#form-add button")
	ui.waitText("#result", "added $1,000.00")
	ui.waitText("[data-testid=cash]", "$1,000.00")

	ui.fill("#quote-symbol", "ABC")
	ui.click("#form-quote button")
	ui.waitText("#result", "ABC is $12.34")

	ui.fill("#buy-symbol", "ABC")
	ui.fill("#buy-amount", "100")
	ui.click("#form-buy button")
	ui.waitText("#result", "buy 8 ABC pending")
	ui.waitText("[data-testid=pending-buys]", "ABC")
	if left := ui.text("[data-testid=pending-buys] .countdown-text"); !regexp.MustCompile(`^[1-6]?[0-9] s$`).MatchString(left) {
		t.Errorf("pending buy countdown shows %q, want seconds left", left)
	}
	ui.screenshot("02-pending-buy")

	ui.click("#form-commit-buy button")
	ui.waitText("#result", "bought 8 ABC")
	ui.waitText("[data-testid=cash]", "$901.28") // 1000 - 8 × 12.34
	ui.waitText("#holdings-title", "Holdings")
	ui.waitGone("[data-testid=pending-buys]")

	// A business failure is reported in the result banner.
	ui.click("#form-commit-buy button")
	ui.waitText("#result", "COMMIT_BUY failed")
	ui.waitText("#result", "no pending buy")

	// Input the browser would let through is still checked by the server:
	// with the form's own checks switched off, the error appears inline.
	ui.eval("switch off client-side checks", `document.querySelector("#form-add").noValidate = true`)
	ui.fill("#add-amount", "1.234")
	ui.click("#form-add button")
	ui.waitText("#form-add .form-error", "is not a dollar amount like 12 or 12.50")
	if inv := ui.text("#form-add"); inv == "" {
		t.Error("the ADD form vanished after a refused input")
	}
	ui.screenshot("03-dashboard")
	executed := len(ts.accounts.executedCommands())

	// Live: the account changes behind the page's back (a trigger executed)
	// and the audit store reports a write: the page follows without reload.
	select {
	case <-ts.audit.listening:
	case <-time.After(20 * time.Second):
		t.Fatal("the page never opened its event stream")
	}
	ui.eval("mark the page", `window.notReloaded = true`)
	ts.accounts.update(user, func(s *trading.Summary) {
		s.Cash = decimal.RequireFromString("5000")
		s.PendingBuys = []trading.PendingView{{Symbol: "XYZ", Shares: 3, Price: decimal.NewFromInt(2), Total: decimal.NewFromInt(6),
			CreatedAt: time.Now().Add(-58 * time.Second), ExpiresAt: time.Now().Add(2 * time.Second)}}
	})
	ts.audit.write(user)
	ui.waitText("[data-testid=cash]", "$5,000.00")
	ui.waitText("[data-testid=pending-buys]", "XYZ")
	// The account drops the expired buy on its own timer; no audit write
	// says so, but the countdown reloads the summary when it runs out.
	ts.accounts.update(user, func(s *trading.Summary) { s.PendingBuys = nil })
	ui.waitGone("[data-testid=pending-buys]")
	notReloaded, err := chromedp.Run(ui.ctx, chromedp.Evaluate[bool](`window.notReloaded === true`))
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
	ui.click(".nav a[href='/history']")
	ui.waitText("[data-testid=history]", "COMMIT_BUY")
	ui.screenshot("04-history")

	ui.click(".whoami button")
	ui.waitText("#login-title", "Sign in")
	ui.fill("#username", admin)
	ui.fill("#password", "admin password")
	ui.click("form[action='/login'] button[type=submit]")
	ui.waitText(".nav", "Administration")
	ui.click(".nav a[href='/admin']")
	ui.waitText("[data-testid=users]", user)
	ui.screenshot("05-admin")
	ui.click("a[href='/admin/users/" + user + "']")
	ui.waitText("[data-testid=cash]", "$5,000.00")
	ui.screenshot("06-admin-account")

	// The same pages on a phone.
	ui.do("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
	ui.click(".nav a[href='/']")
	ui.waitText("#card-funds", "Add funds")
	ui.screenshot("07-phone-dashboard")
}
