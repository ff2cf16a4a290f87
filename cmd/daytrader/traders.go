package main

import (
	"context"

	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/web"
	"github.com/daytradinginc/daytrader/workloads"
	"github.com/jackc/pgx/v5/pgxpool"
)

// auditWithTraders is the audit a workload run reads, able to say whether
// traders use the stack (workloads.TraderWatch): a trader's command
// audited, or a session signed in or on the dashboard, within the last
// audit.TraderActivity. The second is what lets the run shrink its backlog
// before a trader who has just arrived sends the first order, not after.
type auditWithTraders struct {
	*audit.Store
	db *pgxpool.Pool
}

// The run reads the traders' waits through the embedded audit.Store, and
// follows them only if this holds (workloads.WaitWatch).
var _ workloads.WaitWatch = auditWithTraders{}

func newAuditWithTraders(db *pgxpool.Pool) auditWithTraders {
	return auditWithTraders{Store: audit.NewStore(db), db: db}
}

func (a auditWithTraders) TradersActive(ctx context.Context) (bool, error) {
	if active, err := a.Store.TradersActive(ctx); err != nil || active {
		return active, err
	}
	return web.TradersAtScreens(ctx, a.db, audit.TraderActivity)
}
