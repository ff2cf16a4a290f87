package probe

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"sync"
	"time"
)

// Report is what the traders waited for their answers.
type Report struct {
	Traders  int     `json:"traders"`
	Count    int     `json:"count"` // answered commands
	Errors   int     `json:"errors"`
	FirstErr string  `json:"firstError,omitempty"`
	P50ms    float64 `json:"p50Ms"`
	P95ms    float64 `json:"p95Ms"`
	P99ms    float64 `json:"p99Ms"`
	MaxMs    float64 `json:"maxMs"`
}

func (r Report) String() string {
	return fmt.Sprintf("%d traders, %d commands (%d errors): p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms",
		r.Traders, r.Count, r.Errors, r.P50ms, r.P95ms, r.P99ms, r.MaxMs)
}

// Quotes has every trader send count QUOTEs of symbol back to back, each
// as soon as the previous one answered, until count or until stop closes
// (the workload it runs beside is done), and reports the waits.
func Quotes(ctx context.Context, traders []*Trader, symbol string, count int, stop <-chan struct{}) Report {
	var mu sync.Mutex
	var took []time.Duration
	rep := Report{Traders: len(traders)}
	var wg sync.WaitGroup
	for _, t := range traders {
		wg.Go(func() {
			form := url.Values{"command": {"QUOTE"}, "symbol": {symbol}}
			for range count {
				select {
				case <-stop:
					return
				case <-ctx.Done():
					return
				default:
				}
				d, err := t.Command(ctx, form)
				mu.Lock()
				if err != nil {
					rep.Errors++
					if rep.FirstErr == "" {
						rep.FirstErr = err.Error()
					}
				} else {
					took = append(took, d)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	rep.Count = len(took)
	rep.P50ms, rep.P95ms, rep.P99ms, rep.MaxMs = percentile(took, 50), percentile(took, 95), percentile(took, 99), percentile(took, 100)
	return rep
}

// percentile is the nearest-rank percentile p of ds, in milliseconds.
func percentile(ds []time.Duration, p float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.999999) - 1
	i = min(max(i, 0), len(s)-1)
	return float64(s[i].Microseconds()) / 1000
}
