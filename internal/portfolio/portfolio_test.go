package portfolio

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/internal/portfolio/portfoliotest"
	"github.com/daytradinginc/daytrader/internal/svgchart"
	"github.com/daytradinginc/daytrader/trading"
)

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// script runs lines through m (see portfoliotest.Market.Script).
func script(t *testing.T, m *portfoliotest.Market, lines ...string) {
	t.Helper()
	if err := m.Script(t0, lines...); err != nil {
		t.Fatal(err)
	}
}

func replay(m *portfoliotest.Market, user string, opts Options) (History, *Replay) {
	r := New(user, opts)
	for _, e := range m.Priced(user) {
		r.Add(e)
	}
	return r.History(), r
}

func points(ps []svgchart.Point) string {
	var out []string
	for _, p := range ps {
		out = append(out, fmt.Sprintf("%s=%s", p.T.Sub(t0), p.V.StringFixed(2)))
	}
	return strings.Join(out, " ")
}

func knownSequence(t *testing.T) *portfoliotest.Market {
	t.Helper()
	m, err := portfoliotest.KnownSequence(t0, "alice", "bob")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestReplayOfAKnownSequence checks every value point, price, trade and
// the realized P&L against what portfoliotest.KnownSequence says by hand.
func TestReplayOfAKnownSequence(t *testing.T) {
	m := knownSequence(t)
	h, r := replay(m, "alice", Options{})
	if h.Unmatched != 0 {
		t.Errorf("%d commands not reproduced", h.Unmatched)
	}
	// 1000 cash; 10 ABC bought at 10 (1000); ABC seen at 12 (900 + 120);
	// unchanged by the sell, reserve and trigger buy (848.01 + 72 + 100 at
	// 10); ABC at 15 (848.01 + 90 + 100); +500; ABC at 16 (6 more).
	want := "0s=1000.00 1m0s=1000.01 2m30s=1020.01 6m0s=1038.01 7m0s=1538.01 8m0.005s=1544.01"
	if got := points(h.Value); got != want {
		t.Errorf("value points\n got %s\nwant %s", got, want)
	}
	wantPrices := map[string]string{
		"ABC": "10.005s=10.00 2m0.005s=12.00 6m0.005s=15.00 8m0.005s=16.00",
		"XYZ": "3m10.005s=20.00 5m0.005s=10.00",
	}
	for sym, want := range wantPrices {
		if got := points(h.Symbols[sym].Prices); got != want {
			t.Errorf("%s prices\n got %s\nwant %s", sym, got, want)
		}
	}
	var trades []string
	for _, sym := range []string{"ABC", "XYZ"} {
		for _, tr := range h.Symbols[sym].Trades {
			trades = append(trades, fmt.Sprintf("%s %s %s %d@%s=%s auto=%v", tr.At.Sub(t0), sym, tr.Side, tr.Shares, tr.Price, tr.Total.StringFixed(2), tr.Auto))
		}
	}
	wantTrades := "30s ABC buy 10@10=100.00 auto=false|2m40s ABC sell 4@12=48.00 auto=false|5m0s XYZ buy 10@10=100.00 auto=true"
	if got := strings.Join(trades, "|"); got != wantTrades {
		t.Errorf("trades\n got %s\nwant %s", got, wantTrades)
	}
	if g := h.Symbols["ABC"].Realized; !g.Equal(decimal.NewFromInt(8)) {
		t.Errorf("ABC realized %s, want 8 (4 sold at 12 that cost 10)", g)
	}
	a, real := r.Account(), m.Account("alice")
	if !a.Cash.Equal(real.Cash) || a.Holdings["ABC"] != real.Holdings["ABC"] || a.Holdings["XYZ"] != 10 {
		t.Errorf("replayed cash %s, ABC %d, XYZ %d; the account has %s, %d, %d", a.Cash, a.Holdings["ABC"], a.Holdings["XYZ"],
			real.Cash, real.Holdings["ABC"], real.Holdings["XYZ"])
	}
	if h.Records != len(m.Priced("alice")) {
		t.Errorf("%d records counted of %d", h.Records, len(m.Priced("alice")))
	}
}

// TestReplayTakesTheAuditedCashWhenItCannotReproduceIt: a price the market
// records do not explain (the SELL's quote record removed, as with another
// worker's cache) is counted and the chart follows the audited cash.
func TestReplayTakesTheAuditedCashWhenItCannotReproduceIt(t *testing.T) {
	m := knownSequence(t)
	var tampered []audit.PricedEvent
	for _, e := range m.Priced("alice") {
		if e.Command == trading.Sell && e.Type == trading.UserCommandEvent && e.Time.Equal(t0.Add(150*time.Second)) {
			e.Before = audit.MarketQuote{Price: decimal.RequireFromString("13.00"), At: e.Before.At}
		}
		tampered = append(tampered, e)
	}
	r := New("alice", Options{})
	for _, e := range tampered {
		r.Add(e)
	}
	h := r.History()
	if h.Unmatched == 0 {
		t.Fatal("a sell at the wrong price was reproduced without notice")
	}
	if want := m.Account("alice").Cash; !r.Account().Cash.Equal(want) {
		t.Errorf("replayed cash %s, the audit says %s", r.Account().Cash, want)
	}
}

// TestReplayStaysBounded: a long history keeps at most MaxPoints+1 value
// points and MaxTrades trades, ending with the last.
func TestReplayStaysBounded(t *testing.T) {
	m := portfoliotest.NewMarket()
	m.SetPrice("ABC", "1.00")
	var lines []string
	for i := range 1000 {
		at := time.Duration(i) * 2 * time.Minute
		lines = append(lines, fmt.Sprintf("%s carol ADD 10", at), fmt.Sprintf("%s carol BUY ABC 2", at+time.Second),
			fmt.Sprintf("%s carol COMMIT_BUY", at+2*time.Second))
	}
	script(t, m, lines...)
	h, _ := replay(m, "carol", Options{MaxPoints: 50, MaxTrades: 20})
	if n := len(h.Value); n > 51 || n < 25 {
		t.Errorf("%d value points, want at most 51 and not too few", n)
	}
	if last := h.Value[len(h.Value)-1].V; !last.Equal(decimal.NewFromInt(10_000)) {
		t.Errorf("last value %s, want 10000", last)
	}
	abc := h.Symbols["ABC"]
	if len(abc.Trades) != 20 || abc.Traded != 1000 || abc.Trades[19].TxNum != 3000 {
		t.Errorf("%d trades kept of %d, last tx %d", len(abc.Trades), abc.Traded, abc.Trades[len(abc.Trades)-1].TxNum)
	}
	if n := len(abc.Prices); n > 51 {
		t.Errorf("%d price points", n)
	}
}

// TestReplayMatchesTheAccountOnRandomTrading: random commands of three
// traders over three symbols whose prices move, triggers included; every
// trader's replay reproduces their cash, reserve and shares with no
// unmatched command.
func TestReplayMatchesTheAccountOnRandomTrading(t *testing.T) {
	trades := map[bool]int{} // by Auto
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 7))
		m := portfoliotest.NewMarket()
		syms, users := []string{"ABC", "XY", "Q"}, []string{"ann", "ben", "cy"}
		for _, s := range syms {
			m.SetPrice(s, "10.00")
		}
		at := t0
		for i := range 400 {
			at = at.Add(time.Duration(rng.IntN(40_000)) * time.Millisecond)
			if rng.IntN(8) == 0 {
				m.SetPrice(syms[rng.IntN(3)], fmt.Sprintf("%d.%02d", 5+rng.IntN(10), rng.IntN(100)))
			}
			u, sym := users[rng.IntN(3)], syms[rng.IntN(3)]
			if rng.IntN(15) == 0 {
				m.Hit(at, u, sym)
				continue
			}
			cmd := randomCommand(rng, int64(2*i+1), u, sym)
			m.Run(at, cmd)
			if (cmd.Name == trading.Buy || cmd.Name == trading.Sell) && rng.IntN(2) == 0 {
				commit := trading.Command{TxNum: int64(2*i + 2), User: u, Name: trading.CommitBuy}
				if cmd.Name == trading.Sell {
					commit.Name = trading.CommitSell
				}
				m.Run(at.Add(time.Second), commit)
			}
		}
		for _, u := range users {
			h, r := replay(m, u, Options{})
			a, real := r.Account(), m.Account(u)
			if h.Unmatched != 0 || !a.Cash.Equal(real.Cash) || !a.ReservedCash().Equal(real.ReservedCash()) ||
				fmt.Sprint(a.Holdings) != fmt.Sprint(real.Holdings) || !a.RealizedPL.Equal(real.RealizedPL) {
				t.Fatalf("seed %d, %s: replay (unmatched %d) cash %s reserved %s holdings %v realized %s; account %s %s %v %s",
					seed, u, h.Unmatched, a.Cash, a.ReservedCash(), a.Holdings, a.RealizedPL,
					real.Cash, real.ReservedCash(), real.Holdings, real.RealizedPL)
			}
			for _, s := range h.Symbols {
				for _, tr := range s.Trades {
					trades[tr.Auto]++
				}
			}
		}
	}
	if trades[false] < 50 || trades[true] < 10 {
		t.Errorf("the random trading made %d committed and %d automatic trades: too few to test", trades[false], trades[true])
	}
	t.Logf("%d committed and %d automatic trades replayed", trades[false], trades[true])
}

func randomCommand(rng *rand.Rand, tx int64, user, sym string) trading.Command {
	names := []trading.CommandName{trading.Add, trading.QuoteCmd, trading.Buy, trading.CommitBuy, trading.CancelBuy,
		trading.Sell, trading.CommitSell, trading.CancelSell, trading.SetBuyAmount, trading.SetBuyTrigger,
		trading.CancelSetBuy, trading.SetSellAmount, trading.SetSellTrigger, trading.CancelSetSell}
	cmd := trading.Command{TxNum: tx, User: user, Name: names[rng.IntN(len(names))]}
	amount := fmt.Sprintf("%d.%02d", rng.IntN(200), rng.IntN(100))
	switch cmd.Name {
	case trading.Add:
		cmd.Amount = fmt.Sprint(100 + rng.IntN(1000))
	case trading.QuoteCmd, trading.CancelSetBuy, trading.CancelSetSell:
		cmd.Symbol = sym
	case trading.Buy, trading.Sell, trading.SetBuyAmount, trading.SetSellAmount:
		cmd.Symbol, cmd.Amount = sym, amount
	case trading.SetBuyTrigger, trading.SetSellTrigger:
		cmd.Symbol, cmd.Price = sym, fmt.Sprintf("%d.%02d", 5+rng.IntN(10), rng.IntN(100))
	}
	return cmd
}
