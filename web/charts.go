package web

import (
	"context"
	"net/url"
	"time"

	"github.com/shopspring/decimal"

	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/internal/portfolio"
	"github.com/daytradinginc/daytrader/internal/svgchart"
)

// accountCharts are an account's charts, rebuilt from its audit history
// (internal/portfolio): the portfolio's value over time and the prices the
// trader saw of each symbol.
type accountCharts struct {
	portfolio.History
	Unavailable bool // the history could not be read
}

// loadCharts replays user's audit history. It reads the history once, row
// by row, and keeps only bounded series, so a long history costs time but
// not memory.
func (s *Server) loadCharts(ctx context.Context, user string) accountCharts {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	replay := portfolio.New(user, portfolio.Options{})
	err := s.cfg.Audit.EachPricedEvent(ctx, user, func(e audit.PricedEvent) error {
		replay.Add(e)
		return nil
	})
	if err != nil {
		s.log.ErrorContext(ctx, "reading the history for the charts", "user", user, "err", err)
		return accountCharts{Unavailable: true}
	}
	h := replay.History()
	if h.Unmatched > 0 {
		s.log.WarnContext(ctx, "charts: commands the replay could not reproduce", "user", user, "unmatched", h.Unmatched)
	}
	return accountCharts{History: h}
}

// cent is the finest step of a money axis.
var cent = decimal.New(1, -2)

// The charts' viewBox width and label size: one drawing for every screen,
// shown at most 32rem wide (app.css), so its labels are about 11 px on a
// phone and 16 px on a desktop.
const (
	chartWidth = 400
	chartFont  = 14
)

// valueChart is the dashboard's chart of the portfolio's value.
func (c accountCharts) valueChart() svgchart.Line {
	return svgchart.Line{
		ID: "portfolio-chart", Title: "Portfolio value over time",
		Points: c.Value, Format: svgchart.Dollars, MinStep: cent,
		Empty: "No history yet: add funds to start", Width: chartWidth, Height: 220, FontSize: chartFont,
	}
}

// priceChart is the symbol page's chart of the prices the trader saw.
func (c accountCharts) priceChart(sym string) svgchart.Line {
	return svgchart.Line{
		ID: "price-chart", Title: sym + " price (quotes you received)",
		Points: c.Symbols[sym].Prices, Format: svgchart.Dollars, MinStep: cent,
		Empty: "No quotes of " + sym + " yet", Width: chartWidth, Height: 240, FontSize: chartFont,
	}
}

// sparkline is a holding's price trend in the holdings table.
func (c accountCharts) sparkline(sym string) svgchart.Sparkline {
	return svgchart.Sparkline{Label: sym + " price", Points: c.Symbols[sym].Prices, Format: svgchart.Dollars, Width: 64, Height: 22}
}

// symbolPath is the trader's page of sym (a valid symbol: letters only).
func symbolPath(sym string) string { return "/symbols/" + url.PathEscape(sym) }
