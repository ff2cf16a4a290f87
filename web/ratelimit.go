package web

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// LoginLimit bounds password guessing without letting a stranger lock a
// trader out. A sign-in attempt takes one token from the bucket of its user
// name at its client address and one from the bucket of its client address;
// a registration takes one from the address's bucket. When either bucket is
// empty the attempt is refused (429 with the wait) and takes nothing.
//
// There is deliberately no bucket per user name alone: whoever empties it
// locks the trader out from every address, which is what an attacker wants.
// A guesser gets UserBurst tries per name from each address they control,
// then PerUser; each address is held to PerIP across all names.
//
// Client addresses are IPv4 addresses or IPv6 /64 networks (one host
// usually has a whole /64, so counting single IPv6 addresses would give it
// endless fresh buckets); see Config.TrustedProxies for where they come from.
//
// Zero fields take the values of DefaultLoginLimit; the settings read the
// fields from LOGIN_* environment variables.
type LoginLimit struct {
	// PerUser is the steady rate of sign-in attempts for one user name from
	// one client address, once UserBurst quick attempts are spent.
	PerUser rate.Limit
	// UserBurst is how many quick sign-in attempts one user name gets from
	// one client address.
	UserBurst int
	// PerIP is the steady rate of sign-in and registration attempts from one
	// client address, whatever the names, once IPBurst are spent.
	PerIP rate.Limit
	// IPBurst is how many quick attempts one client address gets.
	IPBurst int
}

// DefaultLoginLimit allows 5 quick tries per user name from one address,
// then one every 12 s, and 20 quick tries per address, then one every 3 s.
var DefaultLoginLimit = LoginLimit{
	PerUser:   rate.Every(12 * time.Second),
	UserBurst: 5,
	PerIP:     rate.Every(3 * time.Second),
	IPBurst:   20,
}

// check refuses negative fields (zero means the default).
func (l LoginLimit) check() error {
	if l.PerUser < 0 || l.PerIP < 0 || l.UserBurst < 0 || l.IPBurst < 0 {
		return fmt.Errorf("LoginLimit %+v has a negative field (0 takes the default)", l)
	}
	return nil
}

func (l LoginLimit) withDefaults() LoginLimit {
	d := DefaultLoginLimit
	if l.PerUser > 0 {
		d.PerUser = l.PerUser
	}
	if l.UserBurst > 0 {
		d.UserBurst = l.UserBurst
	}
	if l.PerIP > 0 {
		d.PerIP = l.PerIP
	}
	if l.IPBurst > 0 {
		d.IPBurst = l.IPBurst
	}
	return d
}

type loginLimiter struct {
	byUserAddr *keyedLimiter
	byAddr     *keyedLimiter
}

func newLoginLimiter(l LoginLimit) *loginLimiter {
	return &loginLimiter{
		byUserAddr: newKeyedLimiter(l.PerUser, l.UserBurst),
		byAddr:     newKeyedLimiter(l.PerIP, l.IPBurst),
	}
}

// allowLogin takes a token for a sign-in as username (a valid user id: the
// caller checks, so junk names cannot fill memory) from addr, or takes none
// and says how long to wait.
func (l *loginLimiter) allowLogin(addr, username string) (bool, time.Duration) {
	now := time.Now()
	byAddr := l.byAddr.reserve(addr, now)
	byUser := l.byUserAddr.reserve(username+"\x00"+addr, now)
	wait := max(byAddr.DelayFrom(now), byUser.DelayFrom(now))
	if wait > 0 {
		byAddr.CancelAt(now)
		byUser.CancelAt(now)
		return false, wait
	}
	return true, 0
}

// allowRegister takes a token for a registration from addr, or takes none
// and says how long to wait.
func (l *loginLimiter) allowRegister(addr string) (bool, time.Duration) {
	now := time.Now()
	r := l.byAddr.reserve(addr, now)
	if wait := r.DelayFrom(now); wait > 0 {
		r.CancelAt(now)
		return false, wait
	}
	return true, 0
}

// waitSeconds is a wait as the whole seconds of Retry-After, at least 1.
func waitSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// keyedLimiter is one token bucket per key. Buckets that have refilled are
// as good as new, so they are dropped when the map grows, which bounds memory
// under a flood of distinct keys.
type keyedLimiter struct {
	mu      sync.Mutex
	limit   rate.Limit
	burst   int
	buckets map[string]*rate.Limiter
}

func newKeyedLimiter(limit rate.Limit, burst int) *keyedLimiter {
	return &keyedLimiter{limit: limit, burst: burst, buckets: map[string]*rate.Limiter{}}
}

const limiterSweepAt = 10000

// reserve takes a token from key's bucket at now; the reservation's delay
// says how long until the token is really there (0: at once).
func (k *keyedLimiter) reserve(key string, now time.Time) *rate.Reservation {
	k.mu.Lock()
	defer k.mu.Unlock()
	b, ok := k.buckets[key]
	if !ok {
		if len(k.buckets) >= limiterSweepAt {
			for key, b := range k.buckets {
				if b.TokensAt(now) >= float64(k.burst) {
					delete(k.buckets, key)
				}
			}
		}
		b = rate.NewLimiter(k.limit, k.burst)
		k.buckets[key] = b
	}
	return b.ReserveN(now, 1)
}

// clientAddr is the address a request counts against. It is the
// connection's peer, unless the peer is a trusted proxy: then it is the
// right-most X-Forwarded-For entry that is not a trusted proxy. Each proxy
// appends the address it saw, so reading from the right stops at the first
// hop no trusted proxy vouches for; everything left of it is whatever the
// client wrote and is never believed. An entry that is not an address ends
// the walk at the last hop that was (a trusted proxy: its bucket is shared,
// never a fresh one of the client's choosing).
func clientAddr(r *http.Request, trusted []netip.Prefix) string {
	peer, ok := parseAddr(r.RemoteAddr)
	if !ok {
		return r.RemoteAddr
	}
	addr := peer
	if isTrusted(addr, trusted) {
		hops := forwardedFor(r)
		for i := len(hops) - 1; i >= 0; i-- {
			hop, ok := parseAddr(hops[i])
			if !ok {
				break
			}
			addr = hop
			if !isTrusted(hop, trusted) {
				break
			}
		}
	}
	return addrKey(addr)
}

// forwardedFor is every X-Forwarded-For entry, across all its header lines,
// in order.
func forwardedFor(r *http.Request) []string {
	var hops []string
	for _, line := range r.Header.Values("X-Forwarded-For") {
		for _, h := range strings.Split(line, ",") {
			hops = append(hops, strings.TrimSpace(h))
		}
	}
	return hops
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseAddr reads "ip", "ip:port" or "[ipv6]:port", without a zone, with
// IPv4-mapped IPv6 addresses as IPv4.
func parseAddr(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		host, _, splitErr := net.SplitHostPort(s)
		if splitErr != nil {
			return netip.Addr{}, false
		}
		if a, err = netip.ParseAddr(host); err != nil {
			return netip.Addr{}, false
		}
	}
	return a.WithZone("").Unmap(), true
}

// addrKey is the bucket of an address: an IPv4 address, or the /64 network
// of an IPv6 one.
func addrKey(a netip.Addr) string {
	if a.Is4() {
		return a.String()
	}
	return netip.PrefixFrom(a, 64).Masked().String()
}
