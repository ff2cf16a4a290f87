package audit

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/trading"
	"github.com/shopspring/decimal"
)

// TestEachPricedEventGivesTheMarketAroundEachRecord: alice's records,
// oldest first, each command naming a symbol with the newest quote of it
// stored by anyone up to its time and the first one after; records without
// a symbol, quote records themselves and other users' records get none or
// do not appear. The lookups use the partial index on quote records.
func TestEachPricedEventGivesTheMarketAroundEachRecord(t *testing.T) {
	s, pool := newTestStore(t)
	ctx := context.Background()
	at := func(sec float64) time.Time { return day1.Add(time.Duration(sec * float64(time.Second))) }
	quote := func(key, user, sym string, sec float64, price string, tx int64) trading.Event {
		return trading.Event{Key: key, Type: trading.QuoteServerEvent, Time: at(sec), TxNum: tx, User: user, Symbol: sym,
			Price: decimal.NewNullDecimal(decimal.RequireFromString(price)), QuoteServerTime: 1, Cryptokey: "k"}
	}
	command := func(key string, tx int64, cmd trading.CommandName, sym string, sec float64) trading.Event {
		return trading.Event{Key: key, Type: trading.UserCommandEvent, Time: at(sec), TxNum: tx, Command: cmd, User: "alice", Symbol: sym,
			Funds: decimal.NewNullDecimal(decimal.NewFromInt(100))}
	}
	events := []trading.Event{
		quote("q-bob", "bob", "ABC", 0, "10.00", 1),
		quote("q-carol", "carol", "XYZ", 5, "20.00", 1),
		{Key: "a-add", Type: trading.AccountTransactionEvent, Time: at(1), TxNum: 1, Action: "add", User: "alice", Funds: decimal.NewNullDecimal(decimal.NewFromInt(1000))},
		command("a-buy", 2, trading.Buy, "ABC", 20),
		command("a-quote", 3, trading.QuoteCmd, "ABC", 69.9),
		quote("q-alice", "alice", "ABC", 70, "11.00", 3),
		command("a-setbuy", 4, trading.SetBuyAmount, "XYZ", 100),
		command("b-buy", 5, trading.Buy, "ABC", 30),
	}
	events[len(events)-1].User = "bob"
	if err := s.Write(ctx, "srv", events); err != nil {
		t.Fatal(err)
	}
	var got []string
	err := s.EachPricedEvent(ctx, "alice", func(e PricedEvent) error {
		q := func(m MarketQuote) string {
			if !m.Valid() {
				return "-"
			}
			return fmt.Sprintf("%s@%gs", m.Price.StringFixed(2), m.At.Sub(day1).Seconds())
		}
		got = append(got, fmt.Sprintf("%s %s before %s after %s", e.Key, e.Symbol, q(e.Before), q(e.After)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"a-add  before - after -",
		"a-buy ABC before 10.00@0s after 11.00@70s",
		"a-quote ABC before 10.00@0s after 11.00@70s",
		"q-alice ABC before - after -",
		"a-setbuy XYZ before 20.00@5s after -",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("priced history:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if err := s.EachPricedEvent(ctx, "", func(PricedEvent) error { return nil }); err == nil {
		t.Error("a priced history of no user was read")
	}

	// The quote lookups probe the partial index (the planner needs fresh
	// statistics and no cheaper sequential scan to choose it).
	if _, err := pool.Exec(ctx, "ANALYZE audit_events"); err != nil {
		t.Fatal(err)
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SET enable_seqscan = off"); err != nil {
		t.Fatal(err)
	}
	var plan strings.Builder
	rows, err := conn.Query(ctx, "EXPLAIN "+pricedEvents, "alice")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan.WriteString(line + "\n")
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	if strings.Count(plan.String(), "audit_events_quotes") != 2 {
		t.Errorf("the quote lookups do not use audit_events_quotes:\n%s", plan.String())
	}
}
