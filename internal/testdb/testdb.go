// Package testdb gives a test a PostgreSQL database of its own on the server
// in DATABASE_URL: created fresh (with or without the schema), dropped when
// the test ends. It is the one place tests make databases; it imports only
// pgdb and migrations, so every package's tests can use it, audit's and
// web's included.
package testdb

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/internal/pgdb"
	"github.com/daytradinginc/daytrader/migrations"
)

// MissingURL is the message for a test run without DATABASE_URL.
const MissingURL = "DATABASE_URL is not set: run `make test`, or `scripts/postgres.sh start` and export DATABASE_URL=$(scripts/postgres.sh url)"

// URL creates a migrated database for t and returns its URL; it is dropped
// when t ends.
func URL(t testing.TB) string {
	t.Helper()
	return create(t, true)
}

// Empty creates a database without the schema for t (for the migrations'
// own tests) and returns its URL; it is dropped when t ends.
func Empty(t testing.TB) string {
	t.Helper()
	return create(t, false)
}

// EmptyNamed creates an empty database called name (an identifier: see
// Name) for t, for a server that sets up databases of its own (Temporal's),
// and returns its URL; it is dropped when t ends.
func EmptyNamed(t testing.TB, name string) string {
	t.Helper()
	return createNamed(t, name, false)
}

func create(t testing.TB, migrate bool) string {
	t.Helper()
	return createNamed(t, Name(t.Name()), migrate)
}

func createNamed(t testing.TB, name string, migrate bool) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	url, drop, err := New(ctx, name, migrate)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := drop(ctx); err != nil {
			t.Errorf("testdb: %v", err)
		}
	})
	return url
}

// New creates database name on the server in DATABASE_URL, migrated when
// migrate is set, for callers without a *testing.T (a TestMain sharing one
// database among a package's tests). Drop it with drop.
func New(ctx context.Context, name string, migrate bool) (url string, drop func(context.Context) error, err error) {
	serverURL := os.Getenv("DATABASE_URL")
	if serverURL == "" {
		return "", nil, fmt.Errorf("%s", MissingURL)
	}
	url, dropDB, err := pgdb.Create(ctx, serverURL, name)
	if err != nil {
		return "", nil, err
	}
	if migrate {
		if err := migrations.Up(ctx, url); err != nil {
			_ = dropDB(ctx)
			return "", nil, fmt.Errorf("migrating %s: %w", name, err)
		}
	}
	return url, func(ctx context.Context) error {
		if err := dropDB(ctx); err != nil {
			return fmt.Errorf("dropping %s: %w", name, err)
		}
		return nil
	}, nil
}

var notIdentifierChars = regexp.MustCompile(`[^a-z0-9]+`)

// Name is a valid, unquoted PostgreSQL identifier (at most 63 bytes) made of
// a test's name, to tell leftovers apart, and random letters.
func Name(testName string) string {
	random := strings.ToLower(rand.Text()[:12])
	readable := strings.Trim(notIdentifierChars.ReplaceAllString(strings.ToLower(testName), "_"), "_")
	const maxReadable = 63 - len("t__") - 12
	if len(readable) > maxReadable {
		readable = readable[:maxReadable]
	}
	return "t_" + readable + "_" + random
}
