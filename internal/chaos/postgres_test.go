package chaos

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/workflows"
	"github.com/jackc/pgx/v5/pgxpool"
)

// postgresOutage is how long TestFaultPostgresOutage keeps Postgres down.
const postgresOutage = 10 * time.Second

// TestFaultPostgresOutage runs the stack on a Postgres cluster of its own
// (scripts/postgres.sh with PGDATA_DIR and POSTGRES_PORT; the shared
// cluster other tests use is never touched) and stops that cluster for ten
// seconds in the middle of a workload. Accounts wait for their audit writes
// to succeed, so afterwards the audit catches up: nothing lost, nothing
// duplicated, every ledger exact.
func TestFaultPostgresOutage(t *testing.T) {
	w := generateWorkload(t, scenarioSize(t))
	pg := startPostgresCluster(t)
	cfg := newStackConfig(t, pg.URL, w.PricesFile)
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()

	dev := startDev(t, cfg, false)
	accounts := workflows.NewAccounts(dialTemporal(t, cfg.Frontend))
	db, err := pgxpool.New(ctx, cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	run := sendInBackground(ctx, accounts, w)
	c := run.waitFor(ctx, t, db, len(run.sent)/3)
	pg.run(t, "stop")
	stoppedAt := time.Now()
	// While Postgres is down the accounts still answer queries (the web
	// UI's summary): an account waiting for its audit write must not hang.
	time.Sleep(2 * time.Second)
	qctx, qcancel := context.WithTimeout(ctx, 4*time.Second)
	during, err := stateProcessed(qctx, accounts, w.Users)
	qcancel()
	if err != nil {
		t.Errorf("the accounts did not answer queries while Postgres was down: %v", err)
	}
	time.Sleep(time.Until(stoppedAt.Add(postgresOutage)))
	pg.run(t, "start")
	faults := fmt.Sprintf("postgres down %s at %d/%d processed (accounts had applied %d mid-outage)",
		time.Since(stoppedAt).Round(100*time.Millisecond), c.Processed, len(run.sent), during)
	if err := <-run.done; err != nil {
		t.Fatal(err)
	}
	finish(ctx, t, "postgres outage", faults, run.start, db, accounts, w, run.sent)
	stats, err := checkLedger(ctx, t, audit.NewStore(db), accounts, w)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(stats)
	dev.stop(t)
}
