package workloads

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// Source is a workload a run reads twice, line by line: once to plan it
// (who the users are, how many commands each has, that no transaction
// number repeats) and once to send it. A *File keeps only the plan in
// memory, so a file of any length runs in bounded memory; a *Workload is a
// file already parsed whole.
type Source interface {
	// Each calls fn with every well-formed line in file order and stops at
	// the first error fn returns.
	Each(fn func(Line) error) error
	// eachOf is Each for the commands of the users in the set (nil: every
	// line). A File skips other users' lines without parsing them.
	eachOf(users map[string]bool, fn func(Line) error) error
	plan() (*plan, error)
}

// plan is what a run must know of a workload before sending it. It grows
// with the number of users, not of commands.
type plan struct {
	users  []string              // in order of first appearance
	byUser map[string]*userStats // per user
	global []Line                // lines without a user (the global DUMPLOG)
	total  int64                 // user commands
}

// userStats are one user's commands as the plan sees them.
type userStats struct {
	count       int64
	first, last int64  // transaction numbers of the first and the last command
	index       uint32 // the user's place in plan.users
}

// newPlan scans src once. It refuses a workload that uses a transaction
// number twice: an account ignores a number it has seen, and the report
// matches records to commands by number.
//
// Finding repeats keeps no number in order: a number above every one
// before it cannot repeat any of them, and in the course files and the
// generated ones every number is. Only the others (suspects) are kept and,
// if there are any, looked for in one more read. So the plan's memory grows
// with the users, and with the numbers out of order, never with the
// length of a file numbered in order.
func newPlan(each func(fn func(Line) error) error) (*plan, error) {
	p := &plan{byUser: map[string]*userStats{}}
	var highest int64
	var suspects []int64
	err := each(func(l Line) error {
		if l.Cmd.TxNum > highest {
			highest = l.Cmd.TxNum
		} else {
			suspects = append(suspects, l.Cmd.TxNum)
		}
		if l.Cmd.User == "" {
			p.global = append(p.global, l)
			return nil
		}
		st := p.byUser[l.Cmd.User]
		if st == nil {
			st = &userStats{first: l.Cmd.TxNum, index: uint32(len(p.users))}
			p.byUser[l.Cmd.User] = st
			p.users = append(p.users, l.Cmd.User)
		}
		st.count++
		st.last = l.Cmd.TxNum
		p.total++
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(suspects) > 0 {
		if err := repeatedTxNums(each, suspects); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// maxPasses bounds how many times a run reads a file (passes): reading is
// cheap next to sending, but not free.
const maxPasses = 64

// passes splits the users, in order of first appearance, into groups for
// the sender to go through one after another, a read of the workload each.
// A group's commands add up to at least budget (the last group's may fall
// short), and to at least total/maxPasses. A budget of 0 or less, or one
// that covers every command, gives a single group: nil, every user.
//
// Why: an account runs every command it has received in one workflow task,
// whose cost is mostly per task, not per command. In file order a long
// workload's users are interleaved, so within the window each account has
// received a batch or two and its tasks are small; taking a group of users
// at a time, with budget the window, lets an account receive all its
// commands at once while memory still holds one batch per user of the
// group at most.
func (p *plan) passes(budget int64) []map[string]bool {
	if budget <= 0 || budget >= p.total {
		return []map[string]bool{nil}
	}
	budget = max(budget, p.total/maxPasses)
	var out []map[string]bool
	group, inGroup := map[string]bool{}, int64(0)
	for _, u := range p.users {
		group[u] = true
		inGroup += p.byUser[u].count
		if inGroup >= budget {
			out = append(out, group)
			group, inGroup = map[string]bool{}, 0
		}
	}
	if len(group) > 0 {
		out = append(out, group)
	}
	return out
}

// repeatedTxNums reads the lines again and fails naming where each of the
// watched numbers is used a second time; nil when none is.
func repeatedTxNums(each func(fn func(Line) error) error, watched []int64) error {
	firstLine := make(map[int64]int, len(watched))
	for _, n := range watched {
		firstLine[n] = 0
	}
	var dups []string
	err := each(func(l Line) error {
		prev, watched := firstLine[l.Cmd.TxNum]
		switch {
		case !watched:
		case prev == 0:
			firstLine[l.Cmd.TxNum] = l.LineNo
		default:
			dups = append(dups, fmt.Sprintf("line %d: transaction number %d is already used on line %d", l.LineNo, l.Cmd.TxNum, prev))
		}
		return nil
	})
	if err != nil || len(dups) == 0 {
		return err
	}
	const shown = 5
	msg := strings.Join(dups[:min(shown, len(dups))], "; ")
	if len(dups) > shown {
		msg += fmt.Sprintf("; and %d more", len(dups)-shown)
	}
	return fmt.Errorf("every transaction number must be unique (an account ignores a number it has seen): %s", msg)
}

// CommandsByUser is how many commands each user has in src, from its
// plan (a *File's was made by OpenFile: the file is not read again).
func CommandsByUser(src Source) (map[string]int64, error) {
	p, err := src.plan()
	if err != nil {
		return nil, err
	}
	counts := make(map[string]int64, len(p.byUser))
	for u, st := range p.byUser {
		counts[u] = st.count
	}
	return counts, nil
}

// Each calls fn with every line of the parsed workload.
func (w *Workload) Each(fn func(Line) error) error {
	for _, l := range w.Lines {
		if err := fn(l); err != nil {
			return err
		}
	}
	return nil
}

func (w *Workload) eachOf(users map[string]bool, fn func(Line) error) error {
	if users == nil {
		return w.Each(fn)
	}
	return w.Each(func(l Line) error {
		if !users[l.Cmd.User] {
			return nil
		}
		return fn(l)
	})
}

func (w *Workload) plan() (*plan, error) { return newPlan(w.Each) }

// File is a workload file that is read from disk each time it is gone
// through; only its plan stays in memory. Malformed lines are left out
// (OpenFile reports them).
type File struct {
	Path string
	p    *plan
}

// OpenFile reads the workload file at path once (twice when a transaction
// number follows a larger one, see newPlan), to plan its run and to find its
// malformed lines. In strict mode the first malformed line stops
// it: the file is nil, the slice holds that one *ParseError and err wraps
// it. In lenient mode malformed lines are left out and all returned in the
// slice, and err is nil unless the file cannot be read or a transaction
// number is used twice.
func OpenFile(path string, strict bool) (*File, []*ParseError, error) {
	f := &File{Path: path}
	var parseErrs []*ParseError
	record := func(pe *ParseError) error {
		parseErrs = append(parseErrs, pe)
		if strict {
			return pe
		}
		return nil
	}
	first := true
	p, err := newPlan(func(fn func(Line) error) error {
		if !first { // a second read only looks for repeated numbers
			return f.Each(fn)
		}
		first = false
		return f.each(fn, record)
	})
	if err != nil {
		return nil, parseErrs, err
	}
	f.p = p
	return f, parseErrs, nil
}

// Each calls fn with every well-formed line of the file.
func (f *File) Each(fn func(Line) error) error {
	return f.each(fn, func(*ParseError) error { return nil })
}

// eachOf reads the whole file and parses only the lines whose user field
// names one of users (nil: every line).
func (f *File) eachOf(users map[string]bool, fn func(Line) error) error {
	var keep func([]byte) bool
	if users != nil {
		keep = func(user []byte) bool { return users[string(user)] }
	}
	return f.read(keep, fn, func(*ParseError) error { return nil })
}

func (f *File) each(fn func(Line) error, onErr func(*ParseError) error) error {
	return f.read(nil, fn, onErr)
}

func (f *File) read(keep func([]byte) bool, fn func(Line) error, onErr func(*ParseError) error) error {
	r, err := os.Open(f.Path)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := parseUsers(r, keep, fn, onErr); err != nil {
		var pe *ParseError
		if errors.As(err, &pe) {
			return fmt.Errorf("%s: %w", f.Path, err)
		}
		return fmt.Errorf("reading %s: %w", f.Path, err)
	}
	return nil
}

func (f *File) plan() (*plan, error) {
	if f.p == nil {
		return nil, errors.New("workloads: a File must come from OpenFile")
	}
	return f.p, nil
}
