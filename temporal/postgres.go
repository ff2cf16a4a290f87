package temporal

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"go.temporal.io/server/common/config"
	serverlog "go.temporal.io/server/common/log"
	postgresplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql"
	"go.temporal.io/server/tools/common/schema"
	sqltool "go.temporal.io/server/tools/sql"
)

// VisibilitySuffix names the visibility database: Temporal keeps
// visibility (the workflow list the UI and ListWorkflowExecutions read) in
// a database of its own, each with its own schema version, so the
// visibility database of PostgresURL's database temporal is
// temporal_visibility.
const VisibilitySuffix = "_visibility"

// The versioned schemas that go.temporal.io/server embeds (schema/), as
// temporal-sql-tool's --schema-name names them.
const (
	postgresSchema           = "postgresql/v12/temporal"
	postgresVisibilitySchema = "postgresql/v12/visibility"
	// The database the tool connects to while it creates another.
	postgresMaintenanceDB = "postgres"
)

// postgresConfigs turns a postgres:// URL into the server's SQL configs
// for its own database and for visibility's (the URL's database name with
// VisibilitySuffix). Query parameters (sslmode, ...) become connect
// attributes, which the plugin passes on to the driver; pgxpool's pool_*
// settings are left out (its own MaxConns bounds the server's pools).
func postgresConfigs(rawURL string) (main, visibility *config.SQL, err error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, nil, errors.New("temporal: PostgresURL must be a postgres:// URL")
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" || strings.Contains(name, "/") {
		return nil, nil, fmt.Errorf("temporal: PostgresURL %s names no database", u.Redacted())
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		return nil, nil, fmt.Errorf("temporal: PostgresURL %s names no host", u.Redacted())
	}
	if port == "" {
		port = "5432"
	}
	password, _ := u.User.Password()
	attrs := map[string]string{}
	for k, v := range u.Query() {
		if strings.HasPrefix(k, "pool_") {
			continue // pgxpool's settings of DayTrader's own pool, not the server's
		}
		attrs[k] = v[len(v)-1]
	}
	cfg := func(database string) *config.SQL {
		return &config.SQL{
			PluginName:      postgresplugin.PluginName,
			User:            u.User.Username(),
			Password:        password,
			DatabaseName:    database,
			ConnectAddr:     net.JoinHostPort(host, port),
			ConnectProtocol: "tcp",
			// Copied per config: the plugin may add to the map.
			ConnectAttributes: copyAttrs(attrs),
			// The server's defaults leave pool sizes to the driver
			// (unbounded): bound them so a load test cannot exhaust
			// max_connections (100) of the shared Postgres server.
			MaxConns:     20,
			MaxIdleConns: 20,
		}
	}
	return cfg(name), cfg(name + VisibilitySuffix), nil
}

func copyAttrs(m map[string]string) map[string]string {
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// setupPostgres does what temporal-sql-tool's create-database,
// setup-schema -v 0.0 and update-schema --schema-name do, with the tool's
// own code: it creates the database if missing, then applies every
// versioned schema step newer than the recorded version. On a database that
// is already current nothing changes, so every start can call it.
func setupPostgres(cfg *config.SQL, schemaName string, logger serverlog.Logger) error {
	create := *cfg
	if err := sqltool.DoCreateDatabase(&create, postgresMaintenanceDB, logger); err != nil {
		return fmt.Errorf("temporal: create database %s: %w", cfg.DatabaseName, err)
	}
	conn, err := sqltool.NewConnection(cfg, logger)
	if err != nil {
		return fmt.Errorf("temporal: connect to database %s: %w", cfg.DatabaseName, err)
	}
	defer conn.Close()
	// Version 0.0 only when no version is recorded yet; a set-up database
	// keeps its version (SetupTask skips a lower initial version).
	setup := schema.NewSetupSchemaTask(conn, &schema.SetupConfig{InitialVersion: "0.0"}, logger)
	if err := setup.Run(); err != nil {
		return fmt.Errorf("temporal: schema version tables in %s: %w", cfg.DatabaseName, err)
	}
	update := schema.NewUpdateSchemaTask(conn, &schema.UpdateConfig{DBName: cfg.DatabaseName, SchemaName: schemaName}, logger)
	if err := update.Run(); err != nil {
		return fmt.Errorf("temporal: schema of %s: %w", cfg.DatabaseName, err)
	}
	return nil
}
