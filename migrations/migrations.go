// Package migrations holds the PostgreSQL schema as numbered SQL files
// (goose format) embedded in the binary, and applies them.
package migrations

import (
	"context"
	"embed"
	"fmt"

	"github.com/daytradinginc/daytrader/internal/pgdb"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed *.sql
var sqlFiles embed.FS

// Up applies every migration not applied yet. It is idempotent, and safe
// to call from several processes at once: a PostgreSQL advisory lock held
// for the session lets one of them migrate while the others wait, then
// find nothing left to do.
func Up(ctx context.Context, databaseURL string) error {
	return withProvider(ctx, databaseURL, func(p *goose.Provider) error {
		if _, err := p.Up(ctx); err != nil {
			return fmt.Errorf("migrations: up: %w", err)
		}
		return nil
	})
}

// Status reports each migration and whether it is applied.
func Status(ctx context.Context, databaseURL string) ([]*goose.MigrationStatus, error) {
	var status []*goose.MigrationStatus
	err := withProvider(ctx, databaseURL, func(p *goose.Provider) error {
		var err error
		if status, err = p.Status(ctx); err != nil {
			return fmt.Errorf("migrations: status: %w", err)
		}
		return nil
	})
	return status, err
}

func withProvider(ctx context.Context, databaseURL string, use func(*goose.Provider) error) error {
	cfg, err := pgdb.ConnConfig(databaseURL)
	if err != nil {
		return fmt.Errorf("migrations: DATABASE_URL: %w", err)
	}
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		return fmt.Errorf("migrations: connect: %w", err)
	}
	// Retry the lock every second for up to five minutes (goose's default
	// polls every five seconds, which makes a waiting process slow).
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
	if err != nil {
		return fmt.Errorf("migrations: locker: %w", err)
	}
	// Goose runs each SQL file in a transaction, so a failed migration
	// leaves nothing half-applied. Our migrations are SQL only: Go
	// migrations registered globally by any other package are ignored.
	provider, err := goose.NewProvider(goose.DialectPostgres, db, sqlFiles,
		goose.WithSessionLocker(locker),
		goose.WithDisableGlobalRegistry(true),
	)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	return use(provider)
}
