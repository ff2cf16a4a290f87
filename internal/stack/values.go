package stack

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// value is one setting's parser, bound to its Config field. Set is strict:
// it refuses anything outside the accepted values and then leaves the
// field as it was, so a typo can never become a silent default.
type value interface {
	Set(string) error
	String() string
	// want describes the accepted values, for errors and help:
	// "true or false", "host:port (port 0 to 65535)".
	want() string
	// placeholder is the flag's argument in help: "host:port", "n".
	placeholder() string
}

// errWant is a value's refusal: only what it accepts. The caller adds the
// setting's name and the bad value (see SettingError).
func errWant(v value) error { return fmt.Errorf("want %s", v.want()) }

// orList joins values as "a, b or c".
func orList(values []string) string {
	if len(values) == 1 {
		return values[0]
	}
	return strings.Join(values[:len(values)-1], ", ") + " or " + values[len(values)-1]
}

// textValue takes any string; a required one refuses "".
type textValue struct {
	p        *string
	required bool
	what     string // "name", "path", "text": the placeholder
}

func (v textValue) Set(s string) error {
	if v.required && s == "" {
		return errWant(v)
	}
	*v.p = s
	return nil
}

func (v textValue) String() string      { return deref(v.p) }
func (v textValue) placeholder() string { return v.what }

func (v textValue) want() string {
	if v.required {
		return "a non-empty " + v.what
	}
	return "any " + v.what + ", or empty" // the setting's help says what empty means
}

// hostname is what addrValue accepts as a host besides IP literals: DNS
// labels (underscores allowed, as in some internal names).
var hostname = regexp.MustCompile(`^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$`)

// addrValue takes host:port with a numeric port (0 picks a free one when
// listening). The host may be empty (all interfaces when listening). An
// optional address also takes "", which turns its listener off.
type addrValue struct {
	p        *string
	optional bool
}

func (v addrValue) Set(s string) error {
	if s == "" && v.optional {
		*v.p = ""
		return nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return errWant(v)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return errWant(v)
	}
	if _, err := netip.ParseAddr(host); host != "" && err != nil && !hostname.MatchString(host) {
		return errWant(v)
	}
	*v.p = s
	return nil
}

func (v addrValue) String() string      { return deref(v.p) }
func (v addrValue) placeholder() string { return "host:port" }

func (v addrValue) want() string {
	if v.optional {
		return "host:port (port 0 to 65535), or empty"
	}
	return "host:port (port 0 to 65535)"
}

// httpURLValue takes an absolute http:// or https:// URL, or "".
type httpURLValue struct{ p *string }

func (v httpURLValue) Set(s string) error {
	if s != "" {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return errWant(v)
		}
	}
	*v.p = s
	return nil
}

func (v httpURLValue) String() string      { return deref(v.p) }
func (v httpURLValue) placeholder() string { return "url" }
func (v httpURLValue) want() string        { return "an http:// or https:// URL, or empty" }

// postgresURLValue takes a postgres:// (or postgresql://) URL: pgx would
// also take key=value strings, but CreateDatabase and the redaction in
// logs need a URL. String redacts the password, for help output.
type postgresURLValue struct{ p *string }

func (v postgresURLValue) Set(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return errWant(v)
	}
	*v.p = s
	return nil
}

func (v postgresURLValue) String() string      { return redactUserinfo(deref(v.p)) }
func (v postgresURLValue) placeholder() string { return "url" }

func (v postgresURLValue) want() string {
	return "a postgres:// URL such as postgres://user:password@host:5432/database"
}

// redactUserinfo hides whatever stands between "://" and the last "@",
// even in a string that does not parse as a URL (a password with a stray
// % makes url.Parse fail, and the message must still not show it).
func redactUserinfo(s string) string {
	i := strings.Index(s, "://")
	j := strings.LastIndex(s, "@")
	if i < 0 || j < i+3 {
		return s
	}
	return s[:i+3] + "xxxxx" + s[j:]
}

// boolValue takes what strconv.ParseBool takes (true, false, 1, 0, t, f
// in any case), never "yes" or "on".
type boolValue struct{ p *bool }

func (v boolValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return errWant(v)
	}
	*v.p = b
	return nil
}

func (v boolValue) String() string {
	if v.p == nil {
		return "false"
	}
	return strconv.FormatBool(*v.p)
}

func (v boolValue) IsBoolFlag() bool    { return true } // --secure-cookies alone means true
func (v boolValue) placeholder() string { return "" }
func (v boolValue) want() string        { return "true or false" }

// intValue takes a decimal integer in [min, max].
type intValue[T int | int64] struct {
	p        *T
	min, max T
}

func (v intValue[T]) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || T(n) < v.min || T(n) > v.max || int64(T(n)) != n {
		return errWant(v)
	}
	*v.p = T(n)
	return nil
}

func (v intValue[T]) String() string {
	if v.p == nil {
		return "0"
	}
	return strconv.FormatInt(int64(*v.p), 10)
}

func (v intValue[T]) placeholder() string { return "n" }

func (v intValue[T]) want() string {
	if int64(v.min) == minInt64 && int64(v.max) == maxInt64 {
		return "an integer"
	}
	return fmt.Sprintf("an integer from %d to %d", v.min, v.max)
}

// offOrIntValue is 0 (off) or an intValue: for a limit whose smallest
// useful value is above 1.
type offOrIntValue struct{ intValue[int] }

func (v offOrIntValue) Set(s string) error {
	if s == "0" {
		*v.p = 0
		return nil
	}
	if err := v.intValue.Set(s); err != nil {
		return errWant(v)
	}
	return nil
}

func (v offOrIntValue) want() string { return "0 (off) or " + v.intValue.want() }

const (
	maxInt64 = 1<<63 - 1
	minInt64 = -1 << 63
)

// durationValue takes a Go duration (time.ParseDuration: 90s, 1m30s,
// 12h) in [min, max]. A bare number is refused: "12" could mean anything.
type durationValue struct {
	p        *time.Duration
	min, max time.Duration
}

func (v durationValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil || d < v.min || d > v.max {
		return errWant(v)
	}
	*v.p = d
	return nil
}

func (v durationValue) String() string {
	if v.p == nil {
		return "0s"
	}
	return v.p.String()
}

func (v durationValue) placeholder() string { return "duration" }

func (v durationValue) want() string {
	return fmt.Sprintf("a Go duration such as 90s or 12h, from %v to %v", v.min, v.max)
}

// enumValue takes exactly one of its values (case matters: LOG_LEVEL=Info
// is as likely a typo as anything else).
type enumValue struct {
	p      *string
	values []string
}

func (v enumValue) Set(s string) error {
	for _, ok := range v.values {
		if s == ok {
			*v.p = s
			return nil
		}
	}
	return errWant(v)
}

func (v enumValue) String() string      { return deref(v.p) }
func (v enumValue) placeholder() string { return strings.Join(v.values, "|") }
func (v enumValue) want() string        { return orList(v.values) }

// prefixesValue takes comma-separated CIDR prefixes (10.0.0.0/8,
// fd00::/8), or "" for none. A prefix is stored masked, as it matches.
type prefixesValue struct{ p *[]netip.Prefix }

func (v prefixesValue) Set(s string) error {
	var prefixes []netip.Prefix
	if strings.TrimSpace(s) != "" {
		for part := range strings.SplitSeq(s, ",") {
			p, err := netip.ParsePrefix(strings.TrimSpace(part))
			if err != nil {
				return fmt.Errorf("%q is not a CIDR prefix: %w", strings.TrimSpace(part), errWant(v))
			}
			prefixes = append(prefixes, p.Masked())
		}
	}
	*v.p = prefixes
	return nil
}

func (v prefixesValue) String() string {
	if v.p == nil {
		return ""
	}
	parts := make([]string, len(*v.p))
	for i, p := range *v.p {
		parts[i] = p.String()
	}
	return strings.Join(parts, ",")
}

func (v prefixesValue) placeholder() string { return "cidr,..." }

func (v prefixesValue) want() string {
	return "comma-separated CIDR prefixes such as 10.0.0.0/8,fd00::/8, or empty for none"
}

// deref reads a bound field; flag help may call String on a zero value
// whose pointer is nil.
func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
