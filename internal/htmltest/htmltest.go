// Package htmltest reads HTML pages in tests as a reader sees them:
// elements found by what they are, their attributes, and their text with
// white space collapsed.
package htmltest

import (
	"io"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// Parse parses a page, failing the test when it cannot.
func Parse(t testing.TB, r io.Reader) *html.Node {
	t.Helper()
	doc, err := html.Parse(r)
	if err != nil {
		t.Fatalf("parsing the page: %v", err)
	}
	return doc
}

// Find returns the elements under n (n included) that match, in document
// order.
func Find(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	if n.Type == html.ElementNode && match(n) {
		out = append(out, n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		out = append(out, Find(c, match)...)
	}
	return out
}

// Tag matches elements by name.
func Tag(name string) func(*html.Node) bool {
	return func(n *html.Node) bool { return n.Data == name }
}

// HasAttr matches elements whose attribute key is val ("" matches any
// element that has a non-empty key).
func HasAttr(key, val string) func(*html.Node) bool {
	return func(n *html.Node) bool {
		v := Attr(n, key)
		return v != "" && (val == "" || v == val)
	}
}

// ByID is the one element with that id; the test fails when there is not
// exactly one.
func ByID(t testing.TB, doc *html.Node, id string) *html.Node {
	t.Helper()
	found := Find(doc, HasAttr("id", id))
	if len(found) != 1 {
		t.Fatalf("%d elements with id %q", len(found), id)
	}
	return found[0]
}

// Attr is n's attribute key, or "".
func Attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// Text is n's text with white space collapsed to single spaces.
func Text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data + " ")
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

// Cells are the texts of a table row's cells (th and td), in order.
func Cells(row *html.Node) []string {
	var out []string
	for _, c := range Find(row, func(n *html.Node) bool { return n.Data == "td" || n.Data == "th" }) {
		out = append(out, Text(c))
	}
	return out
}
