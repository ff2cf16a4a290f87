package quotes

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

func TestPriceWalk(t *testing.T) {
	walk := NewPriceWalk(1)
	one, thousand := decimal.NewFromInt(1), decimal.NewFromInt(1000)
	var below126, moved int
	symbols := 0
	for _, a := range "ABCDEFGHIJKLMNOPQRSTUVWXYZ" {
		for _, b := range "ABCDEFGHIJKLMNOPQRSTUVWXYZ" {
			symbol := string(a) + string(b)
			symbols++
			start := walk.Price(symbol, 0)
			if start.LessThan(one) || !start.LessThan(thousand) || !start.Equal(start.Round(2)) {
				t.Fatalf("%s starts at %s, want $1.00..$999.99 in cents", symbol, start)
			}
			if start.LessThan(decimal.NewFromInt(126)) {
				below126++
			}
			prev := start
			for step := int64(1); step <= 30; step++ {
				p := walk.Price(symbol, step)
				if !p.IsPositive() || !p.Equal(p.Round(2)) {
					t.Fatalf("%s step %d = %s, want > 0 in cents", symbol, step, p)
				}
				// ±3 % per step, plus half a cent of rounding.
				limit := prev.Mul(decimal.RequireFromString("0.03")).Add(decimal.RequireFromString("0.005"))
				if p.Sub(prev).Abs().GreaterThan(limit) {
					t.Fatalf("%s moved from %s to %s in one step", symbol, prev, p)
				}
				if !p.Equal(prev) {
					moved++
				}
				prev = p
			}
		}
	}
	// The start price is 1 + 999u³: half the symbols below about $126.
	if share := float64(below126) / float64(symbols); share < 0.45 || share > 0.55 {
		t.Errorf("%.2f of start prices below $126, want about 0.5", share)
	}
	if moved < symbols*30*9/10 {
		t.Errorf("prices changed in %d of %d steps, the walk barely moves", moved, symbols*30)
	}

	// Deterministic in (seed, symbol, step), whatever was asked before.
	other := NewPriceWalk(1)
	if a, b := walk.Price("ABC", 10), other.Price("ABC", 10); !a.Equal(b) {
		t.Errorf("same seed, ABC step 10: %s and %s", a, b)
	}
	if a, b := walk.Price("ABC", 3), other.Price("ABC", 3); !a.Equal(b) {
		t.Errorf("going back to step 3: %s and %s", a, b)
	}
	differ := false
	seed2 := NewPriceWalk(2)
	for _, s := range []string{"A", "B", "C", "D", "E"} {
		differ = differ || !walk.Price(s, 0).Equal(seed2.Price(s, 0))
	}
	if !differ {
		t.Error("seeds 1 and 2 give the same start prices")
	}
}

func TestLoadPrices(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "prices.txt")
	os.WriteFile(path, []byte("# fixed prices\nABC,12.50\n\n  S , 7 \nXYZ,0.01\n"), 0o644)
	prices, err := LoadPrices(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"ABC": "12.5", "S": "7", "XYZ": "0.01"}
	if len(prices) != len(want) {
		t.Fatalf("prices = %v, want %v", prices, want)
	}
	for s, p := range want {
		if !prices[s].Equal(decimal.RequireFromString(p)) {
			t.Errorf("%s = %s, want %s", s, prices[s], p)
		}
	}

	for _, c := range []struct{ text, wantErr string }{
		{"ABC,1\nabc,2\n", ":2: stock symbol \"abc\""},
		{"ABC,1\nDEF\n", ":2: want SYM,price, got 1 fields"},
		{"ABC,1,2\n", ":1: want SYM,price, got 3 fields"},
		{"ABC,0\n", ":1: price must be greater than 0"},
		{"ABC,1.234\n", ":1: price \"1.234\" is not a dollar amount"},
		{"ABC,-1\n", ":1: price \"-1\""},
		{"# only\n\n", "no prices"},
		{"ABC,1\n#\nABC,2\n", ":3: symbol ABC already has a price on line 1"},
	} {
		_, err := ParsePrices(strings.NewReader(c.text), "p.txt")
		if err == nil || !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("ParsePrices(%q) = %v, want an error mentioning %q", c.text, err, c.wantErr)
		}
	}
	if _, err := LoadPrices(filepath.Join(dir, "missing.txt")); err == nil {
		t.Error("LoadPrices of a missing file succeeded")
	}
}
