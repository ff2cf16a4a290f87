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

	sent := w.txNums()
	start := time.Now()
	sendDone := make(chan error, 1)
	go func() {
		_, err := send(ctx, accounts, w.ByUser)
		sendDone <- err
	}()
	var faults []string
	lastKill := 0
	for k := 1; k <= kills; k++ {
		// Evenly spread, and each after the new worker has done some work.
		target := max(len(sent)*k/(kills+2), lastKill+len(sent)/(4*(kills+2)))
		c := waitForAudit(ctx, t, db, sent, target, 2*time.Minute)
		if c.Processed < target {
			t.Fatalf("only %d of %d commands processed before kill %d", c.Processed, len(sent), k)
		}
		if c.Processed >= len(sent) {
			t.Fatalf("the workload was done before kill %d could interrupt it: make it bigger (CHAOS_LINES)", k)
		}
		worker.kill(t)
		lastKill = c.Processed
		faults = append(faults, fmt.Sprintf("kill -9 worker at %d/%d processed", c.Processed, len(sent)))
		worker = startWorker(t, cfg, fmt.Sprintf("worker-%d", k+1))
	}
	if err := <-sendDone; err != nil {
		t.Fatal(err)
	}
	finish(ctx, t, "worker kill", strings.Join(faults, "; "), start, db, accounts, w, sent)
	stats, err := checkLedger(ctx, t, audit.NewStore(db), accounts, w)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(stats)
	worker.stop(t)
	dev.stop(t)
}
