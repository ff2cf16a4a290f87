package audit

import (
	"context"
	"testing"

	"github.com/daytradinginc/daytrader/internal/testdb"
	"github.com/jackc/pgx/v5/pgxpool"
)

// newTestStore returns a Store on a fresh database, and its pool for checks.
func newTestStore(t testing.TB) (*Store, *pgxpool.Pool) {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), testdb.URL(t))
	if err != nil {
		t.Fatalf("opening pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return NewStore(pool), pool
}
