package temporal

import "testing"

// DATABASE_URL may carry pgxpool's settings for DayTrader's own pool
// (pool_max_conns, ...): Temporal's SQL plugin would pass them to the
// server as connection parameters, which it refuses, so they stay out;
// the driver's own (sslmode) go through.
func TestPostgresConfigsLeavePoolSettingsOut(t *testing.T) {
	main, visibility, err := postgresConfigs("postgres://u:p@127.0.0.1:5433/dt?sslmode=disable&pool_max_conns=40&pool_min_conns=2")
	if err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []struct {
		name  string
		attrs map[string]string
	}{{main.DatabaseName, main.ConnectAttributes}, {visibility.DatabaseName, visibility.ConnectAttributes}} {
		if len(cfg.attrs) != 1 || cfg.attrs["sslmode"] != "disable" {
			t.Errorf("%s: connect attributes %v, want only sslmode=disable", cfg.name, cfg.attrs)
		}
	}
}
