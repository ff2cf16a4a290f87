package stack

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/internal/pgdb"
	"github.com/daytradinginc/daytrader/internal/testdb"
)

// A DATABASE_URL that sizes DayTrader's pool (pool_max_conns, as pgxpool
// reads it) works for everything that connects with it: creating a run's
// database (workload run --embedded), the migrations every command
// applies first, and the pool, which gets that size. The first two used
// to hand the setting to PostgreSQL, which refused it: `FATAL:
// unrecognized configuration parameter "pool_max_conns"`.
func TestDatabaseURLMaySizeThePool(t *testing.T) {
	server := os.Getenv("DATABASE_URL")
	if server == "" {
		t.Fatal(testdb.MissingURL)
	}
	sep := "?"
	if strings.Contains(server, "?") {
		sep = "&"
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	url, drop, err := pgdb.Create(ctx, server+sep+"pool_max_conns=40", testdb.Name(t.Name()))
	if err != nil {
		t.Fatalf("creating a database with pool_max_conns in the URL: %v", err)
	}
	t.Cleanup(func() {
		if err := drop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	c := Defaults()
	c.DatabaseURL = url
	pool, err := OpenDB(ctx, c)
	if err != nil {
		t.Fatalf("OpenDB with pool_max_conns in the URL: %v", err)
	}
	defer pool.Close()
	if got := pool.Config().MaxConns; got != 40 {
		t.Errorf("pool MaxConns = %d, want the URL's 40", got)
	}
	if err := pool.Ping(ctx); err != nil {
		t.Error(err)
	}
}
