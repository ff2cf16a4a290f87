package web

import (
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// LoginLimit bounds password guessing: every sign-in attempt takes a token
// from the bucket of its user name and from the bucket of its client IP
// (registrations take one from the IP bucket). Zero fields take the value
// of DefaultLoginLimit.
type LoginLimit struct {
	PerUser   rate.Limit // steady attempts per second for one user name
	UserBurst int
	PerIP     rate.Limit // steady attempts per second from one IP
	IPBurst   int
}

// DefaultLoginLimit allows 5 quick tries per user name, then one every 12 s,
// and 20 quick tries per IP, then one every 3 s.
var DefaultLoginLimit = LoginLimit{
	PerUser:   rate.Every(12 * time.Second),
	UserBurst: 5,
	PerIP:     rate.Every(3 * time.Second),
	IPBurst:   20,
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
	byUser *keyedLimiter
	byIP   *keyedLimiter
}

func newLoginLimiter(l LoginLimit) *loginLimiter {
	return &loginLimiter{
		byUser: &keyedLimiter{limit: l.PerUser, burst: l.UserBurst, buckets: map[string]*rate.Limiter{}},
		byIP:   &keyedLimiter{limit: l.PerIP, burst: l.IPBurst, buckets: map[string]*rate.Limiter{}},
	}
}

// allowLogin takes a token for this attempt; false means refuse it.
func (l *loginLimiter) allowLogin(ip, username string) bool {
	// Both buckets are always charged, so that spreading guesses over many
	// names does not spare the IP's bucket and vice versa.
	okIP := l.byIP.allow(ip)
	okUser := l.byUser.allow(username)
	return okIP && okUser
}

func (l *loginLimiter) allowRegister(ip string) bool { return l.byIP.allow(ip) }

// keyedLimiter is one token bucket per key. Buckets that have refilled are
// as good as new, so they are dropped when the map grows, which bounds memory
// under a flood of distinct keys.
type keyedLimiter struct {
	mu      sync.Mutex
	limit   rate.Limit
	burst   int
	buckets map[string]*rate.Limiter
}

const limiterSweepAt = 10000

func (k *keyedLimiter) allow(key string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	b, ok := k.buckets[key]
	if !ok {
		if len(k.buckets) >= limiterSweepAt {
			now := time.Now()
			for key, b := range k.buckets {
				if b.TokensAt(now) >= float64(k.burst) {
					delete(k.buckets, key)
				}
			}
		}
		b = rate.NewLimiter(k.limit, k.burst)
		k.buckets[key] = b
	}
	return b.Allow()
}

// clientIP is the peer address of the connection. Headers such as
// X-Forwarded-For are not trusted: anyone can set them.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
