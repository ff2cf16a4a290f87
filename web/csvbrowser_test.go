package web

import (
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/internal/browsertest"
)

// shownRecord is one row of the History table as the browser shows it.
type shownRecord struct {
	Type     string   `json:"type"`
	Datetime string   `json:"datetime"`
	Cells    []string `json:"cells"` // time, tx, type, command, symbol, funds, price, details
}

// historyRows reads the History table's rows from the page.
func historyRows(ui *browsertest.Browser) []shownRecord {
	return browsertest.Eval[[]shownRecord](ui, "read the history table",
		`Array.from(document.querySelectorAll("[data-testid=history] tbody tr")).map(tr => ({
			type: tr.className.replace(/^type-/, ""),
			datetime: tr.querySelector("time").getAttribute("datetime"),
			cells: Array.from(tr.cells).map(c => c.textContent.trim()),
		}))`)
}

// TestBrowserCSVMatchesHistory: in Chromium, the History page filtered
// with its own form (record type and a date range), read page after page
// through "Older →", shows exactly the rows its "Export CSV" link
// downloads, in the same order.
func TestBrowserCSVMatchesHistory(t *testing.T) {
	store := audit.NewStore(testPool)
	ts := newTestServer(t, func(c *Config) { c.Audit = store })
	ui := browsertest.New(t, ts.URL)
	alice := uniqueUser("alice")
	ui.SignUp(alice, "correct horse")
	at := time.Date(2026, 3, 2, 14, 30, 0, 123_000_000, time.UTC)
	writeHistory(t, store, alice, at, 130)
	writeHistory(t, store, uniqueUser("bob"), at, 5)

	ui.ClickNav(".nav a[href='/history']")
	browsertest.Eval[any](ui, "choose the filters", `(() => {
		document.querySelector("#f-type").value = "userCommand";
		document.querySelector("#f-from").value = "2026-03-02";
		document.querySelector("#f-to").value = "2026-03-02";
	})()`)
	ui.ClickNav("form.filters button[type=submit]")
	ui.Screenshot("csv-01-history-filtered")
	link := browsertest.Eval[string](ui, "read the export link", `document.querySelector("[data-testid=csv-link]").getAttribute("href")`)
	if link != "/history.csv?from=2026-03-02&to=2026-03-02&type=userCommand" {
		t.Errorf("the export link is %q, want the page's filters", link)
	}
	body := browsertest.Eval[string](ui, "download the CSV", `fetch(document.querySelector("[data-testid=csv-link]").href).then(r => r.ok ? r.text() : "HTTP " + r.status)`)

	var shown []shownRecord
	for pages := 1; ; pages++ {
		shown = append(shown, historyRows(ui)...)
		if !browsertest.Eval[bool](ui, "look for an older page", `!!document.querySelector("a[rel=next]")`) {
			if pages != 2 {
				t.Errorf("the filtered history took %d pages, want 2 (52 records, 50 a page)", pages)
			}
			break
		}
		ui.ClickNav("a[rel=next]")
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(rows) == 0 {
		t.Fatalf("the export is not CSV (%v): %.200q", err, body)
	}
	rows = rows[1:]
	if len(shown) != 52 || len(rows) != len(shown) {
		t.Fatalf("the History pages show %d records, the CSV has %d; want 52 (every userCommand record)", len(shown), len(rows))
	}
	for i, row := range rows {
		if msg := sameRecord(shown[i], row); msg != "" {
			t.Errorf("record %d: %s\n  page: %q\n  CSV:  %q", i, msg, shown[i], row)
		}
	}
}

// sameRecord says how a History row and a CSV row differ ("" when they
// show the same record): the instant (the page's to the millisecond), the
// transaction, type, command, symbol, the amounts as numbers ($1,234.50 on
// the page, 1234.5 in the CSV) and the details.
func sameRecord(page shownRecord, row []string) string {
	shownAt, err1 := time.Parse(time.RFC3339, page.Datetime)
	csvAt, err2 := time.Parse(time.RFC3339Nano, row[0])
	switch {
	case err1 != nil || err2 != nil || !shownAt.Equal(csvAt.Truncate(time.Millisecond)):
		return "different times"
	case page.Cells[1] != row[1] || page.Type != row[2] || page.Cells[3] != row[3] || page.Cells[4] != row[4]:
		return "different tx, type, command or symbol"
	case !sameAmount(page.Cells[5], row[5]) || !sameAmount(page.Cells[6], row[6]):
		return "different funds or price"
	case page.Cells[7] != row[7]:
		return "different details"
	}
	return ""
}

func sameAmount(shown, exported string) bool {
	if shown == "" || exported == "" {
		return shown == exported
	}
	a, err1 := decimal.NewFromString(strings.NewReplacer("$", "", ",", "").Replace(shown))
	b, err2 := decimal.NewFromString(exported)
	return err1 == nil && err2 == nil && a.Equal(b)
}
