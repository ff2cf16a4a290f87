package probe

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"sync"
	"time"
)

// Latency is a distribution of waits, in milliseconds.
type Latency struct {
	P50ms float64 `json:"p50Ms"`
	P95ms float64 `json:"p95Ms"`
	P99ms float64 `json:"p99Ms"`
	MaxMs float64 `json:"maxMs"`
}

func latencyOf(ds []time.Duration) Latency {
	return Latency{P50ms: percentile(ds, 50), P95ms: percentile(ds, 95), P99ms: percentile(ds, 99), MaxMs: percentile(ds, 100)}
}

func (l Latency) String() string {
	return fmt.Sprintf("p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms", l.P50ms, l.P95ms, l.P99ms, l.MaxMs)
}

// Report is what the traders waited for their answers: Latency until a
// command's result, Summary for the summary that the dashboard reloads
// after it.
type Report struct {
	Traders  int    `json:"traders"`
	Count    int    `json:"count"` // answered commands
	Errors   int    `json:"errors"`
	FirstErr string `json:"firstError,omitempty"`
	Latency
	Summary Latency `json:"summary"`
}

func (r Report) String() string {
	return fmt.Sprintf("%d traders, %d commands (%d errors): %s; summary after: %s",
		r.Traders, r.Count, r.Errors, r.Latency, r.Summary)
}

// Quotes has every trader send count QUOTEs of symbol back to back, each
// as soon as the previous one answered (and its summary reloaded), until
// count or until stop closes (the workload it runs beside is done), and
// reports the waits.
func Quotes(ctx context.Context, traders []*Trader, symbol string, count int, stop <-chan struct{}) Report {
	var mu sync.Mutex
	var took, refreshed []time.Duration
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
				tm, err := t.CommandTimes(ctx, form)
				mu.Lock()
				if err != nil {
					rep.Errors++
					if rep.FirstErr == "" {
						rep.FirstErr = err.Error()
					}
				} else {
					took = append(took, tm.Result)
					refreshed = append(refreshed, tm.Summary)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	rep.Count = len(took)
	rep.Latency, rep.Summary = latencyOf(took), latencyOf(refreshed)
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
