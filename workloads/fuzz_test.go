package workloads

import (
	"strings"
	"testing"

	"github.com/daytradinginc/daytrader/trading"
)

// FuzzParseLine feeds arbitrary text to ParseLine and to Parse. Neither may
// panic; what ParseLine accepts has a positive transaction number and a known
// command, and prints back (Command.String) to a line that parses to the same
// command whenever no field was empty; Parse reports increasing line numbers
// within the text.
func FuzzParseLine(f *testing.F) {
	for _, seed := range []string{
		"[1] ADD,oY01WVirLr,63511.53 ",
		"[100] DUMPLOG,./testLOG",
		"[7] SET_SELL_TRIGGER,alice,ABC,12.5\r",
		"[ 2 ]  BUY , alice , ABC , 5.5",
		"[0] ADD,a,1",
		"ADD,a,1",
		"[1] DUMPLOG,",
		"[99999999999999999999] QUOTE,a,B",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		cmd, err := ParseLine(text)
		if err == nil {
			if cmd.TxNum <= 0 || !cmd.Name.Known() || (cmd.User != "" && !trading.ValidUser(cmd.User)) {
				t.Fatalf("ParseLine(%q) accepted %+v", text, cmd)
			}
			if allFieldsFilled(text) {
				again, err := ParseLine(cmd.String())
				if err != nil || again != cmd {
					t.Fatalf("ParseLine(%q) = %+v, printed %q parses to %+v, %v", text, cmd, cmd.String(), again, err)
				}
			}
		}

		lastLineNo := 0
		maxLineNo := strings.Count(text, "\n") + 1
		check := func(lineNo int) {
			if lineNo <= lastLineNo || lineNo > maxLineNo {
				t.Fatalf("line number %d after %d in a text of %d lines", lineNo, lastLineNo, maxLineNo)
			}
			lastLineNo = lineNo
		}
		err = Parse(strings.NewReader(text),
			func(l Line) error { check(l.LineNo); return nil },
			func(pe *ParseError) error { check(pe.LineNo); _ = pe.Error(); return nil })
		if err != nil {
			t.Fatalf("lenient Parse of %q: %v", text, err)
		}
	})
}

// allFieldsFilled reports whether every comma-separated field after "]" is
// non-blank: Command.String leaves empty fields out, so only then can the
// printed line be the same command.
func allFieldsFilled(text string) bool {
	_, rest, _ := strings.Cut(text, "]")
	for _, field := range strings.Split(rest, ",") {
		if strings.TrimSpace(field) == "" {
			return false
		}
	}
	return true
}
