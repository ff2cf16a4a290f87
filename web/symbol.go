package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/shopspring/decimal"

	"github.com/daytradinginc/daytrader/internal/portfolio"
	"github.com/daytradinginc/daytrader/trading"
)

// symbolData is the trader's page of one symbol: the position and its
// profit or loss, the prices the trader saw, and their trades in it.
type symbolData struct {
	Page    pageInfo
	Symbol  string
	Summary summaryView
	Holding trading.Holding // zero Shares and ReservedShares: none held now
	History portfolio.Symbol
	Error   string // the page cannot be shown: why
}

// symbolPage answers GET /symbols/{symbol}: 400 for what is not a symbol,
// 404 for a symbol the trader has neither quoted, traded nor held.
func (s *Server) symbolPage(w http.ResponseWriter, r *http.Request) {
	sym := chi.URLParam(r, "symbol")
	if !trading.ValidSymbol(sym) {
		s.renderPage(w, r, http.StatusBadRequest, symbolView(symbolData{Page: s.page(r, "Not a symbol", "dashboard"),
			Error: "That is not a stock symbol: a symbol is 1 to 3 upper-case letters, like ABC."}))
		return
	}
	d := symbolData{Page: s.page(r, sym, "dashboard"), Symbol: sym,
		Summary: s.loadSummary(r.Context(), sessionFrom(r.Context()).User)}
	for _, h := range d.Summary.Holdings {
		if h.Symbol == sym {
			d.Holding = h
		}
	}
	hist, seen := d.Summary.Charts.Symbols[sym]
	d.History = hist
	known := d.Summary.Unavailable || d.Summary.Charts.Unavailable // can't tell: show what there is
	if !seen && !known && d.Holding.Symbol == "" {
		d.Error = "You have not quoted or traded " + sym + " yet. Get a quote on the dashboard."
		s.renderPage(w, r, http.StatusNotFound, symbolView(d))
		return
	}
	s.renderPage(w, r, http.StatusOK, symbolView(d))
}

// tradesNewestFirst are the trades the page lists, most recent first.
func (d symbolData) tradesNewestFirst() []portfolio.Trade {
	out := slices.Clone(d.History.Trades)
	slices.Reverse(out)
	return out
}

func (d symbolData) realized() decimal.NullDecimal { return decimal.NewNullDecimal(d.History.Realized) }

// plTone colours a profit green and a loss red (plClass without "num").
func plTone(d decimal.NullDecimal) string {
	return strings.TrimSpace(strings.TrimPrefix(plClass(d), "num"))
}

func tradeSide(t portfolio.Trade) string {
	side := "Buy"
	if t.Side == trading.SellSide {
		side = "Sell"
	}
	if t.Auto {
		return side + " (automatic)"
	}
	return side
}
