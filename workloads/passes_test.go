package workloads

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestLineUser(t *testing.T) {
	for line, want := range map[string]string{
		"[1] ADD,alice,10.00\n":           "alice",
		"[2] DISPLAY_SUMMARY,bob\r\n":     "bob",
		"[3]  QUOTE , carol , ABC \n":     "carol",
		"[4] DUMPLOG,./testLOG\n":         "./testLOG",
		"[5] DISPLAY_SUMMARY\n":           "",
		"garbage":                         "",
		"[6] BUY,dave,ABC,10.00":          "dave",
		"[7] DUMPLOG,erin,./erin.xml\r\n": "erin",
	} {
		if got := string(lineUser([]byte(line))); got != want {
			t.Errorf("lineUser(%q) = %q, want %q", line, got, want)
		}
	}
}

// planOf is the plan of users with the given command counts, in order.
func planOf(counts ...int64) *plan {
	p := &plan{byUser: map[string]*userStats{}}
	for i, n := range counts {
		u := string(rune('a' + i))
		p.users = append(p.users, u)
		p.byUser[u] = &userStats{count: n}
		p.total += n
	}
	return p
}

func TestPassesGroupUsersUpToTheBudget(t *testing.T) {
	groupNames := func(groups []map[string]bool) [][]string {
		var out [][]string
		for _, g := range groups {
			if g == nil {
				out = append(out, nil)
				continue
			}
			out = append(out, slices.Sorted(maps.Keys(g)))
		}
		return out
	}
	cases := []struct {
		name   string
		counts []int64
		budget int64
		want   [][]string
	}{
		{"no window: one pass, every user", []int64{5, 5, 5}, 0, [][]string{nil}},
		{"window covers the file", []int64{5, 5, 5}, 15, [][]string{nil}},
		{"groups reach the budget in first-appearance order", []int64{3, 4, 5, 1, 1}, 6,
			[][]string{{"a", "b"}, {"c", "d"}, {"e"}}},
		{"a user bigger than the budget is a group alone", []int64{20, 1, 1}, 5, [][]string{{"a"}, {"b", "c"}}},
	}
	for _, c := range cases {
		got := groupNames(planOf(c.counts...).passes(c.budget))
		if !slices.EqualFunc(got, c.want, slices.Equal) {
			t.Errorf("%s: passes(%d) = %v, want %v", c.name, c.budget, got, c.want)
		}
	}
	// However small the window, a file is read at most maxPasses times.
	many := make([]int64, 1000)
	for i := range many {
		many[i] = 10
	}
	if n := len(planOf(many...).passes(1)); n > maxPasses {
		t.Errorf("1000 users, budget 1: %d passes, want at most %d", n, maxPasses)
	}
}

func TestFileEachOfReadsOnlyItsUsers(t *testing.T) {
	text := "[1] ADD,alice,10.00\n" +
		"[2] ADD,bob,10.00\n" +
		"[3] NOT_A_COMMAND,bob\n" + // malformed, another user's: skipped, not parsed
		"\n" +
		"[5] QUOTE,alice,ABC\r\n" +
		"[6] QUOTE,carol,ABC\n" +
		"[7] DUMPLOG,./testLOG\n"
	path := filepath.Join(t.TempDir(), "w")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	f, _, err := OpenFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	var got []Line
	if err := f.eachOf(map[string]bool{"alice": true, "carol": true}, func(l Line) error {
		got = append(got, l)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		lineNo int
		tx     int64
		user   string
	}{{1, 1, "alice"}, {5, 5, "alice"}, {6, 6, "carol"}}
	if len(got) != len(want) {
		t.Fatalf("got %d lines %+v, want %d", len(got), got, len(want))
	}
	for i, w := range want {
		if got[i].LineNo != w.lineNo || got[i].Cmd.TxNum != w.tx || got[i].Cmd.User != w.user {
			t.Errorf("line %d: got line %d tx %d user %q, want line %d tx %d user %q", i,
				got[i].LineNo, got[i].Cmd.TxNum, got[i].Cmd.User, w.lineNo, w.tx, w.user)
		}
	}
}
