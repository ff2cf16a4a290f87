package testenv

import (
	"context"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/api/workflowservice/v1"
)

func TestMain(m *testing.M) {
	code := m.Run()
	Cleanup()
	os.Exit(code)
}

func TestDatabaseURLGivesEachTestAMigratedDatabaseAndDropsIt(t *testing.T) {
	ctx := context.Background()
	var names []string
	for range 2 {
		t.Run("user", func(t *testing.T) {
			dbURL := DatabaseURL(t)
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

func TestDatabaseURLKeepsServerSettings(t *testing.T) {
	dbURL := DatabaseURL(t)
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

func TestDatabaseName(t *testing.T) {
	identifier := regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)
	for _, testName := range []string{
		"TestX",
		"TestAccount/Buy_then_COMMIT_BUY#01",
		strings.Repeat("VeryLongTestName/", 10),
		"",
	} {
		name := databaseName(testName)
		if !identifier.MatchString(name) {
			t.Errorf("databaseName(%q) = %q, not a plain identifier of at most 63 bytes", testName, name)
		}
	}
	if databaseName("TestX") == databaseName("TestX") {
		t.Error("two databases for the same test got the same name")
	}
}

func TestTemporalServerIsSharedAndServesItsNamespace(t *testing.T) {
	first := TemporalServer(t)
	if second := TemporalServer(t); second != first {
		t.Fatal("TemporalServer started a second server")
	}
	c := TemporalClient(t)
	resp, err := c.WorkflowService().DescribeNamespace(context.Background(),
		&workflowservice.DescribeNamespaceRequest{Namespace: first.Namespace()})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetNamespaceInfo().GetName() != "default" {
		t.Errorf("namespace = %q, want default", resp.GetNamespaceInfo().GetName())
	}
	if first.UIURL() != "" {
		t.Errorf("tests' server runs a UI at %s", first.UIURL())
	}
}
