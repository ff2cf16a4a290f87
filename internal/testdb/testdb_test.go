package testdb

import (
	"context"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestURLGivesEachTestAMigratedDatabaseAndDropsIt(t *testing.T) {
	ctx := context.Background()
	var names []string
	for range 2 {
		t.Run("user", func(t *testing.T) {
			dbURL := URL(t)
			conn, err := pgx.Connect(ctx, dbURL)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			var name string
			var hasAuditTable bool
			if err := conn.QueryRow(ctx, "SELECT current_database(), to_regclass('public.audit_events') IS NOT NULL").Scan(&name, &hasAuditTable); err != nil {
				t.Fatal(err)
			}
			if !hasAuditTable {
				t.Error("migrations were not applied")
			}
			names = append(names, name)
		})
	}
	if len(names) != 2 || names[0] == names[1] {
		t.Fatalf("database names %v, want two different ones", names)
	}

	conn, err := pgx.Connect(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var left int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = ANY($1)", names).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Errorf("%d of %v still exist after their tests ended", left, names)
	}
}

func TestURLKeepsServerSettings(t *testing.T) {
	dbURL := URL(t)
	got, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	server, err := url.Parse(os.Getenv("DATABASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Host != server.Host || got.User.String() != server.User.String() || got.RawQuery != server.RawQuery {
		t.Errorf("URL %s does not keep host, user and options of %s", dbURL, server.Redacted())
	}
}

func TestName(t *testing.T) {
	identifier := regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)
	for _, testName := range []string{
		"TestX",
		"TestAccount/Buy_then_COMMIT_BUY#01",
		strings.Repeat("VeryLongTestName/", 10),
		"",
	} {
		name := Name(testName)
		if !identifier.MatchString(name) {
			t.Errorf("Name(%q) = %q, not a plain identifier of at most 63 bytes", testName, name)
		}
	}
	if first, second := Name("TestX"), Name("TestX"); first == second {
		t.Error("two databases for the same test got the same name")
	}
}

func TestEmptyHasNoSchema(t *testing.T) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, Empty(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var hasAuditTable bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass('public.audit_events') IS NOT NULL").Scan(&hasAuditTable); err != nil {
		t.Fatal(err)
	}
	if hasAuditTable {
		t.Error("an empty database has the schema")
	}
}
