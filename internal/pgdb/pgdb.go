// Package pgdb creates and drops whole PostgreSQL databases: a fresh one
// keeps a benchmark run (workload run --embedded) or a test apart from every
// other. ConnConfig is how a single connection reads a DATABASE_URL (the
// migrations use it too). It imports nothing of DayTrader, so any package's
// tests can use it (through internal/testdb) without an import cycle.
package pgdb

import (
	"context"
	"fmt"
	"net/url"
	"regexp"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// databaseIdentifier is what CreateDatabase accepts as a name: an unquoted
// PostgreSQL identifier, so it can be spliced into DDL (which takes no
// parameters) without any way to inject SQL.
var databaseIdentifier = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// Create creates database name on the server of serverURL and
// returns its URL and how to drop it again. Fresh databases keep benchmark
// runs and tests apart from each other and from the dev database.
func Create(ctx context.Context, serverURL, name string) (string, func(context.Context) error, error) {
	if !databaseIdentifier.MatchString(name) {
		return "", nil, fmt.Errorf("database name %q must be lower-case letters, digits and _ (at most 63)", name)
	}
	u, err := url.Parse(serverURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", nil, fmt.Errorf("DATABASE_URL %q must be a postgres:// URL", redact(serverURL))
	}
	cfg, err := ConnConfig(serverURL)
	if err != nil {
		return "", nil, fmt.Errorf("DATABASE_URL %s: %w", redact(serverURL), err)
	}
	exec := func(ctx context.Context, statement string) error {
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			return fmt.Errorf("connecting to %s: %w (is Postgres running? `scripts/postgres.sh start`)", redact(serverURL), err)
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, statement)
		return err
	}
	if err := exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, fmt.Errorf("creating database %s: %w", name, err)
	}
	u.Path = "/" + name
	drop := func(ctx context.Context) error {
		// FORCE: a pool or a listener may not have let go of every connection yet.
		return exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	}
	return u.String(), drop, nil
}

// ConnConfig is what a single connection (not a pool) to databaseURL
// connects with: the URL parsed as pgxpool parses it, because DATABASE_URL
// may carry pgxpool's own settings (pool_max_conns, ...), which a plain
// connection would send to the server as parameters it refuses.
func ConnConfig(databaseURL string) (*pgx.ConnConfig, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, err
	}
	return cfg.ConnConfig, nil
}

// redact hides a password in a database URL for messages.
func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return "DATABASE_URL"
}
