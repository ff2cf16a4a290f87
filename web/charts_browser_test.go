package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/internal/browsertest"
	"github.com/daytradinginc/daytrader/internal/portfolio/portfoliotest"
)

// chartPoints reads a chart's point markers in the page: their values, and
// whether the browser laid them out left to right in time and higher for
// higher values (the markers are in time order).
const chartPoints = `((sel) => {
	const marks = [...document.querySelectorAll(sel + " circle")];
	const at = marks.map(c => c.getBoundingClientRect());
	const v = marks.map(c => Number(c.dataset.v));
	let ordered = true;
	for (let i = 1; i < marks.length; i++) {
		// Half a pixel of slack: a cent on a $600 axis is less than that.
		const up = v[i] >= v[i-1] ? at[i].y <= at[i-1].y + 0.5 : at[i].y >= at[i-1].y - 0.5;
		ordered = ordered && at[i].x > at[i-1].x && up;
	}
	const box = document.querySelector(sel + " svg").getBoundingClientRect();
	return {values: marks.map(c => c.dataset.v).join(" "), ordered, width: Math.round(box.width),
		overflow: document.documentElement.scrollWidth > window.innerWidth};
})`

type chartSeen struct {
	Values   string `json:"values"`
	Ordered  bool   `json:"ordered"`
	Width    int    `json:"width"`
	Overflow bool   `json:"overflow"`
}

func readChart(ui *browsertest.Browser, testid string) chartSeen {
	return browsertest.Eval[chartSeen](ui, "read the chart "+testid, chartPoints+`("[data-testid=`+testid+`]")`)
}

// TestBrowserCharts: a trader's known trade sequence (the trading rules
// with a shared quote cache, portfoliotest.KnownSequence) is in the real
// audit store; in Chromium the dashboard's portfolio chart shows its values
// in order, a new trade adds a point live, the holding's link opens the
// symbol page with its price chart and position, and both pages fit a
// phone's width. Screenshots: charts-*.png.
func TestBrowserCharts(t *testing.T) {
	store := audit.NewStore(testPool)
	ts := newTestServer(t, func(c *Config) { c.Audit = store })
	ui := browsertest.New(t, ts.URL)
	user := uniqueUser("charts")
	ui.Open("/register")
	ui.Fill("#username", user)
	ui.Fill("#password", "correct horse")
	ui.Fill("#confirm", "correct horse")
	ui.ClickNav("form[action='/register'] button[type=submit]")
	ui.WaitText(".user-badge", user)

	start := time.Date(2026, 2, 2, 9, 0, 0, 0, time.UTC)
	m, err := portfoliotest.KnownSequence(start, user, uniqueUser("other"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := store.Write(ctx, "charts", m.Records()); err != nil {
		t.Fatal(err)
	}
	ts.accounts.set(m.Account(user).Summary(start.Add(9 * time.Minute)))
	ui.Open("/")
	ui.WaitFor("the portfolio chart", `document.querySelectorAll("[data-testid=portfolio-chart] circle").length === 6`)
	got := readChart(ui, "portfolio-chart")
	if got.Values != "1000 1000.01 1020.01 1038.01 1538.01 1544.01" || !got.Ordered || got.Width < 350 {
		t.Errorf("portfolio chart in the browser: %+v", got)
	}
	ui.Screenshot("charts-01-dashboard")

	// A new trade: the audit write reaches the page over its event stream
	// and the chart gains the point without a reload.
	browsertest.Eval[any](ui, "mark the page", `window.notReloaded = true`)
	n := len(m.Records())
	if err := m.Script(start, "9m "+user+" ADD 100"); err != nil {
		t.Fatal(err)
	}
	ts.accounts.set(m.Account(user).Summary(start.Add(10 * time.Minute)))
	if err := store.Write(ctx, "charts", m.Records()[n:]); err != nil {
		t.Fatal(err)
	}
	ui.WaitFor("the new point", `document.querySelectorAll("[data-testid=portfolio-chart] circle").length === 7`)
	if got := readChart(ui, "portfolio-chart"); !strings.HasSuffix(got.Values, " 1544.01 1644.01") || !got.Ordered {
		t.Errorf("after ADD 100: %+v", got)
	}
	if !browsertest.Eval[bool](ui, "check the page was not reloaded", `window.notReloaded === true`) {
		t.Error("the page reloaded instead of updating live")
	}

	ui.ClickNav("tr[data-symbol=ABC] a[href='/symbols/ABC']")
	ui.WaitText("[data-testid=symbol-position]", "$16.00")
	got = readChart(ui, "price-chart")
	if got.Values != "10 12 15 16" || !got.Ordered {
		t.Errorf("ABC price chart in the browser: %+v", got)
	}
	ui.WaitText("[data-testid=symbol-trades]", "Sell")
	ui.Screenshot("charts-02-symbol")

	ui.Do("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
	for _, page := range []struct{ path, chart, shot string }{
		{"/", "portfolio-chart", "charts-03-phone-dashboard"},
		{"/symbols/ABC", "price-chart", "charts-04-phone-symbol"},
	} {
		ui.Open(page.path)
		got := readChart(ui, page.chart)
		if got.Overflow || got.Width > 390 || got.Width < 300 || !got.Ordered {
			t.Errorf("%s on a phone: %+v (want the chart 300-390 px wide, nothing wider than the screen)", page.path, got)
		}
		ui.Screenshot(page.shot)
	}
}
