package pgquotes

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/internal/testdb"
	"github.com/jackc/pgx/v5/pgxpool"
)

// TestClaimsOfTwoWorkersNeverFail: two workers claim the same 200 symbols
// at once, in opposite orders, 30 times. Each claim statement locks many
// rows; taken in any order they deadlock, PostgreSQL fails one statement,
// and every lookup in it would fetch without the shared cache (billed
// twice). Every claim must succeed and each symbol go to one worker.
func TestClaimsOfTwoWorkersNeverFail(t *testing.T) {
	pool, err := pgxpool.New(context.Background(), testdb.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	workers := []*Store{NewStore(pool, nil), NewStore(pool, nil)}
	var symbols []string
	for i := range 200 {
		symbols = append(symbols, fmt.Sprintf("D%03d", i))
	}
	for round := range 30 {
		if _, err := pool.Exec(context.Background(), `DELETE FROM quote_cache`); err != nil {
			t.Fatal(err)
		}
		won := make([][]bool, 2)
		var wg sync.WaitGroup
		for w, s := range workers {
			calls := make([]claimCall, len(symbols))
			for i, sym := range symbols {
				calls[i] = claimCall{symbol: sym, owner: fmt.Sprintf("worker%d", w), validFrom: time.Now().Add(-time.Minute)}
			}
			if w == 1 {
				slices.Reverse(calls)
			}
			wg.Go(func() {
				var err error
				if won[w], err = s.claimAll(context.Background(), calls); err != nil {
					t.Errorf("round %d: worker %d's claims failed: %v", round, w, err)
				}
				if w == 1 {
					slices.Reverse(won[w])
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		for i, sym := range symbols {
			if won[0][i] == won[1][i] {
				t.Fatalf("round %d: %s claimed by worker 0: %v, worker 1: %v; want exactly one", round, sym, won[0][i], won[1][i])
			}
		}
	}
}
