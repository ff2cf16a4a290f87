package migrations_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pressly/goose/v3"

	"github.com/daytradinginc/daytrader/internal/testdb"
	"github.com/daytradinginc/daytrader/migrations"
)

func TestUpCreatesSchemaAndIsIdempotent(t *testing.T) {
	ctx := context.Background()
	dbURL := testdb.Empty(t)

	for i := range 2 {
		if err := migrations.Up(ctx, dbURL); err != nil {
			t.Fatalf("Up #%d: %v", i+1, err)
		}
	}

	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, table := range []string{"audit_events", "web_users", "web_sessions", "goose_db_version"} {
		var exists bool
		if err := conn.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", "public."+table).Scan(&exists); err != nil {
			t.Fatal(err)
		}
		if !exists {
			t.Errorf("table %s missing after Up", table)
		}
	}
	var applied int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM goose_db_version WHERE version_id = 1").Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if applied != 1 {
		t.Errorf("migration 1 recorded %d times, want once", applied)
	}

	status, err := migrations.Status(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	if len(status) == 0 {
		t.Fatal("Status lists no migrations")
	}
	for _, s := range status {
		if s.State != goose.StateApplied {
			t.Errorf("%s: state %s, want applied", s.Source.Path, s.State)
		}
	}
}

func TestUpConcurrently(t *testing.T) {
	ctx := context.Background()
	dbURL := testdb.Empty(t)

	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() { errs[i] = migrations.Up(ctx, dbURL) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Up #%d: %v", i+1, err)
		}
	}
	status, err := migrations.Status(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range status {
		if s.State != goose.StateApplied {
			t.Errorf("%s: state %s, want applied", s.Source.Path, s.State)
		}
	}
}

func TestUpReportsUnreachableDatabase(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := migrations.Up(ctx, "postgres://postgres@127.0.0.1:1/nowhere?sslmode=disable&connect_timeout=2")
	if err == nil {
		t.Fatal("Up succeeded against a closed port")
	}
	t.Logf("error, as expected: %v", err)
}
