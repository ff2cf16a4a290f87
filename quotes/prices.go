package quotes

import (
	"bufio"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"sync"

	"github.com/daytradinginc/daytrader/trading"
	"github.com/shopspring/decimal"
)

// The emulator's made-up market. Every symbol gets a start price and a random
// walk, both derived from (seed, symbol) only, so a fixed seed gives the same
// prices in every run no matter in which order symbols are asked:
//
//   - Start price: 1 + 999*u³ dollars with u uniform in [0,1), i.e. between
//     $1.00 and $999.99 with a median near $126. The cube skews prices low like
//     the workloads' own figures (trigger prices have a median of about $112
//     and a 90th percentile near $314; BUY amounts a median near $373), so most
//     BUYs can afford a share and a trigger set from the workload is met at
//     once about as often as not.
//   - Walk: once per WalkStep of the emulator's uptime the price moves by a
//     whole number of basis points drawn uniformly from -300..+300 (±3 %),
//     rounded to the cent and never below $0.01. That is a standard deviation
//     of about 1.7 % a minute, about 5 % over a ten-minute workload: triggers
//     set near the current price fire when the walk crosses them, while a
//     cached quote (valid 60 s) is never more than one step behind.
//
// Prices are computed with integer cents; no float touches them.
const (
	WalkStepBasisPoints = 300
	minStartCents       = 100
	maxStartCents       = 99_999
)

// PriceWalk computes the seeded per-symbol random walk. It is safe for
// concurrent use; each symbol remembers where its walk is so asking for the
// next step costs one draw.
type PriceWalk struct {
	seed    int64
	mu      sync.Mutex
	symbols map[string]*walkState
}

type walkState struct {
	rng   *rand.Rand
	step  int64
	cents int64
}

// NewPriceWalk returns the walk for seed.
func NewPriceWalk(seed int64) *PriceWalk {
	return &PriceWalk{seed: seed, symbols: make(map[string]*walkState)}
}

// Price is symbol's price after step steps of the walk (step 0 is the start
// price). It is always at least $0.01 with 2 decimals.
func (w *PriceWalk) Price(symbol string, step int64) decimal.Decimal {
	if step < 0 {
		step = 0
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	st := w.symbols[symbol]
	if st == nil || st.step > step { // asked for the past: replay from the start
		st = w.start(symbol)
		w.symbols[symbol] = st
	}
	for st.step < step {
		bp := st.rng.Int64N(2*WalkStepBasisPoints+1) - WalkStepBasisPoints
		move := st.cents * bp
		// Round half away from zero to the cent.
		if move >= 0 {
			move = (move + 5_000) / 10_000
		} else {
			move = (move - 5_000) / 10_000
		}
		st.cents = max(st.cents+move, 1)
		st.step++
	}
	return decimal.New(st.cents, -2)
}

// start derives symbol's generator and start price from (seed, symbol).
func (w *PriceWalk) start(symbol string) *walkState {
	h := fnv.New64a()
	h.Write([]byte(symbol))
	rng := rand.New(rand.NewPCG(uint64(w.seed), h.Sum64()))
	// 1 + 999*u³ dollars in integer cents: u = n/10⁶, u³ = n³/10¹⁸ (n³ < 10¹⁸
	// fits an int64), scaled down to millionths before multiplying.
	n := rng.Int64N(1_000_000)
	cubeMillionths := n * n * n / 1_000_000_000_000
	cents := minStartCents + cubeMillionths*(maxStartCents-minStartCents+1)/1_000_000
	return &walkState{rng: rng, cents: min(cents, maxStartCents)}
}

// LoadPrices reads a fixed-prices file for the emulator's --prices flag: one
// `SYM,price` per line (price > 0 with at most 2 decimals), blank lines and
// lines starting with # ignored. Errors name the file and line.
func LoadPrices(path string) (map[string]decimal.Decimal, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("prices file: %w", err)
	}
	defer f.Close()
	return ParsePrices(f, path)
}

// ParsePrices reads `SYM,price` lines from r; name is used in error messages.
func ParsePrices(r io.Reader, name string) (map[string]decimal.Decimal, error) {
	prices := make(map[string]decimal.Decimal)
	firstLine := make(map[string]int)
	sc := bufio.NewScanner(r)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, ",")
		if len(fields) != 2 {
			return nil, fmt.Errorf("%s:%d: want SYM,price, got %d fields in %q", name, lineNo, len(fields), truncate(line, 60))
		}
		symbol, priceText := strings.TrimSpace(fields[0]), strings.TrimSpace(fields[1])
		if !trading.ValidSymbol(symbol) {
			return nil, fmt.Errorf("%s:%d: stock symbol %q must be 1 to 3 upper-case letters", name, lineNo, symbol)
		}
		price, err := trading.ParseMoney("price", priceText)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, lineNo, err)
		}
		if prev, dup := firstLine[symbol]; dup {
			return nil, fmt.Errorf("%s:%d: symbol %s already has a price on line %d", name, lineNo, symbol, prev)
		}
		firstLine[symbol] = lineNo
		prices[symbol] = price
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", name, lineNo+1, err)
	}
	if len(prices) == 0 {
		return nil, fmt.Errorf("%s: no prices (want SYM,price lines)", name)
	}
	return prices, nil
}
