package trading

import (
	"regexp"
	"strings"
	"testing"
)

// The patterns ValidUser, ValidSymbol and ParseMoney's text check were
// written as before they became byte loops: the loops must agree with them
// on every input.
var (
	userRegexp   = regexp.MustCompile(`^[A-Za-z0-9]{1,64}$`)
	symbolRegexp = regexp.MustCompile(`^[A-Z]{1,3}$`)
	moneyRegexp  = regexp.MustCompile(`^[0-9]+(\.[0-9]{1,2})?$`)
)

// textCases are edges of the three patterns: lengths at and past their
// bounds, characters just outside each range, a trailing newline (which a
// regexp's $ must not accept), multi-byte characters and NUL.
func textCases() []string {
	cases := []string{"", "a", "A", "0", "Z", "z", "@", "[", "`", "{", "/", ":", ".",
		"ABC", "ABCD", "AB1", "aBC", "AB\n", "A\x00", "É", "ÀB",
		"1", "12", "12.", "12.5", "12.50", "12.505", ".5", "1.2.3", "1..2", "1,50", "+1", "-1", "1e3", "0.00",
		"12.5\n", "١٢", " 12", "12 ", strings.Repeat("9", 25), strings.Repeat("9", 20) + ".99",
		strings.Repeat("a", 63), strings.Repeat("a", 64), strings.Repeat("a", 65), strings.Repeat("Z9", 32) + "\n"}
	for c := 0; c < 256; c++ {
		cases = append(cases, string(rune(c)), "A"+string([]byte{byte(c)}), "1."+string([]byte{byte(c)}))
	}
	return cases
}

func checkAgainstRegexps(t *testing.T, s string) {
	t.Helper()
	if got, want := ValidUser(s), userRegexp.MatchString(s); got != want {
		t.Errorf("ValidUser(%q) = %v, the pattern says %v", s, got, want)
	}
	if got, want := ValidSymbol(s), symbolRegexp.MatchString(s); got != want {
		t.Errorf("ValidSymbol(%q) = %v, the pattern says %v", s, got, want)
	}
	if got, want := moneyText(s), moneyRegexp.MatchString(s); got != want {
		t.Errorf("moneyText(%q) = %v, the pattern says %v", s, got, want)
	}
}

func TestTextChecksAgreeWithTheirPatterns(t *testing.T) {
	for _, s := range textCases() {
		checkAgainstRegexps(t, s)
	}
}

func FuzzTextChecksAgreeWithTheirPatterns(f *testing.F) {
	for _, s := range textCases() {
		f.Add(s)
	}
	f.Fuzz(checkAgainstRegexps)
}

func BenchmarkTextChecks(b *testing.B) {
	for b.Loop() {
		ValidUser("oY01WVirLr")
		ValidSymbol("ABC")
		moneyText("1234.56")
	}
}
