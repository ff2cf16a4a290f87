package web

import (
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/daytradinginc/daytrader/internal/htmltest"
)

// cell is one table cell as a reader sees it: its text with spaces
// collapsed, and its class attribute.
type cell struct{ text, class string }

// tableRows parses an HTML page and returns the cells with a data-col
// attribute of every row carrying rowAttr, by the row's attribute value and
// the cell's data-col.
func tableRows(t *testing.T, page, rowAttr string) map[string]map[string]cell {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatalf("parsing the page: %v", err)
	}
	rows := map[string]map[string]cell{}
	var walk func(n *html.Node, row string)
	walk = func(n *html.Node, row string) {
		if n.Type == html.ElementNode {
			if n.Data == "tr" && attr(n, rowAttr) != "" {
				row = attr(n, rowAttr)
				rows[row] = map[string]cell{}
			}
			if col := attr(n, "data-col"); col != "" && row != "" {
				rows[row][col] = cell{text: strings.Join(strings.Fields(textOf(n)), " "), class: attr(n, "class")}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, row)
		}
	}
	walk(doc, "")
	return rows
}

// attr is htmltest.Attr under the name the web tests use.
var attr = htmltest.Attr

func textOf(n *html.Node) string {
	if n.Type == html.TextNode {
		return n.Data
	}
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		b.WriteString(textOf(c))
	}
	return b.String()
}
