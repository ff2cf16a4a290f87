package web

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/trading"
	"github.com/shopspring/decimal"
)

// TestHistoryCSVMatchesTheAuditStore: /history.csv (the trader's) and
// /admin/users/{user}/history.csv (an administrator's) stream the same
// filtered history the Postgres audit store holds, as CSV with the History
// table's columns and a download file name; another trader's records never
// appear; a bad filter is a 400 with nothing exported.
func TestHistoryCSVMatchesTheAuditStore(t *testing.T) {
	store := audit.NewStore(testPool)
	admin := uniqueUser("root")
	ts := newTestServer(t, func(c *Config) {
		c.Audit = store
		c.AdminUser, c.AdminPassword = admin, "admin password"
	})
	alice, bob := uniqueUser("alice"), uniqueUser("bob")
	a := ts.registered(t, alice)
	at := time.Date(2026, 3, 2, 14, 30, 0, 123_000_000, time.UTC)
	writeHistory(t, store, alice, at, 130) // more than one History page
	writeHistory(t, store, bob, at, 5)

	r := a.get("/history?type=userCommand")
	wantContains(t, r, `href="/history.csv?type=userCommand"`)
	adm := ts.newBrowser(t)
	wantStatus(t, adm.login(admin, "admin password"), http.StatusSeeOther)
	for _, c := range []struct {
		b     *browser
		path  string
		query audit.HistoryQuery
	}{
		{a, "/history.csv", audit.HistoryQuery{User: alice}},
		{a, "/history.csv?type=userCommand&command=BUY", audit.HistoryQuery{User: alice, Type: trading.UserCommandEvent, Command: trading.Buy}},
		{a, "/history.csv?from=2026-03-02&to=2026-03-02&type=accountTransaction", audit.HistoryQuery{User: alice, Type: trading.AccountTransactionEvent,
			From: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)}},
		{adm, "/admin/users/" + bob + "/history.csv?type=errorEvent", audit.HistoryQuery{User: bob, Type: trading.ErrorEvent}},
	} {
		t.Run(c.path, func(t *testing.T) {
			r := c.b.get(c.path)
			wantStatus(t, r, http.StatusOK)
			if ct := r.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if cd := r.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment; filename=daytrader-history-"+c.query.User+"-") || !strings.HasSuffix(cd, ".csv") {
				t.Errorf("Content-Disposition %q", cd)
			}
			compareCSV(t, r.body, storedHistory(t, store, c.query))
		})
	}
	// alice asking for bob (a query parameter is no way in) gets her own.
	if r := a.get("/history.csv?user=" + bob); strings.Contains(r.body, bob) {
		t.Error("alice's export shows bob's records")
	}
	r = a.get("/history.csv?type=nope")
	wantStatus(t, r, http.StatusBadRequest)
	wantContains(t, r, `"nope" is not an event type`)
	if r := a.get("/admin/users/" + bob + "/history.csv"); r.StatusCode == http.StatusOK {
		t.Errorf("a trader exported another account's history: %d", r.StatusCode)
	}
}

// writeHistory stores n audit records of user, a mix of types and commands.
func writeHistory(t *testing.T, store *audit.Store, user string, at time.Time, n int) {
	t.Helper()
	kinds := []trading.Event{
		{Type: trading.UserCommandEvent, Command: trading.Buy, Symbol: "ABC", Funds: decimal.NewNullDecimal(decimal.RequireFromString("100.50"))},
		{Type: trading.QuoteServerEvent, Command: trading.Buy, Symbol: "ABC", Price: decimal.NewNullDecimal(decimal.RequireFromString("12.3")),
			QuoteServerTime: 1700000000123, Cryptokey: `k,"quoted"` + "\nline"},
		{Type: trading.AccountTransactionEvent, Command: trading.CommitBuy, Action: "remove", Funds: decimal.NewNullDecimal(decimal.RequireFromString("98.40"))},
		{Type: trading.UserCommandEvent, Command: trading.Add, Funds: decimal.NewNullDecimal(decimal.RequireFromString("5"))},
		{Type: trading.ErrorEvent, Command: trading.Sell, Symbol: "XY", Message: "you hold no free shares of XY, to sell"},
	}
	var events []trading.Event
	for i := range n {
		e := kinds[i%len(kinds)]
		e.User, e.TxNum = user, int64(1+i/2)
		e.Key = fmt.Sprintf("%s-%d", user, i)
		e.Time = at.Add(time.Duration(i) * time.Minute)
		events = append(events, e)
	}
	if err := store.Write(context.Background(), "csvtest", events); err != nil {
		t.Fatal(err)
	}
}

// storedHistory is what the audit store holds for q, newest first, read
// through History's paging.
func storedHistory(t *testing.T, store *audit.Store, q audit.HistoryQuery) []audit.StoredEvent {
	t.Helper()
	var events []audit.StoredEvent
	q.Limit = 7
	for {
		page, err := store.History(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, page.Events...)
		if page.NextBeforeID == 0 {
			break
		}
		q.BeforeID = page.NextBeforeID
	}
	if len(events) == 0 {
		t.Fatal("the query matches nothing: the comparison would be vacuous")
	}
	return events
}

func compareCSV(t *testing.T, body string, want []audit.StoredEvent) {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("the export is not CSV: %v", err)
	}
	if len(rows) == 0 || strings.Join(rows[0], ",") != "time_utc,tx,type,command,symbol,funds,price,details" {
		t.Fatalf("header %q", rows[:min(1, len(rows))])
	}
	rows = rows[1:]
	if len(rows) != len(want) {
		t.Fatalf("%d rows, the store holds %d", len(rows), len(want))
	}
	for i, e := range want {
		row := rows[i]
		ts, err := time.Parse(time.RFC3339Nano, row[0])
		sameMoney := func(s string, d decimal.NullDecimal) bool {
			if !d.Valid {
				return s == ""
			}
			got, err := decimal.NewFromString(s)
			return err == nil && got.Equal(d.Decimal)
		}
		if err != nil || !ts.Equal(e.Time) || row[1] != strconv.FormatInt(e.TxNum, 10) || row[2] != string(e.Type) ||
			row[3] != string(e.Command) || row[4] != e.Symbol || !sameMoney(row[5], e.Funds) || !sameMoney(row[6], e.Price) {
			t.Errorf("row %d = %q, the store holds %+v", i, row, e)
		}
		for _, part := range []string{e.Action, e.Message, e.Cryptokey} {
			if !strings.Contains(row[7], part) {
				t.Errorf("row %d details %q lack %q", i, row[7], part)
			}
		}
	}
}
