package web

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/trading"
	"github.com/shopspring/decimal"
)

// historyPageSize is how many audit records one history page shows.
const historyPageSize = 50

// historyFilter is the history form as typed, kept to fill the form again
// and to carry the filters into the "older" link.
type historyFilter struct {
	Command string
	Type    string
	From    string // YYYY-MM-DD, UTC
	To      string // YYYY-MM-DD, UTC, inclusive
}

func (f historyFilter) active() bool {
	return f.Command != "" || f.Type != "" || f.From != "" || f.To != ""
}

// historyData is the history page of one user (the trader's own, or any
// user's for an administrator).
type historyData struct {
	Page         pageInfo
	Subject      string // whose history
	AdminView    bool   // an administrator looking at Subject
	BasePath     string // where the filter form and paging links go
	DumpPath     string
	CSVPath      string // the CSV export; the page's filters are added to it
	TemporalLink string
	Summary      *summaryView // shown on the admin view
	Login        *adminLogin  // the admin view's web-login section
	Filter       historyFilter
	Events       []audit.StoredEvent
	OlderLink    string
	Paged        bool // this is not the newest page
	Error        string
}

var eventTypes = []trading.EventType{
	trading.UserCommandEvent, trading.QuoteServerEvent, trading.AccountTransactionEvent,
	trading.SystemEvent, trading.ErrorEvent, trading.DebugEvent,
}

// historyCommands are the commands the filter offers.
var historyCommands = []trading.CommandName{
	trading.Add, trading.QuoteCmd, trading.Buy, trading.CommitBuy, trading.CancelBuy,
	trading.Sell, trading.CommitSell, trading.CancelSell,
	trading.SetBuyAmount, trading.SetBuyTrigger, trading.CancelSetBuy,
	trading.SetSellAmount, trading.SetSellTrigger, trading.CancelSetSell,
	trading.DisplaySummary, trading.DumpLog,
}

// parseHistoryQuery reads the filters and cursor of a history request for
// user; the error says which filter is wrong.
func parseHistoryQuery(v url.Values, user string) (audit.HistoryQuery, historyFilter, error) {
	f := historyFilter{
		Command: strings.TrimSpace(v.Get("command")),
		Type:    strings.TrimSpace(v.Get("type")),
		From:    strings.TrimSpace(v.Get("from")),
		To:      strings.TrimSpace(v.Get("to")),
	}
	q := audit.HistoryQuery{User: user, Limit: historyPageSize}
	if f.Command != "" {
		if !trading.CommandName(f.Command).Known() {
			return q, f, fmt.Errorf("%q is not a command", f.Command)
		}
		q.Command = trading.CommandName(f.Command)
	}
	if f.Type != "" {
		known := false
		for _, t := range eventTypes {
			known = known || string(t) == f.Type
		}
		if !known {
			return q, f, fmt.Errorf("%q is not an event type", f.Type)
		}
		q.Type = trading.EventType(f.Type)
	}
	if f.From != "" {
		d, err := time.Parse(time.DateOnly, f.From)
		if err != nil {
			return q, f, fmt.Errorf("the start date %q is not a date like 2025-01-31", f.From)
		}
		q.From = d
	}
	if f.To != "" {
		d, err := time.Parse(time.DateOnly, f.To)
		if err != nil {
			return q, f, fmt.Errorf("the end date %q is not a date like 2025-01-31", f.To)
		}
		// The end date is inclusive: the store's To is exclusive, so it is
		// the start of the next day.
		q.To = d.AddDate(0, 0, 1)
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return q, f, fmt.Errorf("the end date is before the start date")
	}
	if b := v.Get("before"); b != "" {
		id, err := strconv.ParseInt(b, 10, 64)
		if err != nil || id <= 0 {
			return q, f, fmt.Errorf("the page cursor %q is not valid", b)
		}
		q.BeforeID = id
	}
	return q, f, nil
}

func (f historyFilter) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"command": f.Command, "type": f.Type, "from": f.From, "to": f.To} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// loadHistory fills d with one page of user's history as r asks for it.
func (s *Server) loadHistory(r *http.Request, d *historyData) int {
	q, f, err := parseHistoryQuery(r.URL.Query(), d.Subject)
	d.Filter = f
	if err != nil {
		d.Error = capitalize(err.Error()) + "."
		return http.StatusBadRequest
	}
	d.Paged = q.BeforeID > 0
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	page, err := s.cfg.Audit.History(ctx, q)
	if err != nil {
		s.log.ErrorContext(r.Context(), "reading history", "user", d.Subject, "err", err)
		d.Error = "The history is unavailable right now. Please try again shortly."
		return http.StatusServiceUnavailable
	}
	d.Events = page.Events
	if page.NextBeforeID > 0 {
		v := f.values()
		v.Set("before", strconv.FormatInt(page.NextBeforeID, 10))
		d.OlderLink = d.BasePath + "?" + v.Encode()
	}
	return http.StatusOK
}

func (s *Server) history(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r.Context())
	d := historyData{
		Page:     s.page(r, "History", "history"),
		Subject:  sess.User,
		BasePath: "/history",
		DumpPath: "/dumplog",
		CSVPath:  "/history.csv",
	}
	status := s.loadHistory(r, &d)
	s.renderPage(w, r, status, historyView(d))
}

// csvLink is the CSV export of what the page shows: its filters, every page.
func (d historyData) csvLink() string {
	if v := d.Filter.values(); len(v) > 0 {
		return d.CSVPath + "?" + v.Encode()
	}
	return d.CSVPath
}

// historyCSVHeader are the History table's columns, in its order.
var historyCSVHeader = []string{"time_utc", "tx", "type", "command", "symbol", "funds", "price", "details"}

// historyCSVRow is one audit record as the History table shows it, with
// machine-readable values: RFC 3339 time, plain decimal amounts.
func historyCSVRow(e audit.StoredEvent) []string {
	dec := func(d decimal.NullDecimal) string {
		if !d.Valid {
			return ""
		}
		return d.Decimal.String()
	}
	return []string{e.Time.UTC().Format(time.RFC3339Nano), strconv.FormatInt(e.TxNum, 10), string(e.Type),
		string(e.Command), e.Symbol, dec(e.Funds), dec(e.Price), eventDetail(e.Event)}
}

func (s *Server) historyCSV(w http.ResponseWriter, r *http.Request) {
	s.sendHistoryCSV(w, r, sessionFrom(r.Context()).User)
}

// sendHistoryCSV streams user's history, filtered as the History page's
// query says, as a CSV download: each row is written as Postgres hands it
// over, so the export never holds the history in memory.
func (s *Server) sendHistoryCSV(w http.ResponseWriter, r *http.Request, user string) {
	q, _, err := parseHistoryQuery(r.URL.Query(), user)
	if err != nil {
		http.Error(w, capitalize(err.Error())+".", http.StatusBadRequest)
		return
	}
	name := fmt.Sprintf("daytrader-history-%s-%s.csv", user, time.Now().UTC().Format("20060102-150405"))
	lw := &lazyHeaderWriter{w: w, header: func() {
		h := w.Header()
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
		h.Set("Cache-Control", "no-store")
	}}
	cw := csv.NewWriter(lw)
	rows := 0
	err = s.cfg.Audit.EachHistory(r.Context(), q, func(e audit.StoredEvent) error {
		if rows == 0 {
			_ = cw.Write(historyCSVHeader) // a write error shows in Flush's
		}
		rows++
		if err := cw.Write(historyCSVRow(e)); err != nil {
			return err
		}
		if rows%100 == 0 { // csv buffers 4 KB itself; flush whole rows at a steady pace
			cw.Flush()
		}
		return cw.Error()
	})
	if err == nil && rows == 0 {
		err = cw.Write(historyCSVHeader)
	}
	if cw.Flush(); err == nil {
		err = cw.Error()
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), "history CSV export failed", "user", user, "rows", rows, "written", lw.n, "err", err)
		if lw.n == 0 {
			http.Error(w, "the history is unavailable right now, please try again shortly", http.StatusServiceUnavailable)
			return
		}
		panic(http.ErrAbortHandler) // a cut connection, not a CSV that looks complete
	}
}

func (s *Server) dumpOwnLog(w http.ResponseWriter, r *http.Request) {
	s.sendDump(w, r, sessionFrom(r.Context()).User)
}

// sendDump streams user's audit log ("" = everyone) as an XML download.
func (s *Server) sendDump(w http.ResponseWriter, r *http.Request, user string) {
	who := user
	if who == "" {
		who = "all"
	}
	name := fmt.Sprintf("daytrader-%s-%s.xml", who, time.Now().UTC().Format("20060102-150405"))
	lw := &lazyHeaderWriter{w: w, header: func() {
		h := w.Header()
		h.Set("Content-Type", "application/xml; charset=utf-8")
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
		h.Set("Cache-Control", "no-store")
	}}
	n, err := s.cfg.Audit.DumpXML(r.Context(), lw, user)
	if err != nil {
		s.log.ErrorContext(r.Context(), "DUMPLOG download failed", "user", who, "written", lw.n, "err", err)
		if lw.n == 0 {
			http.Error(w, "the audit log is unavailable right now, please try again shortly", http.StatusServiceUnavailable)
			return
		}
		// Part of the file is already sent: cut the connection so the
		// browser reports a failed download instead of keeping half a log.
		panic(http.ErrAbortHandler)
	}
	if lw.n == 0 { // an empty dump still needs its headers
		lw.header()
	}
	s.log.InfoContext(r.Context(), "DUMPLOG downloaded", "by", sessionFrom(r.Context()).User, "user", who, "events", n)
}

// lazyHeaderWriter sets the download headers only when the first byte goes
// out, so that a dump that fails at once can still answer with an error.
type lazyHeaderWriter struct {
	w      io.Writer
	header func()
	n      int64
}

func (l *lazyHeaderWriter) Write(p []byte) (int, error) {
	if l.n == 0 && len(p) > 0 {
		l.header()
	}
	n, err := l.w.Write(p)
	l.n += int64(n)
	return n, err
}

// eventDetail is the part of an audit record that depends on its type.
func eventDetail(e trading.Event) string {
	var parts []string
	if e.Action != "" {
		parts = append(parts, e.Action)
	}
	if e.Filename != "" {
		parts = append(parts, "file "+e.Filename)
	}
	if e.Message != "" {
		parts = append(parts, e.Message)
	}
	if e.Cryptokey != "" {
		parts = append(parts, "key "+e.Cryptokey)
	}
	return strings.Join(parts, " · ")
}
