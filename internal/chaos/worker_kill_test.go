package chaos

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/internal/testdb"
	"github.com/daytradinginc/daytrader/workflows"
	"github.com/jackc/pgx/v5/pgxpool"
)

// TestFaultWorkerKill runs embedded Temporal (`daytrader dev --no-worker`)
// and a separate `daytrader worker`, sends a generated workload, and kills
// the worker with SIGKILL when about a third of it is processed (CHAOS_KILLS
// spreads more kills over the run), starting a new worker each time. Every
// acknowledged command must be processed exactly once, with exactly one
// userCommand record, and every account's ledger must match the rules.
func TestFaultWorkerKill(t *testing.T) {
	sz := scenarioSize(t)
	kills := knob(t, "CHAOS_KILLS", defaultKills)
	if testing.Short() && kills > defaultKills {
		t.Skipf("heavy variant (CHAOS_KILLS=%d) skipped in -short mode", kills)
	}
	w := generateWorkload(t, sz)
	cfg := newStackConfig(t, testdb.URL(t), w.PricesFile)
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()

	dev := startDev(t, cfg, true)
	worker := startWorker(t, cfg, "worker-1")
	accounts := workflows.NewAccounts(dialTemporal(t, cfg.Frontend))
	db, err := pgxpool.New(ctx, cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	run := sendInBackground(ctx, accounts, w)
	sent := run.sent
	var faults []string
	lastKill := 0
	for k := 1; k <= kills; k++ {
		// Evenly spread, and each after the new worker has done some work.
		c := run.waitFor(ctx, t, db, max(len(sent)*k/(kills+2), lastKill+len(sent)/(4*(kills+2))))
		worker.kill(t)
		lastKill = c.Processed
		faults = append(faults, fmt.Sprintf("kill -9 worker at %d/%d processed", c.Processed, len(sent)))
		worker = startWorker(t, cfg, fmt.Sprintf("worker-%d", k+1))
	}
	if err := <-run.done; err != nil {
		t.Fatal(err)
	}
	finish(ctx, t, "worker kill", strings.Join(faults, "; "), run.start, db, accounts, w, sent)
	stats, err := checkLedger(ctx, t, audit.NewStore(db), accounts, w)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(stats)
	worker.stop(t)
	dev.stop(t)
}
