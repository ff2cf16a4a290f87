package temporal_test

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	postgresschema "go.temporal.io/server/schema/postgresql/v12"

	"github.com/daytradinginc/daytrader/internal/testdb"
	"github.com/daytradinginc/daytrader/temporal"
)

// TestWorkflowSurvivesRestartOnPostgres is TestWorkflowSurvivesRestart on
// PostgreSQL persistence: the first start (in a child process) creates the
// visibility database, which is missing, sets up the schemas in it and in
// a fresh empty database and runs a workflow; the second start, on the
// same databases, must reuse the schemas and find the workflow.
func TestWorkflowSurvivesRestartOnPostgres(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	name := testdb.Name("temporal_pg")
	mainURL := testdb.EmptyNamed(t, name) // dropped after the server, whose cleanup is registered later, stops
	visibilityURL := dropAtEnd(t, mainURL, name+temporal.VisibilitySuffix)
	dir := t.TempDir()

	_, c := startInChildThenRestart(t, ctx, dir, mainURL)
	checkFirstRunKept(t, ctx, c)

	if _, err := os.Stat(filepath.Join(dir, "temporal.db")); !os.IsNotExist(err) {
		t.Errorf("a SQLite file in the data dir (stat: %v): persistence should be Postgres only", err)
	}
	t.Run("schemas set up once, at the server's versions", func(t *testing.T) {
		checkSchemaVersion(t, ctx, mainURL, postgresschema.Version)
		checkSchemaVersion(t, ctx, visibilityURL, postgresschema.VisibilityVersion)
	})
	t.Run("history shards", func(t *testing.T) {
		// A shard's row is written when the history service first takes it.
		if n := queryInt(t, ctx, mainURL, `SELECT count(*) FROM shards`); n != 4 {
			t.Errorf("%d history shards, want 4: on PostgreSQL they work beside each other", n)
		}
	})
	t.Run("workflow stored in Postgres", func(t *testing.T) {
		n := queryInt(t, ctx, mainURL, `SELECT count(*) FROM current_executions WHERE workflow_id = $1`, firstWorkflow)
		if n != 1 {
			t.Errorf("current_executions rows of %s = %d, want 1", firstWorkflow, n)
		}
		// Visibility is written by a queue after the workflow closes: wait.
		deadline := time.Now().Add(time.Minute)
		for queryInt(t, ctx, visibilityURL, `SELECT count(*) FROM executions_visibility WHERE workflow_id = $1`, firstWorkflow) != 1 {
			if time.Now().After(deadline) {
				t.Fatalf("%s never appeared in executions_visibility", firstWorkflow)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}

// dropAtEnd is the URL of database name beside serverURL's, which the
// server is to create; it is dropped when t ends.
func dropAtEnd(t *testing.T, serverURL, name string) string {
	t.Helper()
	u, err := url.Parse(serverURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		conn, err := pgx.Connect(ctx, serverURL)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(ctx)
		// name is testdb.Name's plus a suffix: a plain identifier.
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Error(err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// checkSchemaVersion: the database is at want, and reached it once (a
// start that re-applied the schema would log the step again).
func checkSchemaVersion(t *testing.T, ctx context.Context, url, want string) {
	t.Helper()
	var got string
	queryRow(t, ctx, url, &got, `SELECT curr_version FROM schema_version`)
	if got != want {
		t.Errorf("schema version = %s, want %s", got, want)
	}
	if n := queryInt(t, ctx, url, `SELECT count(*) FROM schema_update_history WHERE new_version = $1`, want); n != 1 {
		t.Errorf("schema steps to %s logged %d times, want once", want, n)
	}
}

func queryInt(t *testing.T, ctx context.Context, url, query string, args ...any) int {
	t.Helper()
	var n int
	queryRow(t, ctx, url, &n, query, args...)
	return n
}

// queryRow scans query's one column into dest, on a connection of its own.
func queryRow(t *testing.T, ctx context.Context, url string, dest any, query string, args ...any) {
	t.Helper()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if err := conn.QueryRow(ctx, query, args...).Scan(dest); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}
