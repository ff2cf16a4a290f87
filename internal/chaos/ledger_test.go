package chaos

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/internal/stack"
	"github.com/daytradinginc/daytrader/internal/stacktest"
	"github.com/daytradinginc/daytrader/quotes"
	"github.com/daytradinginc/daytrader/trading"
	"github.com/daytradinginc/daytrader/workflows"
	"github.com/shopspring/decimal"
)

// The ledger check. Each account's audit records are compared with what the
// pure trading rules produce when they are run again over the account's
// commands, in workload order, each at the time its userCommand record says
// it ran, with the fixed price the quote emulator served for its symbol.
// Because the workflow applies those very rules at those times with those
// prices, everything must agree exactly:
//
//   - every audit record other than quoteServer and debugEvent, in stored
//     order, field by field (type, time, transaction, command, user, symbol,
//     funds, action, message): a message carries the cash and holdings of
//     the moment, so this also checks the account's state after each command;
//   - the expiry debugEvents as a set (the workflow's expiry timer may drop a
//     pending trade before the next command would have);
//   - every quoteServer record's price is the emulator's price;
//   - the account's summary (cash, reserved cash, holdings with reserved
//     shares, pending buys and sells, buy and sell orders) as the workflow's
//     summary query returns it;
//   - the money trail: the account's accountTransaction records (add minus
//     remove) sum to its cash.
//
// With fixed prices no trigger can fire later than when it is set (the price
// never moves), so no record comes from a Trigger workflow.

// ledgerStats is what one ledger check compared.
type ledgerStats struct {
	Accounts, Records, QuoteRecords int
}

func (s ledgerStats) String() string {
	return fmt.Sprintf("ledger: %d accounts, %d audit records and %d quote records reproduced exactly", s.Accounts, s.Records, s.QuoteRecords)
}

// reporter is where the ledger check reports differences: a *testing.T, or
// a recorder in the test that proves the check notices tampering.
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
}

// checkLedger checks every account of w. Differences go to t; err is a
// failure to read the audit or the accounts.
func checkLedger(ctx context.Context, t reporter, store *audit.Store, accounts *workflows.Accounts, w *workload) (ledgerStats, error) {
	t.Helper()
	var stats ledgerStats
	times, err := store.UserCommandTimes(ctx, w.txNums())
	if err != nil {
		return stats, err
	}
	for _, u := range w.Users {
		ok, err := checkAccountLedger(ctx, t, store, accounts, w, u, times, &stats)
		if err != nil {
			return stats, err
		}
		if ok {
			stats.Accounts++
		}
	}
	return stats, nil
}

// debugKey identifies an expiry debugEvent independently of when it was
// written.
func debugKey(ev trading.Event) string {
	return fmt.Sprintf("%d/%s/%s/%s/%s", ev.TxNum, ev.Command, ev.Symbol, ev.Funds.Decimal.StringFixed(2), ev.Message)
}

// checkAccountLedger checks one account and says whether it matched.
func checkAccountLedger(ctx context.Context, t reporter, store *audit.Store, accounts *workflows.Accounts,
	w *workload, u string, times map[int64]time.Time, stats *ledgerStats) (bool, error) {
	t.Helper()
	stored, err := userEvents(ctx, store, u)
	if err != nil {
		return false, err
	}
	var live []trading.Event
	liveDebug := map[string]int{}
	trail := decimal.Zero
	for _, ev := range stored {
		switch ev.Type {
		case trading.QuoteServerEvent:
			stats.QuoteRecords++
			if p, ok := w.Prices[ev.Symbol]; !ok || !ev.Price.Valid || !ev.Price.Decimal.Equal(p) {
				t.Errorf("%s: quote record %s at %v, the emulator serves %v", u, ev.Symbol, ev.Price.Decimal, p)
			}
			continue
		case trading.DebugEvent:
			liveDebug[debugKey(ev.Event)]++
			continue
		case trading.AccountTransactionEvent:
			switch ev.Action {
			case "add":
				trail = trail.Add(ev.Funds.Decimal)
			case "remove":
				trail = trail.Sub(ev.Funds.Decimal)
			default:
				t.Errorf("%s: accountTransaction with action %q", u, ev.Action)
			}
		}
		live = append(live, ev.Event)
	}

	local := trading.NewAccount(u)
	var want []trading.Event
	rerunDebug := map[string]int{}
	for _, c := range w.ByUser[u] {
		at, ok := times[c.TxNum]
		if !ok {
			t.Errorf("%s: transaction %d has no userCommand record: the ledger cannot be checked", u, c.TxNum)
			return false, nil
		}
		quote := func(sym string) (trading.Quote, bool, error) {
			p, ok := w.Prices[sym]
			if !ok {
				return trading.Quote{}, false, fmt.Errorf("no fixed price for %s", sym)
			}
			return trading.Quote{Symbol: sym, User: u, Price: p, FetchedAt: at}, false, nil
		}
		for _, ev := range local.Execute(c, trading.Env{Now: at, Quote: quote}).Events {
			if ev.Type == trading.DebugEvent {
				rerunDebug[debugKey(ev)]++
				continue
			}
			want = append(want, ev)
		}
	}

	got, err := accounts.Summary(ctx, u)
	if err != nil {
		return false, fmt.Errorf("summary of %s: %w", u, err)
	}
	// Pending trades that expired by the summary's time are dropped by the
	// rules too. The workflow drops them on a timer that fires up to a
	// second after the deadline, so those that expired just now may not
	// have their debugEvent yet.
	recentlyExpired := map[string]bool{}
	for _, p := range append(slices.Clone(local.PendingBuys), local.PendingSells...) {
		if got.AsOf.After(p.ExpiresAt()) && p.ExpiresAt().After(got.AsOf.Add(-2*time.Second)) {
			recentlyExpired[fmt.Sprintf("%d/", p.TxNum)] = true
		}
	}
	for _, ev := range local.ExpirePending(got.AsOf) {
		rerunDebug[debugKey(ev)]++
	}

	ok := compareRecords(t, u, live, want)
	stats.Records += len(live)
	for k, n := range liveDebug {
		if rerunDebug[k] != n {
			t.Errorf("%s: debug record %s stored %d times, the rules give %d", u, k, n, rerunDebug[k])
			ok = false
		}
	}
	for k, n := range rerunDebug {
		if liveDebug[k] == 0 && !recentlyExpired[k[:strings.IndexByte(k, '/')+1]] {
			t.Errorf("%s: the rules expire a pending trade (%s, %d times) the audit has no record of", u, k, n)
			ok = false
		}
	}
	stats.Records += len(liveDebug)

	if !trail.Equal(got.Cash) {
		t.Errorf("%s: accountTransaction records sum to $%s, the account holds $%s", u, trail, got.Cash)
		ok = false
	}
	if g, w := summaryText(got), summaryText(local.Summary(got.AsOf)); g != w {
		t.Errorf("%s: the account's summary differs from the rules':\n account: %s\n   rules: %s", u, g, w)
		ok = false
	}
	return ok, nil
}

// compareRecords compares the stored records with the rules' records one
// by one and reports the first difference.
func compareRecords(t reporter, u string, live []trading.Event, want []trading.Event) bool {
	t.Helper()
	for i := range max(len(live), len(want)) {
		var l, w string
		if i < len(live) {
			l = recordText(live[i])
		}
		if i < len(want) {
			w = recordText(want[i])
		}
		if l != w {
			t.Errorf("%s: audit record %d of %d (rules: %d) differs:\n stored: %s\n  rules: %s", u, i+1, len(live), len(want), l, w)
			return false
		}
	}
	return true
}

// recordText is every field of a record the rules decide (not the storage
// key or the server name).
func recordText(ev trading.Event) string {
	money := func(d decimal.NullDecimal) string {
		if !d.Valid {
			return "-"
		}
		return d.Decimal.StringFixed(2)
	}
	return fmt.Sprintf("%s %s tx=%d %s user=%s sym=%s file=%s funds=%s action=%s price=%s msg=%q",
		ev.Type, ev.Time.UTC().Format(time.RFC3339Nano), ev.TxNum, ev.Command, ev.User, ev.Symbol, ev.Filename,
		money(ev.Funds), ev.Action, money(ev.Price), ev.Message)
}

// summaryText is the state part of a summary (not the recent activity or
// the last prices seen).
func summaryText(s trading.Summary) string {
	var b strings.Builder
	fmt.Fprintf(&b, "exists=%v cash=%s reserved=%s", s.Exists, s.Cash.StringFixed(2), s.ReservedCash.StringFixed(2))
	for _, h := range s.Holdings {
		fmt.Fprintf(&b, " hold:%s:%d+%d", h.Symbol, h.Shares, h.ReservedShares)
	}
	for _, p := range s.PendingBuys {
		fmt.Fprintf(&b, " pbuy:%d:%s:%d@%s", p.TxNum, p.Symbol, p.Shares, p.Price.StringFixed(2))
	}
	for _, p := range s.PendingSells {
		fmt.Fprintf(&b, " psell:%d:%s:%d@%s", p.TxNum, p.Symbol, p.Shares, p.Price.StringFixed(2))
	}
	trigger := func(d decimal.NullDecimal) string {
		if !d.Valid {
			return "-"
		}
		return d.Decimal.StringFixed(2)
	}
	for _, o := range s.BuyOrders {
		fmt.Fprintf(&b, " border:%s:%s@%s", o.Symbol, o.Reserve.StringFixed(2), trigger(o.Trigger))
	}
	for _, o := range s.SellOrders {
		fmt.Fprintf(&b, " sorder:%s:%s:%d@%s", o.Symbol, o.Amount.StringFixed(2), o.ReservedShares, trigger(o.Trigger))
	}
	return b.String()
}

// userEvents returns all of a user's audit records, oldest first.
func userEvents(ctx context.Context, store *audit.Store, u string) ([]audit.StoredEvent, error) {
	var all []audit.StoredEvent
	q := audit.HistoryQuery{User: u, Limit: audit.MaxHistoryLimit}
	for {
		page, err := store.History(ctx, q)
		if err != nil {
			return nil, err
		}
		all = append(all, page.Events...)
		if page.NextBeforeID == 0 {
			break
		}
		q.BeforeID = page.NextBeforeID
	}
	slices.Reverse(all)
	return all, nil
}

// TestChaosLedger runs a workload through the whole stack (no faults) and
// checks every account's ledger. CHAOS_WORKLOAD names a course workload
// file instead of the generated one (`CHAOS_WORKLOAD=100User_testWorkLoad
// make chaos` is the full course run).
func TestChaosLedger(t *testing.T) {
	var w *workload
	if name := os.Getenv("CHAOS_WORKLOAD"); name != "" {
		if testing.Short() {
			t.Skipf("heavy variant (CHAOS_WORKLOAD=%s) skipped in -short mode", name)
		}
		path := filepath.Join(repoRoot(t), "..", "shared", "workloads", name)
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("CHAOS_WORKLOAD: %v", err)
		}
		w = loadWorkload(t, path)
	} else {
		w = generateWorkload(t, scenarioSize(t))
	}
	dev := stacktest.Start(t, stacktest.Options{QuotePrices: w.PricesFile})
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	accounts := workflows.NewAccounts(dev.Client)
	store := audit.NewStore(dev.DB)

	start := time.Now()
	if _, err := send(ctx, accounts, w.ByUser); err != nil {
		t.Fatal(err)
	}
	finish(ctx, t, "ledger", "none", start, dev.DB, accounts, w, w.txNums())
	stats, err := checkLedger(ctx, t, store, accounts, w)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(stats)
	if stats.Accounts != len(w.Users) || stats.Records < w.size() {
		t.Errorf("the ledger check covered %d of %d accounts and %d records for %d commands", stats.Accounts, len(w.Users), stats.Records, w.size())
	}
	checkBilledQuotesAudited(ctx, t, dev)

	// The check must notice a wrong record: a cent more in one account's
	// first money movement, and a command of another moved a minute later.
	moneyUser, timeUser := w.Users[0], w.Users[1]
	if _, err := dev.DB.Exec(ctx, `
UPDATE audit_events SET funds = funds + 0.01
WHERE id = (SELECT min(id) FROM audit_events WHERE event_type = 'accountTransaction' AND username = $1)`, moneyUser); err != nil {
		t.Fatal(err)
	}
	if _, err := dev.DB.Exec(ctx, `
UPDATE audit_events SET ts = ts + interval '61 seconds'
WHERE id = (SELECT max(id) FROM audit_events WHERE event_type = 'userCommand' AND username = $1)`, timeUser); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	if _, err := checkLedger(ctx, rec, store, accounts, w); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{moneyUser, timeUser} {
		if !rec.mentions(u) {
			t.Errorf("the ledger check missed the tampered record of %s; it reported:\n%s", u, strings.Join(rec.errs, "\n"))
		}
	}
}

// recorder collects what a check reports instead of failing the test.
type recorder struct{ errs []string }

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *recorder) mentions(s string) bool {
	return slices.ContainsFunc(r.errs, func(e string) bool { return strings.Contains(e, s) })
}

// checkBilledQuotesAudited: every legacy fetch the worker paid for has one
// quoteServer record. Trigger watchers may be between a fetch and its
// audit write, so the two must agree within 30 s.
func checkBilledQuotesAudited(ctx context.Context, t *testing.T, dev *stack.Dev) {
	t.Helper()
	cache, ok := dev.Acts.Quotes.(*quotes.Cache)
	if !ok {
		t.Fatalf("the worker's quote source is a %T, not a *quotes.Cache", dev.Acts.Quotes)
	}
	var fetched, records int64
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		st := cache.Stats()
		fetched = st.Fetches - st.FetchErrors
		if err := dev.DB.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE event_type = 'quoteServer'`).Scan(&records); err != nil {
			t.Fatal(err)
		}
		if fetched == records || time.Now().After(deadline) {
			break
		}
	}
	t.Logf("billed legacy fetches %d, quoteServer records %d", fetched, records)
	if fetched != records || fetched == 0 {
		t.Errorf("%d billed legacy fetches against %d quoteServer records: want every fetch audited once", fetched, records)
	}
}
