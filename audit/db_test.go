package audit

import (
	"context"
	"crypto/rand"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// testDatabaseURL creates a fresh database with the schema of
// migrations/00001_init.sql on the server of DATABASE_URL and drops it when
// the test ends. (To be replaced by testenv.DatabaseURL(t).)
func testDatabaseURL(t testing.TB) string {
	t.Helper()
	serverURL := os.Getenv("DATABASE_URL")
	if serverURL == "" {
		t.Fatal("DATABASE_URL is not set: these tests need a Postgres server (postgres://user@host:port/db) on which they may create databases")
	}
	u, err := url.Parse(serverURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("DATABASE_URL %q must be a postgres:// URL", serverURL)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		t.Fatalf("connecting to DATABASE_URL: %v", err)
	}
	defer admin.Close(ctx)
	name := "audit_test_" + strings.ToLower(rand.Text())
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("creating test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		admin, err := pgx.Connect(ctx, serverURL)
		if err != nil {
			t.Errorf("dropping test database %s: %v", name, err)
			return
		}
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("dropping test database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	dbURL := u.String()

	migration, err := os.ReadFile("../migrations/00001_init.sql")
	if err != nil {
		t.Fatalf("reading the schema: %v", err)
	}
	up, _, found := strings.Cut(string(migration), "-- +goose Down")
	if !found || !strings.Contains(up, "-- +goose Up") {
		t.Fatal("migrations/00001_init.sql has no goose Up/Down sections")
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("connecting to the test database: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, up); err != nil { // no arguments: simple protocol, several statements
		t.Fatalf("creating the schema: %v", err)
	}
	return dbURL
}

// newTestStore returns a Store on a fresh database, and its pool for checks.
func newTestStore(t testing.TB) (*Store, *pgxpool.Pool) {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), testDatabaseURL(t))
	if err != nil {
		t.Fatalf("opening pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return NewStore(pool), pool
}
