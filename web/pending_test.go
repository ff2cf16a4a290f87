package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/daytradinginc/daytrader/internal/htmltest"
)

// TestCommandFormsShowAPendingState: while a command's update runs (which
// under a bulk workload can take a while) every command form disables its
// button and shows its own "Sending…" indicator, on the dashboard and in
// the form a command's answer swaps in; the stylesheet shows the indicator
// only during the request (HTMX's own indicator styles are off).
func TestCommandFormsShowAPendingState(t *testing.T) {
	ts := newTestServer(t)
	b := ts.registered(t, uniqueUser("pending"))
	page := b.get("/")
	wantStatus(t, page, http.StatusOK)
	want := 0
	for _, c := range commandCards {
		want += len(c.Forms)
	}
	if n := checkPendingForms(t, page.body); n != want {
		t.Errorf("the dashboard has %d command forms, want %d", n, want)
	}
	answer := b.htmxPost("/commands", url.Values{"command": {"QUOTE"}, "symbol": {"ABC"}})
	wantStatus(t, answer, http.StatusOK)
	if n := checkPendingForms(t, answer.body); n != 1 {
		t.Errorf("the command's answer has %d command forms, want 1", n)
	}
	css := b.get("/static/app.css")
	wantContains(t, css, ".cmd-pending { display: none;", ".cmd-pending.htmx-request { display: inline-block; }")
}

// checkPendingForms checks every form posting to /commands in page and
// returns how many there are.
func checkPendingForms(t *testing.T, page string) int {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	forms := 0
	for _, f := range findAll(doc, func(n *html.Node) bool { return n.Data == "form" && attr(n, "hx-post") == "/commands" }) {
		forms++
		id := attr(f, "id")
		if !strings.Contains(attr(f, "hx-disabled-elt"), "button") {
			t.Errorf("form %s: hx-disabled-elt %q does not disable its button", id, attr(f, "hx-disabled-elt"))
		}
		sel := attr(f, "hx-indicator")
		ind := findAll(f, func(n *html.Node) bool { return sel != "" && "#"+attr(n, "id") == sel })
		if len(ind) != 1 {
			t.Errorf("form %s: hx-indicator %q names no element of the form", id, sel)
			continue
		}
		if c := attr(ind[0], "class"); !strings.Contains(c, "htmx-indicator") || !strings.Contains(c, "cmd-pending") {
			t.Errorf("form %s: indicator class %q", id, c)
		}
		if txt := textOf(ind[0]); !strings.Contains(txt, "Sending") {
			t.Errorf("form %s: indicator says %q, want Sending…", id, txt)
		}
	}
	return forms
}

// findAll is htmltest.Find under the name the web tests use.
var findAll = htmltest.Find
