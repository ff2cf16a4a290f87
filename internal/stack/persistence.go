package stack

import (
	"fmt"
	"net/url"
	"strings"
)

// TEMPORAL_PERSISTENCE values: where the embedded Temporal server keeps
// its state.
const (
	PersistenceSQLite   = "sqlite"   // one SQLite file under DATA_DIR/temporal
	PersistencePostgres = "postgres" // Temporal's own databases on DATABASE_URL's server
)

// temporalDatabaseSuffix makes Temporal's database name from DATABASE_URL's:
// daytrader_temporal (and daytrader_temporal_visibility) next to
// daytrader, so the audit and Temporal never share tables, and a fresh
// audit database (workload run --embedded) comes with fresh Temporal ones.
const temporalDatabaseSuffix = "_temporal"

// VisibilitySuffix is what Temporal adds to its database's name for its
// visibility database (temporal.VisibilitySuffix; TestVisibilitySuffix
// holds them equal): said here too so that this package builds without the
// server for the starter binary.
const VisibilitySuffix = "_visibility"

// maxIdentifier is PostgreSQL's limit on a name; a longer one is cut
// silently, which could make two of our names one.
const maxIdentifier = 63

// TemporalDatabaseURL is the URL of embedded Temporal's database for
// TEMPORAL_PERSISTENCE=postgres: DATABASE_URL with its database name
// followed by _temporal (Temporal adds _visibility for its second one).
func TemporalDatabaseURL(databaseURL string) (string, error) {
	return siblingDatabaseURL(databaseURL, temporalDatabaseSuffix)
}

// siblingDatabaseURL is DATABASE_URL with suffix added to its database
// name, refused when Temporal's visibility database name would be cut.
func siblingDatabaseURL(databaseURL, suffix string) (string, error) {
	u, err := url.Parse(databaseURL)
	if err != nil {
		return "", fmt.Errorf("DATABASE_URL %s: %w", Redact(databaseURL), err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" {
		return "", fmt.Errorf("DATABASE_URL %s names no database", Redact(databaseURL))
	}
	name += suffix
	if n := len(name + VisibilitySuffix); n > maxIdentifier {
		return "", fmt.Errorf("DATABASE_URL's database name is too long for Temporal's databases (%s%s is %d bytes, at most %d)",
			name, VisibilitySuffix, n, maxIdentifier)
	}
	u.Path = "/" + name
	return u.String(), nil
}
