package web

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/daytradinginc/daytrader/trading"
)

// inputSpec is one text input of a command form.
type inputSpec struct {
	Name  string // "symbol", "amount" or "price": the form field and the Command field
	Label string
}

// formSpec is the form of one command.
type formSpec struct {
	Command trading.CommandName
	Title   string // the button's text
	Inputs  []inputSpec
	Quiet   bool // a secondary action (cancel): drawn as a plain button
}

// cardSpec groups the forms of related commands on the dashboard.
type cardSpec struct {
	ID    string
	Title string
	Help  string
	Forms []formSpec
}

var (
	symbolInput = inputSpec{Name: "symbol", Label: "Symbol"}
	amountInput = inputSpec{Name: "amount", Label: "Amount ($)"}
	priceInput  = inputSpec{Name: "price", Label: "Trigger price ($)"}
)

// commandCards lays out a form for every command a trader can issue.
var commandCards = []cardSpec{
	{ID: "funds", Title: "Add funds", Help: "Adds cash to your account (your first deposit opens it).", Forms: []formSpec{
		{Command: trading.Add, Title: "Add funds", Inputs: []inputSpec{amountInput}},
	}},
	{ID: "quote", Title: "Get a quote", Help: "A quote stays valid for 60 seconds.", Forms: []formSpec{
		{Command: trading.QuoteCmd, Title: "Get quote", Inputs: []inputSpec{symbolInput}},
	}},
	{ID: "buy", Title: "Buy", Help: "Buys as many whole shares as the amount pays for at the quoted price. Confirm within 60 seconds.", Forms: []formSpec{
		{Command: trading.Buy, Title: "Buy", Inputs: []inputSpec{symbolInput, amountInput}},
		{Command: trading.CommitBuy, Title: "Confirm latest buy"},
		{Command: trading.CancelBuy, Title: "Cancel latest buy", Quiet: true},
	}},
	{ID: "sell", Title: "Sell", Help: "Sells as many whole shares as make up the amount at the quoted price. Confirm within 60 seconds.", Forms: []formSpec{
		{Command: trading.Sell, Title: "Sell", Inputs: []inputSpec{symbolInput, amountInput}},
		{Command: trading.CommitSell, Title: "Confirm latest sell"},
		{Command: trading.CancelSell, Title: "Cancel latest sell", Quiet: true},
	}},
	{ID: "auto-buy", Title: "Automatic buy", Help: "Reserve cash for a symbol, then set the price at or below which it buys.", Forms: []formSpec{
		{Command: trading.SetBuyAmount, Title: "Reserve cash", Inputs: []inputSpec{symbolInput, amountInput}},
		{Command: trading.SetBuyTrigger, Title: "Set buy trigger", Inputs: []inputSpec{symbolInput, priceInput}},
		{Command: trading.CancelSetBuy, Title: "Cancel automatic buy", Inputs: []inputSpec{symbolInput}, Quiet: true},
	}},
	{ID: "auto-sell", Title: "Automatic sell", Help: "Choose a dollar amount of a symbol, then set the price at or above which it sells.", Forms: []formSpec{
		{Command: trading.SetSellAmount, Title: "Set sell amount", Inputs: []inputSpec{symbolInput, amountInput}},
		{Command: trading.SetSellTrigger, Title: "Set sell trigger", Inputs: []inputSpec{symbolInput, priceInput}},
		{Command: trading.CancelSetSell, Title: "Cancel automatic sell", Inputs: []inputSpec{symbolInput}, Quiet: true},
	}},
}

// formFor finds the form of a command; ok=false for a command the dashboard
// does not offer (DISPLAY_SUMMARY and DUMPLOG have their own pages).
func formFor(name trading.CommandName) (formSpec, bool) {
	for _, c := range commandCards {
		for _, f := range c.Forms {
			if f.Command == name {
				return f, true
			}
		}
	}
	return formSpec{}, false
}

// formState is what a form shows after a submission: the values typed (when
// they were refused) and the error.
type formState struct {
	Values map[string]string
	Error  string
	Field  string // the input the error is about, or "" for the whole form
	// Outcome is the command's result, repeated under the form's button:
	// the banner at the top of the page may be out of sight.
	Outcome *resultView
}

func (f formState) value(name string) string { return f.Values[name] }

// resultView is the outcome of a command as the result banner shows it.
type resultView struct {
	Command trading.CommandName
	TxNum   int64
	OK      bool
	Message string
	Quote   *trading.Quote
	Error   string // the request itself failed (no command result)
}

// summaryView is the account summary as the dashboard shows it.
type summaryView struct {
	trading.Summary
	Unavailable bool // the account service did not answer
	Now         time.Time
	Charts      accountCharts // from the audit history
	SymbolLinks bool          // the trader's own: symbols link to their pages
}

// dashboardData is the whole dashboard page.
type dashboardData struct {
	Page    pageInfo
	Summary summaryView
	Forms   map[trading.CommandName]formState
	Result  *resultView
}

func (s *Server) loadSummary(ctx context.Context, user string) summaryView {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	sum, err := s.cfg.Accounts.Summary(ctx, user)
	if err != nil {
		s.log.ErrorContext(ctx, "reading account summary", "user", user, "err", err)
		return summaryView{Summary: trading.Summary{User: user}, Unavailable: true, Now: time.Now()}
	}
	v := summaryView{Summary: sum, Now: time.Now()}
	if sum.Exists {
		v.Charts = s.loadCharts(ctx, user)
		sess := sessionFrom(ctx)
		v.SymbolLinks = sess != nil && sess.User == user
	}
	return v
}

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r.Context())
	if err := s.sessions.markSeen(r.Context(), sess.tokenHash); err != nil {
		// Only the workload starter's yielding reads it: the page is shown.
		s.log.WarnContext(r.Context(), "recording the dashboard's view", "err", err)
	}
	s.renderPage(w, r, http.StatusOK, dashboardView(dashboardData{
		Page:    s.page(r, "Dashboard", "dashboard"),
		Summary: s.loadSummary(r.Context(), sess.User),
	}))
}

func (s *Server) summaryFragment(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r.Context())
	s.renderPage(w, r, http.StatusOK, summaryContent(s.loadSummary(r.Context(), sess.User)))
}

// command runs one trading command for the signed-in trader. Input is
// checked here first, so bad input gets an error next to the field and never
// reaches the account. The reply re-renders the form, the result banner and
// the summary (HTMX), or the whole dashboard without JavaScript.
func (s *Server) command(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sess := sessionFrom(r.Context())
	name := trading.CommandName(r.PostFormValue("command"))
	spec, ok := formFor(name)
	if !ok {
		s.commandRequestFailed(w, r, http.StatusBadRequest, "Unknown command.")
		return
	}
	cmd, state := readCommandForm(r, spec, sess.User)
	if field, msg := checkInputs(spec, state.Values); msg != "" {
		state.Error, state.Field = msg, field
		s.commandReply(w, r, http.StatusUnprocessableEntity, spec, state, nil)
		return
	}
	// Validate is the rule the account itself applies; it runs on a
	// placeholder number so that refused input spends no transaction number.
	probe := cmd
	probe.TxNum = 1
	if err := probe.Validate(); err != nil {
		state.Error = capitalize(err.Error()) + "."
		s.commandReply(w, r, http.StatusUnprocessableEntity, spec, state, nil)
		return
	}

	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	txNum, err := s.cfg.Audit.NextTxNum(ctx)
	if err != nil {
		s.log.ErrorContext(r.Context(), "allocating transaction number", "err", err)
		state.Error = "The trading service is unavailable right now. Nothing was done; please try again."
		s.commandReply(w, r, http.StatusServiceUnavailable, spec, state, nil)
		return
	}
	cmd.TxNum = txNum
	res, err := s.cfg.Accounts.Execute(ctx, cmd)
	// The trader has waited for the account until now, answered or not.
	waited := time.Since(start)
	defer s.recordWait(w, r, waited)
	if err != nil {
		s.log.WarnContext(r.Context(), "command not accepted", "cmd", cmd.String(), "err", err)
		state.Error = "The command was not accepted: " + err.Error()
		s.commandReply(w, r, http.StatusUnprocessableEntity, spec, state, nil)
		return
	}
	s.log.InfoContext(r.Context(), "command executed", "cmd", cmd.String(), "ok", res.OK)
	view := &resultView{Command: name, TxNum: txNum, OK: res.OK, Message: res.Message, Quote: res.Quote}
	// A failed command keeps what was typed, to correct and send again;
	// the result banner says why it failed.
	if res.OK {
		state.Values = nil
	}
	state.Outcome = view
	s.commandReply(w, r, http.StatusOK, spec, state, view)
}

// recordWait stores a trader's wait for a command (Audit.RecordTraderWait)
// once the reply has gone out, so that the trader does not wait for it too;
// a trader who closes the page meanwhile still waited. Only the workload
// starter's yielding reads it: a failure is logged.
func (s *Server) recordWait(w http.ResponseWriter, r *http.Request, d time.Duration) {
	_ = http.NewResponseController(w).Flush()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
	defer cancel()
	if err := s.cfg.Audit.RecordTraderWait(ctx, d); err != nil {
		s.log.WarnContext(r.Context(), "recording a trader's wait", "err", err)
	}
}

// readCommandForm reads the form's inputs of spec's command, trimmed, into
// the command for user and into the form's state (what was typed, shown
// again if the command is refused).
func readCommandForm(r *http.Request, spec formSpec, user string) (trading.Command, formState) {
	cmd := trading.Command{Name: spec.Command, User: user}
	state := formState{Values: map[string]string{}}
	for _, in := range spec.Inputs {
		v := strings.TrimSpace(r.PostFormValue(in.Name))
		state.Values[in.Name] = v
		switch in.Name {
		case "symbol":
			cmd.Symbol = v
		case "amount":
			cmd.Amount = v
		case "price":
			cmd.Price = v
		}
	}
	return cmd, state
}

// checkInputs finds the first bad input and says what is wrong with it.
func checkInputs(spec formSpec, values map[string]string) (field, msg string) {
	for _, in := range spec.Inputs {
		v := values[in.Name]
		switch in.Name {
		case "symbol":
			switch {
			case v == "":
				return in.Name, "Enter a stock symbol."
			case !trading.ValidSymbol(v):
				return in.Name, "A stock symbol is 1 to 3 upper-case letters, like ABC."
			}
		case "amount", "price":
			what := "amount"
			if in.Name == "price" {
				what = "trigger price"
			}
			if v == "" {
				return in.Name, "Enter the " + what + "."
			}
			if _, err := trading.ParseMoney(what, v); err != nil {
				return in.Name, capitalize(err.Error()) + "."
			}
		}
	}
	return "", ""
}

// summaryRefreshEvent is the event on which the dashboard's summary reloads
// (its hx-trigger): a command's HTMX reply sends it in HX-Trigger.
const summaryRefreshEvent = "dt-refresh"

func (s *Server) commandReply(w http.ResponseWriter, r *http.Request, status int, spec formSpec, state formState, result *resultView) {
	sess := sessionFrom(r.Context())
	page := s.page(r, "Dashboard", "dashboard")
	if !isHTMX(r) {
		s.renderPage(w, r, status, dashboardView(dashboardData{
			Page:    page,
			Summary: s.loadSummary(r.Context(), sess.User),
			Forms:   map[trading.CommandName]formState{spec.Command: state},
			Result:  result,
		}))
		return
	}
	if result != nil {
		// The result is shown as soon as the account answered; the summary
		// (a query to the account and the charts from the audit history)
		// follows in a request of its own, which the summary element makes
		// on dt-refresh, so a trader under load is not kept waiting for it.
		w.Header().Set("HX-Trigger", summaryRefreshEvent)
	}
	s.renderPage(w, r, status, commandResponse(page, spec, state, result))
}

// commandRequestFailed reports a request that is not a command at all.
func (s *Server) commandRequestFailed(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if isHTMX(r) {
		w.Header().Set("HX-Retarget", "#result")
		w.Header().Set("HX-Reswap", "innerHTML")
		s.renderPage(w, r, status, resultMessage(resultView{Error: msg}))
		return
	}
	http.Error(w, msg, status)
}

// Presentation helpers used by the templates.

// money formats dollars as $1,234.50.
func money(d decimal.Decimal) string {
	s := d.StringFixed(2)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, cents, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	out := "$" + b.String() + "." + cents
	if neg {
		out = "-" + out
	}
	return out
}

func moneyOr(d decimal.NullDecimal, none string) string {
	if !d.Valid {
		return none
	}
	return money(d.Decimal)
}

// plClass is the classes of a number cell showing a profit or loss: green
// for a profit, red for a loss; zero and unknown stay plain.
func plClass(d decimal.NullDecimal) string {
	switch {
	case !d.Valid || d.Decimal.IsZero():
		return "num"
	case d.Decimal.IsPositive():
		return "num pl-up"
	}
	return "num pl-down"
}

// signedMoney shows a profit with its + sign (money already prints a
// loss's −), so the sign reads without the colour; "—" when unknown.
func signedMoney(d decimal.NullDecimal) string {
	if !d.Valid {
		return "—"
	}
	if d.Decimal.IsPositive() {
		return "+" + money(d.Decimal)
	}
	return money(d.Decimal)
}

func signedPercent(d decimal.Decimal) string {
	sign := ""
	if d.IsPositive() {
		sign = "+"
	}
	return sign + d.StringFixed(2) + " %"
}

func realizedPL(s trading.Summary) decimal.NullDecimal { return decimal.NewNullDecimal(s.RealizedPL) }

// portfolioValue is cash, reserves and every holding at its last price; it
// says so when a holding has no price yet.
func portfolioValue(s trading.Summary) (string, bool) {
	total := s.Cash.Add(s.ReservedCash)
	complete := true
	for _, h := range s.Holdings {
		if !h.LastPrice.Valid {
			complete = false
			continue
		}
		total = total.Add(h.LastPrice.Decimal.Mul(decimal.NewFromInt(h.Shares + h.ReservedShares)))
	}
	return money(total), complete
}

// pendingNewestFirst orders pending trades the way COMMIT/CANCEL take them:
// the most recent first.
func pendingNewestFirst(p []trading.PendingView) []trading.PendingView {
	out := slices.Clone(p)
	slices.SortStableFunc(out, func(a, b trading.PendingView) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out
}

// msLeft is how long a pending trade has left, measured on the server's clock
// so the browser's countdown does not depend on its own clock being right.
func msLeft(p trading.PendingView, now time.Time) int64 {
	return max(0, p.ExpiresAt.Sub(now).Milliseconds())
}

func secondsLeft(p trading.PendingView, now time.Time) int64 {
	return (msLeft(p, now) + 999) / 1000
}

func clock(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("15:04:05 UTC")
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// datetimeAttr is t as a <time> element's datetime: UTC, to the millisecond
// (HTML allows at most three fraction digits).
func datetimeAttr(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

func inputID(cmd trading.CommandName, input string) string {
	return strings.ToLower(strings.ReplaceAll(string(cmd), "_", "-")) + "-" + input
}

func formID(cmd trading.CommandName) string {
	return "form-" + strings.ToLower(strings.ReplaceAll(string(cmd), "_", "-"))
}
