package web

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/daytradinginc/daytrader/internal/browsertest"
)

// layoutBox is an element's place on the page (getBoundingClientRect plus
// the scroll, so boxes compare whatever the scroll position).
type layoutBox struct {
	Top    float64 `json:"top"`
	Bottom float64 `json:"bottom"`
	Left   float64 `json:"left"`
	Right  float64 `json:"right"`
}

func (a layoutBox) overlaps(b layoutBox) bool {
	return a.Top < b.Bottom && b.Top < a.Bottom && a.Left < b.Right && b.Left < a.Right
}

// dashboardBoxes measures the page title, the result banner, the summary
// cards and the holdings header.
func dashboardBoxes(ui *browsertest.Browser) map[string]layoutBox {
	return browsertest.Eval[map[string]layoutBox](ui, "measure the dashboard", `(() => {
		const box = sel => { const r = document.querySelector(sel).getBoundingClientRect();
			return {top: r.top + scrollY, bottom: r.bottom + scrollY, left: r.left + scrollX, right: r.right + scrollX}; };
		return {title: box("h1.page-title"), banner: box("#result"), cards: box("#summary .stats"), holdings: box("#holdings-title")};
	})()`)
}

// maxGap is the widest gap the dashboard leaves between the blocks of one
// column: the grid's 1.25rem, with a pixel for rounding.
const maxGap = 1.25*16 + 1

// wantBannerInPlace: the result banner sits between the page title and the
// summary cards, with no more than the normal gap on either side, and
// covers neither the cards nor the holdings header.
func wantBannerInPlace(t *testing.T, ui *browsertest.Browser, when string) {
	t.Helper()
	b := dashboardBoxes(ui)
	banner, cards := b["banner"], b["cards"]
	if banner.overlaps(b["holdings"]) || banner.overlaps(cards) {
		t.Errorf("%s: the result banner %+v covers the holdings header %+v or the cards %+v", when, banner, b["holdings"], cards)
	}
	if gap := banner.Top - b["title"].Bottom; gap < 0 || gap > maxGap {
		t.Errorf("%s: %.0f px between the title and the banner, want 0 to %.0f", when, gap, maxGap)
	}
	if gap := cards.Top - banner.Bottom; gap < 0 || gap > maxGap {
		t.Errorf("%s: an empty band of %.0f px above the summary cards (banner %+v, cards %+v), want at most %.0f",
			when, gap, banner, cards, maxGap)
	}
}

// TestBrowserResultBannerKeepsItsPlace: after a BUY is committed the
// result banner used to stick to the top of the window (position: sticky)
// and, with the page scrolled down to the holdings, covered their header
// and left an empty band where it belonged above the summary cards (the
// real-stack screenshot real-03). Measured with the browser's real
// geometry, on a desktop window and a phone.
func TestBrowserResultBannerKeepsItsPlace(t *testing.T) {
	ts := newTestServer(t)
	ui := browsertest.New(t, ts.URL)
	ui.SignUp(uniqueUser("banner"), "correct horse")
	ui.Command("add", "added $1,000.00", "amount", "1000")
	ui.Command("buy", "buy 8 ABC pending", "symbol", "ABC", "amount", "100")
	ui.Command("commit-buy", "bought 8 ABC")
	ui.WaitText("#holdings-title", "Holdings")
	// The form repeats the outcome under its button, the only form that does.
	// (The older forms' lines go once HTMX has settled the new form.)
	ui.WaitText("#form-commit-buy .form-outcome", "bought 8 ABC")
	ui.WaitFor("the older forms' outcome lines to go", `document.querySelectorAll(".form-outcome").length === 1`)
	wantBannerInPlace(t, ui, "at the top of the page")

	for _, size := range []struct {
		name          string
		width, height int64
	}{{"desktop", 1280, 1000}, {"phone", 390, 844}} {
		ui.Do("resize to "+size.name, chromedp.EmulateViewport(size.width, size.height))
		// A trader scrolls down to the holdings (or a lower form's button
		// scrolls the page there).
		browsertest.Eval[any](ui, "scroll to the holdings", `document.getElementById("holdings-title").scrollIntoView({block: "start"})`)
		ui.Screenshot(fmt.Sprintf("banner-%s-scrolled", size.name))
		wantBannerInPlace(t, ui, size.name+", scrolled to the holdings")
	}
}
