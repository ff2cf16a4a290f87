package main

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"runtime/metrics"
	"runtime/pprof"
	"time"
)

// startMemProfile keeps, in the file at path, a heap profile taken when the
// live heap was largest: a profile at the end of a run shows what is left
// then, not what made the peak. The live heap (as of the last GC) is read
// every checkEvery; whenever it is a tenth above the largest seen, the
// profile (of that same GC) is taken in memory and written when stop is
// called, so a run pays for a profile only on a new high.
func startMemProfile(path string, checkEvery time.Duration) (stop func() error, err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--memprofile: %w", err)
	}
	done, finished := make(chan struct{}), make(chan struct{})
	var best bytes.Buffer
	go func() {
		defer close(finished)
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		var high uint64
		ticker := time.NewTicker(checkEvery)
		defer ticker.Stop()
		for {
			metrics.Read(sample)
			if live := sample[0].Value.Uint64(); best.Len() == 0 || live > high+high/10 {
				high = live
				best.Reset()
				if err := pprof.Lookup("heap").WriteTo(&best, 0); err != nil {
					slog.Error("taking a heap profile", "error", err)
				}
			}
			select {
			case <-done:
				return
			case <-ticker.C:
			}
		}
	}()
	return func() error {
		close(done)
		<-finished
		_, werr := f.Write(best.Bytes())
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return fmt.Errorf("--memprofile: %w", werr)
		}
		return nil
	}, nil
}
