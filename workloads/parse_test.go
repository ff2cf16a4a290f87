package workloads

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/daytradinginc/daytrader/trading"
)

// courseDir returns the directory of the course's workload files, which live
// outside the repository (they are never copied into it).
func courseDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("DAYTRADER_WORKLOADS")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "workloads")
	}
	if _, err := os.Stat(filepath.Join(dir, "1userWorkLoad")); err != nil {
		t.Fatalf("course workload files not found (set DAYTRADER_WORKLOADS to their directory): %v", err)
	}
	return dir
}

func TestCourseFiles(t *testing.T) {
	dir := courseDir(t)
	for _, tc := range []struct {
		file  string
		lines int
		users int
		// invalid lists the lines whose values the rules reject: the course
		// files test the error path too ("[9962] ADD,umhaEY4lil,-73280.58").
		invalid []int64
	}{
		{"1userWorkLoad", 100, 1, nil},
		{"10User_testWorkLoad", 10_000, 10, []int64{9962}},
		{"45User_testWorkLoad", 10_000, 45, nil},
		{"100User_testWorkLoad", 100_000, 100, nil},
	} {
		t.Run(tc.file, func(t *testing.T) {
			w, parseErrs, err := ParseFile(filepath.Join(dir, tc.file), true)
			if err != nil {
				t.Fatal(err)
			}
			if len(parseErrs) != 0 {
				t.Fatalf("%d parse errors, first: %v", len(parseErrs), parseErrs[0])
			}
			if len(w.Lines) != tc.lines {
				t.Fatalf("got %d lines, want %d", len(w.Lines), tc.lines)
			}
			if len(w.Users) != tc.users || len(w.ByUser) != tc.users {
				t.Fatalf("got %d users (%d in ByUser), want %d", len(w.Users), len(w.ByUser), tc.users)
			}
			checkWorkloadShape(t, w)
			var invalid []int64
			for _, l := range w.Lines {
				if l.Cmd.Validate() != nil {
					invalid = append(invalid, l.Cmd.TxNum)
				}
			}
			if !reflect.DeepEqual(invalid, tc.invalid) {
				t.Errorf("lines failing Validate: got %v, want %v", invalid, tc.invalid)
			}
		})
	}
}

// checkWorkloadShape asserts what every course-like workload satisfies:
// lines numbered [1]..[N] on lines 1..N, one global DUMPLOG as the last line,
// Users in order of first appearance, each user's first command an ADD, and
// ByUser holding exactly each user's lines in file order.
func checkWorkloadShape(t *testing.T, w *Workload) {
	t.Helper()
	for i, l := range w.Lines {
		if l.LineNo != i+1 || l.Cmd.TxNum != int64(i+1) {
			t.Fatalf("line %d: LineNo %d TxNum %d, want both %d", i+1, l.LineNo, l.Cmd.TxNum, i+1)
		}
	}
	last := w.Lines[len(w.Lines)-1]
	want := trading.Command{TxNum: int64(len(w.Lines)), Name: trading.DumpLog, Filename: "./testLOG"}
	if len(w.Global) != 1 || w.Global[0] != last || last.Cmd != want {
		t.Fatalf("global lines %v, last line %v: want only the last line, %v", w.Global, last, want)
	}

	perUser := make(map[string][]trading.Command)
	var firstSeen []string
	for _, l := range w.Lines {
		if l.Cmd.User == "" {
			continue
		}
		if _, ok := perUser[l.Cmd.User]; !ok {
			firstSeen = append(firstSeen, l.Cmd.User)
		}
		perUser[l.Cmd.User] = append(perUser[l.Cmd.User], l.Cmd)
	}
	if !reflect.DeepEqual(w.Users, firstSeen) {
		t.Fatalf("Users is not in order of first appearance:\n got %v\nwant %v", w.Users, firstSeen)
	}
	if !reflect.DeepEqual(w.ByUser, perUser) {
		t.Fatal("ByUser does not hold each user's lines in file order")
	}
	for user, cmds := range w.ByUser {
		if cmds[0].Name != trading.Add {
			t.Errorf("user %s starts with %v, want an ADD", user, cmds[0])
		}
		for i := 1; i < len(cmds); i++ {
			if cmds[i].TxNum <= cmds[i-1].TxNum {
				t.Fatalf("user %s: %v after %v", user, cmds[i], cmds[i-1])
			}
		}
	}
}

func TestCourseFileContents(t *testing.T) {
	dir := courseDir(t)
	w, _, err := ParseFile(filepath.Join(dir, "1userWorkLoad"), true)
	if err != nil {
		t.Fatal(err)
	}
	// "[3] BUY,oY01WVirLr,S,276.83 " in the file: the trailing space is trimmed.
	want := trading.Command{TxNum: 3, Name: trading.Buy, User: "oY01WVirLr", Symbol: "S", Amount: "276.83"}
	if got := w.Lines[2].Cmd; got != want {
		t.Errorf("line 3: got %+v, want %+v", got, want)
	}
	if !reflect.DeepEqual(w.Users, []string{"oY01WVirLr"}) || len(w.ByUser["oY01WVirLr"]) != 99 {
		t.Errorf("users %v with %d commands, want oY01WVirLr with 99", w.Users, len(w.ByUser["oY01WVirLr"]))
	}

	// The generator's weights are the measured mix of the 100-user file.
	w, _, err = ParseFile(filepath.Join(dir, "100User_testWorkLoad"), true)
	if err != nil {
		t.Fatal(err)
	}
	counts := make(map[trading.CommandName]int)
	for _, l := range w.Lines {
		counts[l.Cmd.Name]++
	}
	wantCounts := map[trading.CommandName]int{trading.DumpLog: 1}
	for _, cw := range commandWeights {
		wantCounts[cw.Name] = cw.Weight
	}
	if !reflect.DeepEqual(counts, wantCounts) {
		t.Errorf("command mix of 100User_testWorkLoad:\n got %v\nwant %v (commandWeights)", counts, wantCounts)
	}
}

// parseAll parses text leniently, returning the good lines and the errors.
func parseAll(t *testing.T, text string) ([]Line, []*ParseError) {
	t.Helper()
	var lines []Line
	var parseErrs []*ParseError
	err := Parse(strings.NewReader(text),
		func(l Line) error { lines = append(lines, l); return nil },
		func(pe *ParseError) error { parseErrs = append(parseErrs, pe); return nil })
	if err != nil {
		t.Fatalf("lenient Parse returned %v", err)
	}
	return lines, parseErrs
}

func TestParseToleratesLayout(t *testing.T) {
	text := "[1] ADD,alice,100.00 \r\n" + // trailing space and CRLF
		"\n" + // blank line
		"   \t \r\n" + // white space only
		"[ 2 ]  BUY , alice , ABC , 5.5\t\n" + // spaces around every field
		"[3]COMMIT_BUY,alice\n" + // no space after ]
		"[4] ADD,bob,-1\n" + // a bad value is the rules' business, not the parser's
		"[5] DUMPLOG,alice,./alice.xml\n" +
		"[6] DUMPLOG,./testLOG" // no final newline
	lines, parseErrs := parseAll(t, text)
	if len(parseErrs) != 0 {
		t.Fatalf("unexpected errors: %v", parseErrs)
	}
	want := []Line{
		{1, trading.Command{TxNum: 1, Name: trading.Add, User: "alice", Amount: "100.00"}},
		{4, trading.Command{TxNum: 2, Name: trading.Buy, User: "alice", Symbol: "ABC", Amount: "5.5"}},
		{5, trading.Command{TxNum: 3, Name: trading.CommitBuy, User: "alice"}},
		{6, trading.Command{TxNum: 4, Name: trading.Add, User: "bob", Amount: "-1"}},
		{7, trading.Command{TxNum: 5, Name: trading.DumpLog, User: "alice", Filename: "./alice.xml"}},
		{8, trading.Command{TxNum: 6, Name: trading.DumpLog, Filename: "./testLOG"}},
	}
	if !reflect.DeepEqual(lines, want) {
		t.Fatalf("got\n%+v\nwant\n%+v", lines, want)
	}
}

func TestParseMalformedLines(t *testing.T) {
	tooLong := "[2] DUMPLOG,./" + strings.Repeat("x", MaxLineLength)
	for _, tc := range []struct {
		name, line string
		wantMsg    string
		wantIs     error
	}{
		{"no tx number", "ADD,alice,1.00", `must start with "[N] "`, ErrBadTxNum},
		{"no closing bracket", "[2 ADD,alice,1.00", `missing "]"`, ErrBadTxNum},
		{"empty tx number", "[] ADD,alice,1.00", `nothing between "[" and "]"`, ErrBadTxNum},
		{"letters", "[abc] ADD,alice,1.00", `"abc" is not a whole number`, ErrBadTxNum},
		{"negative", "[-2] ADD,alice,1.00", `"-2" is not a whole number`, ErrBadTxNum},
		{"plus sign", "[+2] ADD,alice,1.00", `"+2" is not a whole number`, ErrBadTxNum},
		{"fraction", "[2.5] ADD,alice,1.00", `"2.5" is not a whole number`, ErrBadTxNum},
		{"zero", "[0] ADD,alice,1.00", "must be positive, got 0", ErrBadTxNum},
		{"overflow", "[99999999999999999999] ADD,alice,1.00", `"99999999999999999999" is too large`, ErrBadTxNum},
		{"no command", "[2]   ", `missing command after "[2]"`, nil},
		{"unknown command", "[2] FOO,alice", `unknown command "FOO"`, nil},
		{"lower-case command", "[2] add,alice,1.00", `unknown command "add"`, nil},
		{"too few args", "[2] ADD,alice", "ADD takes 2 arguments, got 1", nil},
		{"too many args", "[2] COMMIT_BUY,alice,ABC", "COMMIT_BUY takes 1 arguments, got 2", nil},
		{"trailing comma", "[2] BUY,alice,ABC,1.00,", "BUY takes 3 arguments, got 4", nil},
		{"bare DUMPLOG", "[2] DUMPLOG", "DUMPLOG takes 2 arguments, got 0", nil},
		{"DUMPLOG three args", "[2] DUMPLOG,alice,a,b", "DUMPLOG takes 2 arguments, got 3", nil},
		{"too long", tooLong, "line too long: more than 4096 bytes", ErrLineTooLong},
		{"too long with CRLF", tooLong + "\r", "line too long", ErrLineTooLong},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := "[1] ADD,alice,1.00\n" + tc.line + "\n\n[3] QUOTE,alice,ABC\n"

			// Lenient: the bad line is reported on line 2, the others go through.
			lines, parseErrs := parseAll(t, text)
			if len(parseErrs) != 1 {
				t.Fatalf("got %d errors %v, want 1", len(parseErrs), parseErrs)
			}
			pe := parseErrs[0]
			if pe.LineNo != 2 || !strings.HasPrefix(pe.Error(), "line 2: ") || !strings.Contains(pe.Error(), tc.wantMsg) {
				t.Errorf("error %q (line %d), want line 2 and %q", pe.Error(), pe.LineNo, tc.wantMsg)
			}
			if tc.wantIs != nil && !errors.Is(pe, tc.wantIs) {
				t.Errorf("error %q is not %v", pe, tc.wantIs)
			}
			if len(pe.Error()) > 200 {
				t.Errorf("error message is %d bytes long, want the line cut short", len(pe.Error()))
			}
			if len(lines) != 2 || lines[0].LineNo != 1 || lines[1].LineNo != 4 || lines[1].Cmd.TxNum != 3 {
				t.Errorf("lenient parse delivered %+v, want lines 1 and 4", lines)
			}

			// Strict: parsing stops at the bad line.
			var delivered []Line
			err := Parse(strings.NewReader(text), func(l Line) error { delivered = append(delivered, l); return nil }, nil)
			var strictErr *ParseError
			if !errors.As(err, &strictErr) || strictErr.LineNo != 2 {
				t.Fatalf("strict parse returned %v, want the line 2 ParseError", err)
			}
			if len(delivered) != 1 {
				t.Errorf("strict parse delivered %d lines, want only line 1", len(delivered))
			}
		})
	}
}

func TestParseLineLengthLimit(t *testing.T) {
	lineOf := func(n int) string { // a well-formed line of exactly n bytes
		prefix := "[1] DUMPLOG,"
		return prefix + strings.Repeat("f", n-len(prefix))
	}
	for _, tc := range []struct {
		name string
		text string
		ok   bool
	}{
		{"max", lineOf(MaxLineLength), true},
		{"max LF", lineOf(MaxLineLength) + "\n", true},
		{"max CRLF", lineOf(MaxLineLength) + "\r\n", true},
		{"max+1", lineOf(MaxLineLength + 1), false},
		{"max+1 LF", lineOf(MaxLineLength+1) + "\n", false},
		{"max+1 CRLF", lineOf(MaxLineLength+1) + "\r\n", false},
		{"max+2", lineOf(MaxLineLength + 2), false},
		{"huge", lineOf(10 * MaxLineLength), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines, parseErrs := parseAll(t, tc.text+"\n[2] DUMPLOG,./testLOG\n")
			if tc.ok != (len(parseErrs) == 0) {
				t.Fatalf("ok=%v but got errors %v", tc.ok, parseErrs)
			}
			if !tc.ok && (parseErrs[0].LineNo != 1 || !errors.Is(parseErrs[0], ErrLineTooLong)) {
				t.Errorf("got %v, want line 1 too long", parseErrs[0])
			}
			// The line after is read whatever happened to the long one.
			last := lines[len(lines)-1]
			if last.Cmd.TxNum != 2 {
				t.Errorf("last line %+v, want [2]", last)
			}
		})
	}
}

func TestParseStopsOnCallbackError(t *testing.T) {
	errStop := errors.New("stop")
	calls := 0
	err := Parse(strings.NewReader("[1] ADD,a,1\n[2] ADD,b,1\n[3] ADD,c,1\n"), func(l Line) error {
		calls++
		if l.Cmd.TxNum == 2 {
			return errStop
		}
		return nil
	}, nil)
	if !errors.Is(err, errStop) || calls != 2 {
		t.Errorf("got %v after %d calls, want errStop after 2", err, calls)
	}
}

func TestParseReportsReadError(t *testing.T) {
	errDisk := errors.New("disk on fire")
	r := io.MultiReader(strings.NewReader("[1] ADD,a,1\n"), iotest.ErrReader(errDisk))
	var got []Line
	err := Parse(r, func(l Line) error { got = append(got, l); return nil }, nil)
	if !errors.Is(err, errDisk) || len(got) != 1 {
		t.Errorf("got %v after %d lines, want the read error after 1", err, len(got))
	}
}

func TestParseErrorMessage(t *testing.T) {
	_, err := ParseLine("[12] FOO,x")
	pe := &ParseError{LineNo: 12, Text: "[12] FOO,x", Err: err}
	if got, want := pe.Error(), `line 12: unknown command "FOO": "[12] FOO,x"`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestParseFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "workload")
	text := "[1] ADD,alice,10.00\n" +
		"[2] ADD,bob,20.00\n" +
		"[3] BUY,alice,ABC\n" + // wrong argument count
		"[4] QUOTE,alice,ABC\n" +
		"[x] QUOTE,bob,ABC\n" + // bad tx number
		"[6] DUMPLOG,./testLOG\n"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}

	w, parseErrs, err := ParseFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(parseErrs) != 2 || parseErrs[0].LineNo != 3 || parseErrs[1].LineNo != 5 {
		t.Fatalf("lenient errors %v, want lines 3 and 5", parseErrs)
	}
	if len(w.Lines) != 4 || !reflect.DeepEqual(w.Users, []string{"alice", "bob"}) {
		t.Fatalf("lenient workload: %d lines, users %v", len(w.Lines), w.Users)
	}
	wantAlice := []trading.Command{
		{TxNum: 1, Name: trading.Add, User: "alice", Amount: "10.00"},
		{TxNum: 4, Name: trading.QuoteCmd, User: "alice", Symbol: "ABC"},
	}
	if !reflect.DeepEqual(w.ByUser["alice"], wantAlice) {
		t.Errorf("alice: got %+v, want %+v", w.ByUser["alice"], wantAlice)
	}
	if len(w.Global) != 1 || w.Global[0].LineNo != 6 {
		t.Errorf("global lines %+v, want line 6", w.Global)
	}

	w, parseErrs, err = ParseFile(path, true)
	var pe *ParseError
	if w != nil || len(parseErrs) != 1 || !errors.As(err, &pe) || pe.LineNo != 3 || !strings.Contains(err.Error(), path) {
		t.Errorf("strict: workload %v, errors %v, err %v; want nil, the line 3 error, an error naming the file", w, parseErrs, err)
	}

	if _, _, err := ParseFile(filepath.Join(t.TempDir(), "missing"), false); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: got %v, want not-exist", err)
	}
}
