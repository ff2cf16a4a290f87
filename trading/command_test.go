package trading

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

func TestParseMoney(t *testing.T) {
	accepted := []struct {
		in   string
		want string
	}{
		{"5", "5"},
		{"5.5", "5.5"},
		{"5.50", "5.5"},
		{"0.01", "0.01"},
		{"1234567.89", "1234567.89"},
	}
	for _, tc := range accepted {
		t.Run("accepts "+tc.in, func(t *testing.T) {
			got, err := ParseMoney("amount", tc.in)
			if err != nil {
				t.Fatalf("ParseMoney(%q) = error %v, want %s", tc.in, err, tc.want)
			}
			if !got.Equal(decimal.RequireFromString(tc.want)) {
				t.Errorf("ParseMoney(%q) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}

	rejected := []struct {
		in, why string
	}{
		{"1.234", "three decimals"},
		{"-1", "a sign"},
		{"+1", "a plus sign"},
		{"1e3", "an exponent"},
		{".5", "no integer part"},
		{"5.", "an empty fraction"},
		{"", "nothing"},
		{"0", "zero"},
		{"0.00", "zero with cents"},
		{" 5", "a leading space"},
		{"5 ", "a trailing space"},
		{"1,000", "a thousands separator"},
		{"$5", "a dollar sign"},
		{"abc", "letters"},
		{"NaN", "not a number"},
		{"123456789012345678901", "more than 20 characters"},
	}
	for _, tc := range rejected {
		t.Run("rejects "+tc.why+" ("+tc.in+")", func(t *testing.T) {
			got, err := ParseMoney("amount", tc.in)
			if err == nil {
				t.Fatalf("ParseMoney(%q) = %s, want an error", tc.in, got)
			}
			if !strings.Contains(err.Error(), "amount") {
				t.Errorf("error %q does not say what was wrong (the amount)", err)
			}
		})
	}

	t.Run("names the field in the error", func(t *testing.T) {
		_, err := ParseMoney("trigger price", "1.234")
		if err == nil || !strings.Contains(err.Error(), "trigger price") || !strings.Contains(err.Error(), "1.234") {
			t.Errorf("error %v should name the trigger price and quote the bad value", err)
		}
	})
}

func TestValidUser(t *testing.T) {
	for _, tc := range []struct {
		user string
		ok   bool
	}{
		{"alice", true},
		{"A", true},
		{"oY01WVirLr", true},
		{strings.Repeat("a", 64), true},
		{strings.Repeat("a", 65), false},
		{"", false},
		{"al ice", false},
		{"alice_1", false},
		{"alice-1", false},
		{"élodie", false},
		{"../alice", false},
	} {
		t.Run(strings.ReplaceAll(tc.user, "/", "∕")+" is valid: "+yesNo(tc.ok), func(t *testing.T) {
			if got := ValidUser(tc.user); got != tc.ok {
				t.Errorf("ValidUser(%q) = %v, want %v", tc.user, got, tc.ok)
			}
		})
	}
	t.Run("user ids are case-sensitive: Alice and alice are different accounts", func(t *testing.T) {
		a := NewAccount("alice")
		out := a.Execute(Command{TxNum: 1, Name: Add, User: "Alice", Amount: "10"}, Env{Now: t0})
		if out.Result.OK || a.Opened {
			t.Errorf("ADD for Alice opened alice's account: %+v", out.Result)
		}
	})
}

func TestValidSymbol(t *testing.T) {
	for _, tc := range []struct {
		sym string
		ok  bool
	}{
		{"A", true},
		{"AB", true},
		{"ABC", true},
		{"ABCD", false},
		{"", false},
		{"abc", false},
		{"Abc", false},
		{"A1", false},
		{"A B", false},
	} {
		t.Run(tc.sym+" is valid: "+yesNo(tc.ok), func(t *testing.T) {
			if got := ValidSymbol(tc.sym); got != tc.ok {
				t.Errorf("ValidSymbol(%q) = %v, want %v", tc.sym, got, tc.ok)
			}
		})
	}
}

func TestParseArgs(t *testing.T) {
	t.Run("a workload line's fields land in the named fields, trimmed", func(t *testing.T) {
		cmd, err := ParseArgs(7, " BUY ", []string{" alice", "ABC ", " 100.00 "})
		if err != nil {
			t.Fatal(err)
		}
		want := Command{TxNum: 7, Name: Buy, User: "alice", Symbol: "ABC", Amount: "100.00"}
		if cmd != want {
			t.Errorf("got %+v, want %+v", cmd, want)
		}
	})

	t.Run("every command's arguments go to the right field", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			args []string
			want Command
		}{
			{"ADD", []string{"u", "5"}, Command{Name: Add, User: "u", Amount: "5"}},
			{"QUOTE", []string{"u", "S"}, Command{Name: QuoteCmd, User: "u", Symbol: "S"}},
			{"SELL", []string{"u", "S", "5"}, Command{Name: Sell, User: "u", Symbol: "S", Amount: "5"}},
			{"COMMIT_BUY", []string{"u"}, Command{Name: CommitBuy, User: "u"}},
			{"SET_BUY_AMOUNT", []string{"u", "S", "5"}, Command{Name: SetBuyAmount, User: "u", Symbol: "S", Amount: "5"}},
			{"SET_BUY_TRIGGER", []string{"u", "S", "5"}, Command{Name: SetBuyTrigger, User: "u", Symbol: "S", Price: "5"}},
			{"SET_SELL_TRIGGER", []string{"u", "S", "5"}, Command{Name: SetSellTrigger, User: "u", Symbol: "S", Price: "5"}},
			{"CANCEL_SET_SELL", []string{"u", "S"}, Command{Name: CancelSetSell, User: "u", Symbol: "S"}},
			{"DISPLAY_SUMMARY", []string{"u"}, Command{Name: DisplaySummary, User: "u"}},
			{"DUMPLOG", []string{"u", "./f"}, Command{Name: DumpLog, User: "u", Filename: "./f"}},
			{"DUMPLOG", []string{"./f"}, Command{Name: DumpLog, Filename: "./f"}},
		} {
			cmd, err := ParseArgs(1, tc.name, tc.args)
			tc.want.TxNum = 1
			if err != nil || cmd != tc.want {
				t.Errorf("ParseArgs(%s, %q) = %+v, %v; want %+v", tc.name, tc.args, cmd, err, tc.want)
			}
		}
	})

	for _, tc := range []struct {
		name string
		args []string
	}{
		{"ADD", []string{"alice"}},
		{"ADD", []string{"alice", "5", "6"}},
		{"QUOTE", []string{"alice"}},
		{"BUY", []string{"alice", "ABC"}},
		{"BUY", []string{"alice", "ABC", "5", "x"}},
		{"COMMIT_BUY", []string{}},
		{"COMMIT_BUY", []string{"alice", "ABC"}},
		{"CANCEL_SELL", []string{"alice", "x"}},
		{"SET_SELL_TRIGGER", []string{"alice", "ABC"}},
		{"CANCEL_SET_BUY", []string{"alice"}},
		{"DISPLAY_SUMMARY", []string{}},
		{"DUMPLOG", []string{}},
		{"DUMPLOG", []string{"alice", "f", "g"}},
	} {
		t.Run(tc.name+" with "+strconv.Itoa(len(tc.args))+" arguments is refused", func(t *testing.T) {
			_, err := ParseArgs(1, tc.name, tc.args)
			if err == nil {
				t.Fatalf("ParseArgs(%s, %q) accepted a wrong argument count", tc.name, tc.args)
			}
			if !strings.Contains(err.Error(), "arguments") {
				t.Errorf("error %q should say the argument count is wrong", err)
			}
		})
	}

	for _, name := range []string{"FOO", "buy", "Buy", "", "COMMIT", "DUMP_LOG"} {
		t.Run("unknown command name "+strconv.Quote(name)+" is refused", func(t *testing.T) {
			_, err := ParseArgs(1, name, []string{"alice"})
			if err == nil || !strings.Contains(err.Error(), "unknown command") {
				t.Errorf("ParseArgs(%q) = %v, want an unknown command error", name, err)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	valid := []Command{
		{TxNum: 1, Name: Add, User: "alice", Amount: "5"},
		{TxNum: 1, Name: QuoteCmd, User: "alice", Symbol: "ABC"},
		{TxNum: 1, Name: Buy, User: "alice", Symbol: "A", Amount: "5.50"},
		{TxNum: 1, Name: CommitBuy, User: "alice"},
		{TxNum: 1, Name: SetBuyTrigger, User: "alice", Symbol: "AB", Price: "0.01"},
		{TxNum: 1, Name: CancelSetSell, User: "alice", Symbol: "AB"},
		{TxNum: 1, Name: DumpLog, User: "alice", Filename: "./testLOG"},
		{TxNum: 1, Name: DumpLog, Filename: "./testLOG"},
	}
	for _, c := range valid {
		t.Run(c.String()+" is valid", func(t *testing.T) {
			if err := c.Validate(); err != nil {
				t.Errorf("Validate() = %v", err)
			}
		})
	}

	invalid := []struct {
		cmd     Command
		message string
	}{
		{Command{TxNum: 1, Name: "FOO", User: "alice"}, "unknown command"},
		{Command{TxNum: 0, Name: Add, User: "alice", Amount: "5"}, "transaction number"},
		{Command{TxNum: -3, Name: Add, User: "alice", Amount: "5"}, "transaction number"},
		{Command{TxNum: 1, Name: Add, User: "", Amount: "5"}, "user id"},
		{Command{TxNum: 1, Name: Add, User: "ali ce", Amount: "5"}, "user id"},
		{Command{TxNum: 1, Name: Add, User: "alice", Amount: "1.234"}, "amount"},
		{Command{TxNum: 1, Name: Add, User: "alice"}, "amount"},
		{Command{TxNum: 1, Name: QuoteCmd, User: "alice", Symbol: "abc"}, "symbol"},
		{Command{TxNum: 1, Name: Buy, User: "alice", Symbol: "ABCD", Amount: "5"}, "symbol"},
		{Command{TxNum: 1, Name: Buy, User: "alice", Symbol: "ABC", Amount: "0"}, "amount"},
		{Command{TxNum: 1, Name: SetBuyTrigger, User: "alice", Symbol: "ABC", Price: "-1"}, "trigger price"},
		{Command{TxNum: 1, Name: SetSellTrigger, User: "alice", Symbol: "ABC", Amount: "5"}, "trigger price"},
		{Command{TxNum: 1, Name: DumpLog, User: "alice", Filename: "../x"}, "dump file name"},
		{Command{TxNum: 1, Name: DumpLog, Filename: "/etc/passwd"}, "dump file name"},
	}
	for _, tc := range invalid {
		t.Run(tc.cmd.String()+" is refused naming the "+tc.message, func(t *testing.T) {
			err := tc.cmd.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.message) {
				t.Errorf("Validate() = %v, want an error about the %s", err, tc.message)
			}
		})
	}

	t.Run("a lower-case symbol is rejected, not upper-cased", func(t *testing.T) {
		c := Command{TxNum: 1, Name: Buy, User: "alice", Symbol: "abc", Amount: "5"}
		if err := c.Validate(); err == nil {
			t.Fatal("Validate accepted symbol abc")
		}
		if c.Symbol != "abc" {
			t.Errorf("Validate changed the symbol to %q", c.Symbol)
		}
		cmd, err := ParseArgs(1, "BUY", []string{"alice", "abc", "5"})
		if err != nil || cmd.Symbol != "abc" {
			t.Errorf("ParseArgs changed or refused the symbol: %+v, %v", cmd, err)
		}
	})
}

func TestValidFilename(t *testing.T) {
	for _, name := range []string{"./testLOG", "dump.xml", "testLOG", "a..b", "x-y_z.2026.xml", strings.Repeat("f", 255)} {
		t.Run("accepts "+name[:min(len(name), 20)], func(t *testing.T) {
			if err := ValidFilename(name); err != nil {
				t.Errorf("ValidFilename(%q) = %v", name, err)
			}
		})
	}
	t.Run("the ./ prefix of workload files is stripped by CleanFilename", func(t *testing.T) {
		if got := CleanFilename("./testLOG"); got != "testLOG" {
			t.Errorf("CleanFilename = %q", got)
		}
		if got := CleanFilename("dump.xml"); got != "dump.xml" {
			t.Errorf("CleanFilename = %q", got)
		}
	})
	for _, tc := range []struct{ name, why string }{
		{"../x", "a parent directory"},
		{"./../x", "a parent directory behind ./"},
		{"a/b", "a subdirectory"},
		{"/etc/passwd", "an absolute path"},
		{".", "the directory itself"},
		{"..", "the parent directory"},
		{".hidden", "a hidden file"},
		{"./.hidden", "a hidden file behind ./"},
		{"a\x00b", "a NUL byte"},
		{`..\x`, "a backslash"},
		{"", "an empty name"},
		{"./", "only ./"},
		{strings.Repeat("f", 256), "more than 255 characters"},
	} {
		t.Run("refuses "+tc.why, func(t *testing.T) {
			err := ValidFilename(tc.name)
			if err == nil {
				t.Fatalf("ValidFilename(%q) accepted it", tc.name)
			}
			if !strings.Contains(err.Error(), "dump file name") {
				t.Errorf("error %q does not say it is about the dump file name", err)
			}
		})
	}
}

func TestCommandName(t *testing.T) {
	t.Run("every command of the spec is known", func(t *testing.T) {
		all := []CommandName{Add, QuoteCmd, Buy, CommitBuy, CancelBuy, Sell, CommitSell, CancelSell, SetBuyAmount,
			SetBuyTrigger, CancelSetBuy, SetSellAmount, SetSellTrigger, CancelSetSell, DisplaySummary, DumpLog}
		for _, n := range all {
			if !n.Known() {
				t.Errorf("%s is not Known", n)
			}
		}
		if CommandName("FOO").Known() {
			t.Error("FOO is Known")
		}
	})
	t.Run("exactly the commands that look at a price need a quote", func(t *testing.T) {
		var need []CommandName
		for n := range commandArgs {
			if n.NeedsQuote() {
				need = append(need, n)
			}
		}
		slices.Sort(need)
		want := []CommandName{Buy, QuoteCmd, Sell, SetBuyTrigger, SetSellTrigger}
		slices.Sort(want)
		if !slices.Equal(need, want) {
			t.Errorf("NeedsQuote is true for %v, want %v", need, want)
		}
	})
	t.Run("a command prints as its workload line", func(t *testing.T) {
		c := Command{TxNum: 3, Name: Buy, User: "alice", Symbol: "ABC", Amount: "10.50"}
		if got := c.String(); got != "[3] BUY,alice,ABC,10.50" {
			t.Errorf("String() = %q", got)
		}
	})
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func TestCheckUser(t *testing.T) {
	if err := CheckUser("alice42"); err != nil {
		t.Errorf("CheckUser(alice42) = %v", err)
	}
	for user, want := range map[string]string{
		"böb":                     `user id "böb" must be 1 to 64 letters or digits`,
		"bo\x00b":                 `user id "bo\x00b" must be 1 to 64 letters or digits`,
		"":                        `user id "" must be 1 to 64 letters or digits`,
		"../x":                    `user id "../x" must be 1 to 64 letters or digits`,
		strings.Repeat("a", 1024): `user id "` + strings.Repeat("a", 64) + `"… (1024 bytes) must be 1 to 64 letters or digits`,
		// Cut at a character boundary, never inside ö.
		strings.Repeat("a", 63) + "öö": `user id "` + strings.Repeat("a", 63) + `"… (67 bytes) must be 1 to 64 letters or digits`,
	} {
		if err := CheckUser(user); err == nil || err.Error() != want {
			t.Errorf("CheckUser(%.20q) = %v, want %s", user, err, want)
		}
	}
}

func TestValidFor(t *testing.T) {
	for _, tc := range []struct {
		cmd  Command
		want string
	}{
		{Command{TxNum: 1, Name: Add, User: "alice", Amount: "5"}, ""},
		{Command{TxNum: 1, Name: Add, User: "bob", Amount: "5"}, "command for user bob sent to the account of alice"},
		{Command{TxNum: 1, Name: Add, User: "böb", Amount: "5"}, `user id "böb" must be 1 to 64 letters or digits`},
		{Command{TxNum: 1, Name: DumpLog, Filename: "./all"}, "the system-wide DUMPLOG is not a command of the account of alice"},
	} {
		err := tc.cmd.ValidFor("alice")
		if got := fmt.Sprint(err); (tc.want == "" && err != nil) || (tc.want != "" && got != tc.want) {
			t.Errorf("%s: ValidFor(alice) = %v, want %q", tc.cmd, err, tc.want)
		}
	}
}
