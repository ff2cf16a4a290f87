// Package workloads reads and writes workload files in the course format:
// one `[N] COMMAND,arg,arg` per line, users interleaved, the last line a
// global `DUMPLOG,./testLOG`. Parsing checks only the shape of a line (the
// transaction number, a known command name, the argument count); the values
// are left to the trading rules so that a bad amount becomes an audited error
// event instead of a rejected file.
package workloads

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/daytradinginc/daytrader/trading"
)

// MaxLineLength is the longest line (in bytes, without its line ending) that
// Parse accepts. Course lines are under 60 bytes and the longest well-formed
// line (a 64-character user id and a 255-character dump file name) is under
// 400, so anything longer is garbage; capping it keeps memory bounded.
const MaxLineLength = 4096

// Sentinel errors wrapped by ParseError, for errors.Is.
var (
	ErrLineTooLong = errors.New("line too long")
	ErrBadTxNum    = errors.New("bad transaction number")
	// ErrBadUser: the line is well formed but its user id is not one
	// (trading.ValidUser). No account can take it, so it is refused here
	// rather than left to the rules; Temporal could not even address it.
	ErrBadUser = errors.New("bad user id")
)

// Line is one well-formed workload line.
type Line struct {
	LineNo int // 1-based line number in the file (blank lines count)
	Cmd    trading.Command
}

// ParseError reports a malformed workload line.
type ParseError struct {
	LineNo int    // 1-based line number in the file
	Text   string // the line as read, without its line ending (cut short if very long)
	Err    error
	// Cmd is the line's command when only its user id is wrong (Err wraps
	// ErrBadUser): the transaction number and command are known, so the
	// refusal can be audited.
	Cmd *trading.Command
}

// textShown is how much of a bad line an error message quotes.
const textShown = 80

func (e *ParseError) Error() string {
	text := e.Text
	if len(text) > textShown {
		text = text[:textShown] + "..."
	}
	return fmt.Sprintf("line %d: %v: %q", e.LineNo, e.Err, text)
}

func (e *ParseError) Unwrap() error { return e.Err }

// ParseLine parses one non-blank line `[N] COMMAND,arg,...` into a command
// whose TxNum is N. Surrounding white space, including a trailing "\r", is
// ignored, and every field is trimmed.
func ParseLine(text string) (trading.Command, error) {
	s := strings.TrimSpace(text)
	if s == "" {
		return trading.Command{}, errors.New("empty line")
	}
	if s[0] != '[' {
		return trading.Command{}, fmt.Errorf("%w: the line must start with \"[N] \"", ErrBadTxNum)
	}
	closing := strings.IndexByte(s, ']')
	if closing < 0 {
		return trading.Command{}, fmt.Errorf("%w: missing \"]\" after the transaction number", ErrBadTxNum)
	}
	txNum, err := parseTxNum(strings.TrimSpace(s[1:closing]))
	if err != nil {
		return trading.Command{}, err
	}
	rest := strings.TrimSpace(s[closing+1:])
	if rest == "" {
		return trading.Command{}, fmt.Errorf("missing command after %q", s[:closing+1])
	}
	// Split into an array on the stack: a run parses every line of its
	// file twice, and strings.Split's slice was a sixth of its garbage.
	var room [8]string
	fields := room[:0]
	for f := range strings.SplitSeq(rest, ",") {
		fields = append(fields, f)
	}
	cmd, err := trading.ParseArgs(txNum, fields[0], fields[1:])
	if err == nil && cmd.User != "" && !trading.ValidUser(cmd.User) {
		return cmd, fmt.Errorf("%w %s: want 1 to 64 letters and digits", ErrBadUser, quoteUser(cmd.User))
	}
	return cmd, err
}

// quoteUser shows a hostile user id safely in a message (and so in an audit
// record and XML): Go-quoted ASCII, control characters escaped, cut short.
func quoteUser(user string) string {
	const shown = 40
	if len(user) > shown {
		return strconv.QuoteToASCII(user[:shown]) + fmt.Sprintf(" (%d bytes)", len(user))
	}
	return strconv.QuoteToASCII(user)
}

// parseTxNum reads N of `[N]`: plain decimal digits (no sign), 1 or more.
func parseTxNum(s string) (int64, error) {
	if s == "" {
		return 0, fmt.Errorf("%w: nothing between \"[\" and \"]\"", ErrBadTxNum)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%w: %q is not a whole number", ErrBadTxNum, s)
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q is too large", ErrBadTxNum, s)
	}
	if n <= 0 {
		return 0, fmt.Errorf("%w: must be positive, got %d", ErrBadTxNum, n)
	}
	return n, nil
}

// Parse reads a workload from r one line at a time (memory stays bounded by
// MaxLineLength whatever the file size) and calls fn for every well-formed
// line in file order. Blank lines are skipped. A malformed line is passed to
// onErr as a *ParseError: a strict caller returns it (or any error) to stop
// parsing, a lenient one records it and returns nil to go on. A nil onErr is
// strict. Parse returns the first error returned by fn or onErr, or a read
// error from r.
func Parse(r io.Reader, fn func(Line) error, onErr func(*ParseError) error) error {
	return parseUsers(r, nil, fn, onErr)
}

// parseUsers is Parse for the lines whose user field (the second field,
// as lineUser finds it) keep accepts; nil keeps every line. The others are
// skipped unparsed, malformed or not, so a caller that reads a big file
// once per group of users parses each line once in all.
func parseUsers(r io.Reader, keep func(user []byte) bool, fn func(Line) error, onErr func(*ParseError) error) error {
	if onErr == nil {
		onErr = func(pe *ParseError) error { return pe }
	}
	// ReadSlice rather than bufio.Scanner: the Scanner stops for good at an
	// over-long line, while a lenient caller wants to skip it and go on.
	// The buffer has room for the longest accepted line plus "\r\n".
	br := bufio.NewReaderSize(r, MaxLineLength+2)
	lineNo := 0
	for {
		chunk, readErr := br.ReadSlice('\n')
		if len(chunk) == 0 && readErr == io.EOF {
			return nil
		}
		lineNo++
		if errors.Is(readErr, bufio.ErrBufferFull) {
			switch err := skipLongLine(br, chunk, lineNo, onErr); err {
			case nil:
				continue
			case io.EOF:
				return nil
			default:
				return err
			}
		}
		if readErr != nil && readErr != io.EOF {
			return readErr
		}
		if keep != nil && !keep(lineUser(chunk)) {
			if readErr == io.EOF {
				return nil
			}
			continue
		}
		if err := parseChunk(chunk, lineNo, fn, onErr); err != nil {
			return err
		}
		if readErr == io.EOF {
			return nil
		}
	}
}

// parseChunk parses one line read by parseUsers (its "\n" or "\r\n"
// included) and hands it to fn, or its error to onErr; blank lines are
// skipped.
func parseChunk(chunk []byte, lineNo int, fn func(Line) error, onErr func(*ParseError) error) error {
	text := strings.TrimSuffix(strings.TrimSuffix(string(chunk), "\n"), "\r")
	switch {
	case strings.TrimSpace(text) == "":
		return nil
	case len(text) > MaxLineLength:
		return onErr(&ParseError{LineNo: lineNo, Text: text[:textShown], Err: fmt.Errorf("%w: more than %d bytes", ErrLineTooLong, MaxLineLength)})
	}
	cmd, err := ParseLine(text)
	if err != nil {
		pe := &ParseError{LineNo: lineNo, Text: text, Err: err}
		if errors.Is(err, ErrBadUser) {
			pe.Cmd = &cmd
		}
		return onErr(pe)
	}
	return fn(Line{LineNo: lineNo, Cmd: cmd})
}

// lineUser is the second field of `[N] COMMAND,user,...`, trimmed: the
// user of every command that has one (for the global DUMPLOG it is the file
// name). It is found without parsing or allocating, so that lines of other
// users are skipped cheaply; nil when the line has no second field.
func lineUser(line []byte) []byte {
	_, rest, ok := bytes.Cut(line, []byte{','})
	if !ok {
		return nil
	}
	user, _, _ := bytes.Cut(rest, []byte{','})
	return bytes.TrimSpace(user)
}

// skipLongLine reads past the rest of a line longer than MaxLineLength and
// reports it. It returns io.EOF when the file ends with that line, or the
// error that stopped it.
func skipLongLine(br *bufio.Reader, head []byte, lineNo int, onErr func(*ParseError) error) error {
	shown := string(head[:textShown])
	readErr := bufio.ErrBufferFull
	for errors.Is(readErr, bufio.ErrBufferFull) {
		_, readErr = br.ReadSlice('\n')
	}
	if readErr != nil && readErr != io.EOF {
		return readErr
	}
	pe := &ParseError{LineNo: lineNo, Text: shown, Err: fmt.Errorf("%w: more than %d bytes", ErrLineTooLong, MaxLineLength)}
	if err := onErr(pe); err != nil {
		return err
	}
	return readErr
}

// Workload is a whole parsed workload file.
type Workload struct {
	Lines  []Line                       // every well-formed line, in file order
	Users  []string                     // user ids in order of first appearance
	ByUser map[string][]trading.Command // each user's commands, in file order
	Global []Line                       // commands without a user: the global DUMPLOG
}

// ParseFile reads the workload file at path. In strict mode the first
// malformed line stops it: the workload is nil, the slice holds that one
// *ParseError and err wraps it. In lenient mode malformed lines are left out
// of the workload and all returned in the slice, and err is nil unless the
// file cannot be read.
func ParseFile(path string, strict bool) (*Workload, []*ParseError, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()

	w := &Workload{ByUser: make(map[string][]trading.Command)}
	var parseErrs []*ParseError
	add := func(l Line) error {
		w.Lines = append(w.Lines, l)
		if l.Cmd.User == "" {
			w.Global = append(w.Global, l)
			return nil
		}
		cmds, seen := w.ByUser[l.Cmd.User]
		if !seen {
			w.Users = append(w.Users, l.Cmd.User)
		}
		w.ByUser[l.Cmd.User] = append(cmds, l.Cmd)
		return nil
	}
	record := func(pe *ParseError) error {
		parseErrs = append(parseErrs, pe)
		if strict {
			return pe
		}
		return nil
	}
	if err := Parse(f, add, record); err != nil {
		var pe *ParseError
		if errors.As(err, &pe) {
			return nil, parseErrs, fmt.Errorf("%s: %w", path, err)
		}
		return nil, parseErrs, fmt.Errorf("reading %s: %w", path, err)
	}
	return w, parseErrs, nil
}
