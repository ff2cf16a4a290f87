package workloads

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/daytradinginc/daytrader/trading"
	"github.com/shopspring/decimal"
)

func generate(t *testing.T, opts GenOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Generate(&buf, opts); err != nil {
		t.Fatalf("Generate(%+v): %v", opts, err)
	}
	return buf.Bytes()
}

func TestGenerateDeterministic(t *testing.T) {
	opts := GenOptions{Users: 10, Lines: 2000, Seed: 42}
	a, b := generate(t, opts), generate(t, opts)
	if !bytes.Equal(a, b) {
		t.Fatal("same seed gave different bytes")
	}
	opts.Seed = 43
	if c := generate(t, opts); bytes.Equal(a, c) {
		t.Fatal("different seeds gave the same bytes")
	}
}

func TestGenerateLineCountAndUsers(t *testing.T) {
	for _, tc := range []struct {
		opts      GenOptions
		wantUsers int
	}{
		{GenOptions{Users: 1, Lines: 1}, 0}, // only the DUMPLOG
		{GenOptions{Users: 1, Lines: 2}, 1},
		{GenOptions{Users: 10, Lines: 5}, 4},   // not enough room for every user
		{GenOptions{Users: 50, Lines: 51}, 50}, // just enough: every line an ADD
		{GenOptions{Users: 50, Lines: 60}, 50}, // late users are forced in
		{GenOptions{Users: 3, Lines: 1000}, 3}, // few users, many lines
		{GenOptions{Users: 7, Lines: 300, Symbols: 1}, 7},
	} {
		text := generate(t, tc.opts)
		if got := bytes.Count(text, []byte("\n")); got != tc.opts.Lines {
			t.Errorf("%+v: %d lines, want %d", tc.opts, got, tc.opts.Lines)
		}
		w := parseGenerated(t, text)
		if len(w.Lines) != tc.opts.Lines || len(w.Users) != tc.wantUsers {
			t.Errorf("%+v: parsed %d lines and %d users, want %d and %d", tc.opts, len(w.Lines), len(w.Users), tc.opts.Lines, tc.wantUsers)
		}
		checkWorkloadShape(t, w)
	}
}

// parseGenerated parses a generated workload strictly from a file, the way a
// caller would read it.
func parseGenerated(t *testing.T, text []byte) *Workload {
	t.Helper()
	path := filepath.Join(t.TempDir(), "generated")
	if err := os.WriteFile(path, text, 0o600); err != nil {
		t.Fatal(err)
	}
	w, parseErrs, err := ParseFile(path, true)
	if err != nil || len(parseErrs) != 0 {
		t.Fatalf("generated workload does not parse: %v %v", err, parseErrs)
	}
	return w
}

func TestGenerateRoundTripAndMix(t *testing.T) {
	opts := GenOptions{Users: 100, Lines: 100_000, Seed: 1}
	text := generate(t, opts)
	w := parseGenerated(t, text)
	if len(w.Lines) != opts.Lines || len(w.Users) != opts.Users {
		t.Fatalf("%d lines and %d users, want %d and %d", len(w.Lines), len(w.Users), opts.Lines, opts.Users)
	}
	checkWorkloadShape(t, w)

	// Printing the parsed commands gives back the very same bytes.
	var printed strings.Builder
	for _, l := range w.Lines {
		printed.WriteString(l.Cmd.String() + "\n")
	}
	if printed.String() != string(text) {
		t.Error("parsed commands do not print back to the generated text")
	}

	userID := regexp.MustCompile(`^[A-Za-z0-9]{10}$`)
	cents := regexp.MustCompile(`^[0-9]+\.[0-9]{2}$`)
	inRange := func(s, lo, hi string) bool {
		d := decimal.RequireFromString(s)
		return cents.MatchString(s) && d.GreaterThanOrEqual(decimal.RequireFromString(lo)) && d.LessThanOrEqual(decimal.RequireFromString(hi))
	}
	counts := make(map[trading.CommandName]int)
	symbols := make(map[string]bool)
	for _, l := range w.Lines {
		c := l.Cmd
		counts[c.Name]++
		if err := c.Validate(); err != nil {
			t.Fatalf("generated %v is invalid: %v", c, err)
		}
		if c.Symbol != "" {
			symbols[c.Symbol] = true
		}
		switch {
		case c.User != "" && !userID.MatchString(c.User):
			t.Fatalf("%v: user id is not 10 letters or digits", c)
		case c.Name == trading.Add && !inRange(c.Amount, "10000.00", "130000.00"):
			t.Fatalf("%v: ADD amount out of range", c)
		case c.Name != trading.Add && c.Amount != "" && !inRange(c.Amount, "0.01", "750.00"):
			t.Fatalf("%v: amount out of range", c)
		case c.Price != "" && !inRange(c.Price, "0.01", "750.00"):
			t.Fatalf("%v: trigger price out of range", c)
		}
	}
	// The default is 10 symbols per user; 100,000 lines use them all.
	if len(symbols) != 10*opts.Users {
		t.Errorf("%d distinct symbols, want %d", len(symbols), 10*opts.Users)
	}

	// The mix is the course's within half a percentage point (the sampling
	// error at 100,000 lines is about a tenth of that).
	if counts[trading.DumpLog] != 1 {
		t.Errorf("%d DUMPLOG lines, want 1", counts[trading.DumpLog])
	}
	for _, cw := range commandWeights {
		want := 100 * float64(cw.Weight) / float64(totalWeight)
		got := 100 * float64(counts[cw.Name]) / float64(opts.Lines)
		if math.Abs(got-want) > 0.5 {
			t.Errorf("%s: %.2f %% of lines, want %.2f %% ± 0.5", cw.Name, got, want)
		} else {
			t.Logf("%-16s %6d lines %5.2f %% (course %5.2f %%)", cw.Name, counts[cw.Name], got, want)
		}
	}
}

func TestGenerateBadOptions(t *testing.T) {
	for _, opts := range []GenOptions{
		{Users: 0, Lines: 10},
		{Users: -1, Lines: 10},
		{Users: 1, Lines: 0},
		{Users: 1, Lines: 10, Symbols: -1},
		{Users: 1, Lines: 10, Symbols: maxSymbols + 1},
	} {
		var buf bytes.Buffer
		if err := Generate(&buf, opts); err == nil || buf.Len() != 0 {
			t.Errorf("%+v: got error %v and %d bytes, want an error and nothing written", opts, err, buf.Len())
		}
	}
}

func TestGenerateAllSymbols(t *testing.T) {
	w := parseGenerated(t, generate(t, GenOptions{Users: 2, Lines: 20, Symbols: maxSymbols}))
	if len(w.Lines) != 20 {
		t.Errorf("%d lines, want 20", len(w.Lines))
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestGenerateReportsWriteError(t *testing.T) {
	if err := Generate(failingWriter{}, GenOptions{Users: 10, Lines: 10_000}); err == nil || err.Error() != "disk full" {
		t.Errorf("got %v, want the writer's error", err)
	}
}

func TestSymbolAt(t *testing.T) {
	for k, want := range map[int]string{0: "A", 25: "Z", 26: "AA", 27: "AB", 701: "ZZ", 702: "AAA", maxSymbols - 1: "ZZZ"} {
		if got := symbolAt(k); got != want {
			t.Errorf("symbolAt(%d) = %q, want %q", k, got, want)
		}
	}
}
