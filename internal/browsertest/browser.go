// Package browsertest drives a real headless Chromium for the web UI's
// end-to-end tests: open pages, fill and submit forms, wait for text, run
// JavaScript in the page, save screenshots as test artifacts.
package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// Browser is one Chromium with a fresh profile (so its own cookies).
type Browser struct {
	t         testing.TB
	Ctx       context.Context
	Base      string
	Artifacts string
	// Wait bounds every wait for text or a condition.
	Wait time.Duration

	pages int // ClickNav's marks, one per navigation
}

// ChromiumPath finds the browser: $CHROMIUM, /usr/bin/chromium, or
// chromium on the PATH ("" when there is none).
func ChromiumPath() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// New starts Chromium for t against the web server at base. The test fails
// when there is no Chromium: scripts/deps.sh installs it.
func New(t testing.TB, base string) *Browser {
	t.Helper()
	path := ChromiumPath()
	if path == "" {
		t.Fatal("no Chromium: run scripts/deps.sh (apt-get install -y chromium) or set CHROMIUM")
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
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	// The first run starts the browser and must carry no deadline.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	dir := os.Getenv("ARTIFACTS_DIR")
	if dir == "" {
		dir = "artifacts"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return &Browser{t: t, Ctx: ctx, Base: base, Artifacts: dir, Wait: 20 * time.Second}
}

// Do runs actions with a deadline, failing the test with the step's name.
func (b *Browser) Do(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %s: %v", step, err)
	}
}

// Open navigates to path on the server.
func (b *Browser) Open(path string) {
	b.t.Helper()
	b.Do("open "+path, chromedp.Navigate(b.Base+path), chromedp.WaitReady(chromedp.CSS("body")))
}

// EmulateZone makes the page run in time zone zone (an IANA name such as
// "Asia/Kolkata") with locale (ICU style, e.g. "en_US"), whatever the
// machine's own; it holds for the pages opened after it.
func (b *Browser) EmulateZone(zone, locale string) {
	b.t.Helper()
	b.Do("emulate time zone "+zone+" and locale "+locale, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: zone}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, emulation.SetLocaleOverride, emulation.SetLocaleOverrideParams{Locale: locale})
		return err
	}))
}

// SignUp registers user on the web UI's registration page and waits for
// the new trader's empty dashboard.
func (b *Browser) SignUp(user, password string) {
	b.t.Helper()
	b.Open("/register")
	b.Fill("#username", user)
	b.Fill("#password", password)
	b.Fill("#confirm", password)
	b.ClickNav("form[action='/register'] button[type=submit]")
	b.WaitText("#summary", "no trading account yet")
}

// SignIn signs user in on the web UI's sign-in page and waits for the
// dashboard that names them.
func (b *Browser) SignIn(user, password string) {
	b.t.Helper()
	b.Open("/login")
	b.Fill("#username", user)
	b.Fill("#password", password)
	b.ClickNav("form[action='/login'] button[type=submit]")
	b.WaitText(".user-badge", user)
}

// Command sends a command from the dashboard's form for it, named as its
// id without "form-" ("add", "buy", "commit-sell"): fields are input name
// and value pairs ("symbol", "ABC", "amount", "100"); it waits until the
// result banner contains want.
func (b *Browser) Command(form, want string, fields ...string) {
	b.t.Helper()
	for i := 0; i+1 < len(fields); i += 2 {
		b.Fill("#"+form+"-"+fields[i], fields[i+1])
	}
	b.Click("#form-" + form + " button")
	b.WaitText("#result", want)
}

// Fill replaces the value of the input sel.
func (b *Browser) Fill(sel, value string) {
	b.t.Helper()
	b.WaitFor("HTMX to settle before filling "+sel, settled)
	Eval[any](b, "clear "+sel, `document.querySelector(`+js(sel)+`).value = ""`)
	b.Do("fill "+sel, chromedp.SendKeys(chromedp.CSS(sel), value))
}

// Click clicks the element sel once HTMX has settled (see settled). For a
// click that loads another page (a link, a form posted without htmx) use
// ClickNav.
func (b *Browser) Click(sel string) {
	b.t.Helper()
	b.WaitFor("HTMX to settle before clicking "+sel, settled)
	b.Do("click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// ClickNav clicks sel, which loads a new page (a link, or a form posted
// without htmx, redirects included), and returns once the new document has
// replaced the old one and finished loading. Without it the next step races
// the navigation: it may read the page being left, or screenshot a document
// that is not laid out yet.
func (b *Browser) ClickNav(sel string) {
	b.t.Helper()
	b.pages++
	mark := fmt.Sprint(b.pages)
	Eval[any](b, "mark the page before clicking "+sel, `window.__browsertestPage = `+mark)
	b.Click(sel)
	b.WaitFor("a new page to load after clicking "+sel,
		`window.__browsertestPage !== `+mark+` && document.readyState === "complete"`)
}

// Eval evaluates JavaScript in the page (awaiting a promise it returns).
func Eval[T any](b *Browser, step, script string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](script, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("browser: %s: %v", step, err)
	}
	return v
}

// WaitFor polls until the JavaScript expression cond is true (it survives
// navigations, unlike one long in-page wait).
func (b *Browser) WaitFor(what, cond string) {
	b.t.Helper()
	deadline := time.Now().Add(b.Wait)
	var lastErr error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.Ctx, 5*time.Second)
		var ok bool
		ok, lastErr = chromedp.Run(ctx, chromedp.Evaluate[bool](cond))
		cancel()
		if lastErr == nil && ok {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.saveScreenshot("failed-wait") // best effort: the page may be the problem
	b.t.Fatalf("browser: waiting for %s: gave up after %s (last error: %v); see failed-wait.png", what, b.Wait, lastErr)
}

// settled holds while HTMX swaps or settles no content. Its settle step,
// some 20 ms after a swap that a wait for the swapped text already sees,
// focuses a swapped-in [autofocus] field (a form's error): a Fill typing
// into another field meanwhile would lose the rest of its keys to it. It
// is also when HTMX takes over the swapped-in form (its hx-post): a Click
// on its button before then got no result. TestBrowserTradeFlow clicks its
// second COMMIT_BUY right after the first one's form came back; without
// the wait in Click it failed there 1 run in 10 (-count=10), with it 0 in
// 20.
const settled = `document.querySelector(".htmx-swapping, .htmx-settling") === null`

// WaitText waits until the text of sel contains want.
func (b *Browser) WaitText(sel, want string) {
	b.t.Helper()
	b.WaitFor(sel+" to contain "+want, `(() => { const el = document.querySelector(`+js(sel)+`); return !!el && el.textContent.includes(`+js(want)+`); })()`)
}

// WaitGone waits until nothing matches sel.
func (b *Browser) WaitGone(sel string) {
	b.t.Helper()
	b.WaitFor(sel+" to go away", `document.querySelector(`+js(sel)+`) === null`)
}

// Text is the text content of sel ("" when absent).
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	s := Eval[string](b, "read "+sel, `(() => { const el = document.querySelector(`+js(sel)+`); return el ? el.textContent : ""; })()`)
	return strings.TrimSpace(s)
}

// laidOut holds once the document has loaded and has a size: a full-page
// screenshot of a document still being replaced or not yet laid out fails
// with "Cannot take screenshot with 0 width".
const laidOut = `document.readyState === "complete" && document.documentElement.getBoundingClientRect().width > 0 && document.documentElement.getBoundingClientRect().height > 0`

// Screenshot saves the whole page as <artifacts>/<name>.png once the page is
// loaded and laid out (two animation frames after that, so the last change
// is painted), and fails the test when it cannot.
func (b *Browser) Screenshot(name string) {
	b.t.Helper()
	b.WaitFor("the page to be laid out for screenshot "+name, laidOut)
	Eval[bool](b, "wait for paint before screenshot "+name,
		`new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => done(true))))`)
	if err := b.saveScreenshot(name); err != nil {
		b.t.Fatalf("browser: screenshot %s: %v", name, err)
	}
}

// saveScreenshot captures the whole page into <artifacts>/<name>.png.
func (b *Browser) saveScreenshot(name string) error {
	ctx, cancel := context.WithTimeout(b.Ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100 = PNG
	if err != nil {
		return err
	}
	path := filepath.Join(b.Artifacts, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		return err
	}
	b.t.Logf("screenshot %s", path)
	return nil
}

func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
