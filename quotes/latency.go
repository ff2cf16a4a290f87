package quotes

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// LatencyModel names how long the emulator waits before it replies.
type LatencyModel string

const (
	// LatencyNone replies at once.
	LatencyNone LatencyModel = "none"
	// LatencyLegacy reproduces the measured behaviour of the real server
	// (see legacyExtraSeconds for the numbers).
	LatencyLegacy LatencyModel = "legacy"
)

// ParseLatencyModel reads a --latency flag value.
func ParseLatencyModel(s string) (LatencyModel, error) {
	switch m := LatencyModel(s); m {
	case LatencyNone, LatencyLegacy:
		return m, nil
	}
	return "", fmt.Errorf("latency model %q is not one of %q, %q", s, LatencyNone, LatencyLegacy)
}

// The legacy model, fitted to the 2017 study of the real server:
//
// Network delay (every reply): 7 ms + a log-normal part with median 2 ms and
// sigma 0.75, redrawn when the total would exceed 26 ms. That gives min 7 ms,
// median 9 ms, max 26 ms, skewed to the right like measured network delays.
// Its mean is about 7 + 2*exp(0.75²/2) = 9.6 ms (the cut above 26 ms removes
// less than 0.01 ms of it).
//
// 65.75 % of replies get the network delay only. The other 34.25 % get an
// extra whole number of seconds k = 1..4 on top. The overall mean must be
// 563 ms, so the seconds must contribute 563 - 9.6 = 553.4 ms:
//
//	k = 1 s: 20.20 %  ->  202 ms
//	k = 2 s:  8.80 %  ->  176 ms
//	k = 3 s:  3.50 %  ->  105 ms
//	k = 4 s:  1.75 %  ->   70 ms
//	total    34.25 %      553 ms,  + 9.6 ms network = 562.6 ms ≈ 563 ms
//
// The weights fall off roughly geometrically (each second about 40-45 % as
// likely as the one before), the usual shape of server-side stalls, and a
// slow reply averages 553/0.3425 = 1.61 s.
const (
	legacyFastShare      = 0.6575
	legacyNetMin         = 7 * time.Millisecond
	legacyNetMax         = 26 * time.Millisecond
	legacyNetMedianExtra = 2 * time.Millisecond
	legacyNetSigma       = 0.75
)

// legacyExtraSeconds are the cumulative probabilities (over all replies) of
// the slow branch, in order k = 1, 2, 3, 4 seconds; see the table above.
var legacyExtraSeconds = [4]float64{
	legacyFastShare + 0.2020,
	legacyFastShare + 0.2020 + 0.0880,
	legacyFastShare + 0.2020 + 0.0880 + 0.0350,
	1, // + 0.0175
}

// LatencySampler draws reply delays from a LatencyModel. Draws are
// independent and come from an RNG seeded once, so a fixed seed gives a fixed
// sequence; it is safe for concurrent use.
type LatencySampler struct {
	model LatencyModel
	mu    sync.Mutex
	rng   *rand.Rand
}

// NewLatencySampler returns a sampler for model seeded with seed.
func NewLatencySampler(model LatencyModel, seed int64) (*LatencySampler, error) {
	if _, err := ParseLatencyModel(string(model)); err != nil {
		return nil, err
	}
	// The second PCG word only separates this stream from the price walk's.
	return &LatencySampler{model: model, rng: rand.New(rand.NewPCG(uint64(seed), 0x1a7e_2017))}, nil
}

// Sample is the delay before one reply.
func (l *LatencySampler) Sample() time.Duration {
	if l.model == LatencyNone {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	delay := l.networkDelay()
	u := l.rng.Float64()
	if u < legacyFastShare {
		return delay
	}
	for k, cumulative := range legacyExtraSeconds {
		if u < cumulative {
			return delay + time.Duration(k+1)*time.Second
		}
	}
	return delay + time.Duration(len(legacyExtraSeconds))*time.Second
}

// networkDelay draws the network part of a legacy delay; l.mu is held.
func (l *LatencySampler) networkDelay() time.Duration {
	for {
		extra := time.Duration(float64(legacyNetMedianExtra) * math.Exp(legacyNetSigma*l.rng.NormFloat64()))
		if d := legacyNetMin + extra; d <= legacyNetMax {
			return d
		}
	}
}
