package browsertest

import (
	"bytes"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// slowSite serves /a, a page with a link to /b, and /b, a page whose head
// and first paragraph arrive at once and whose end arrives 500 ms later, the
// way a slow server or a busy machine delivers it. Between the two the new
// document exists but is still loading: the window in which the flaky
// browser tests read the old page or screenshot an unfinished one.
func slowSite(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/a", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><title>a</title><p id="t">old</p><a id="go" href="/b">next</a>`)
	})
	mux.HandleFunc("/b", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><title>b</title><p id="t">new</p>`)
		w.(http.Flusher).Flush()
		time.Sleep(500 * time.Millisecond)
		fmt.Fprint(w, `<p id="done">loaded</p>`)
	})
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts
}

func newTestBrowser(t *testing.T, base string) *Browser {
	t.Setenv("ARTIFACTS_DIR", t.TempDir())
	return New(t, base)
}

// ClickNav returns only once the new page has replaced the old one: the
// next read sees the new page, never the one being left.
func TestClickNavWaitsForTheNewPage(t *testing.T) {
	b := newTestBrowser(t, slowSite(t).URL)
	b.Open("/a")
	b.ClickNav("#go")
	if got := b.Text("#t"); got != "new" {
		t.Errorf("after ClickNav the page says %q, want the new page's %q", got, "new")
	}
	if got := b.Text("#done"); got != "loaded" {
		t.Errorf("ClickNav returned before the new page finished loading (#done = %q)", got)
	}
}

// Screenshot waits for a loaded, laid-out page, even when the text a test
// waited for is already there while the rest of the page is still loading.
func TestScreenshotWaitsForALoadedPage(t *testing.T) {
	b := newTestBrowser(t, slowSite(t).URL)
	b.Open("/a")
	b.Click("#go")
	b.WaitText("#t", "new")
	b.Screenshot("slow-page")
	if got := b.Text("#done"); got != "loaded" {
		t.Errorf("the screenshot was taken before the page finished loading (#done = %q)", got)
	}
	data, err := os.ReadFile(filepath.Join(b.Artifacts, "slow-page.png"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the screenshot is not a PNG: %v", err)
	}
	if size := img.Bounds().Size(); size.X < 100 || size.Y < 100 {
		t.Errorf("the screenshot is %v, want a whole page", size)
	}
}
