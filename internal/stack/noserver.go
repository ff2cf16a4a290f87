//go:build starter

package stack

import (
	"context"
	"errors"
	"log/slog"
)

// ErrNoServer is what the starter binary (build tag starter) says when asked
// to run Temporal itself: it is built without go.temporal.io/server, to stay
// small, and dials a running Temporal instead.
var ErrNoServer = errors.New("this binary (daytrader-starter) has no embedded Temporal server: " +
	"set TEMPORAL_ADDRESS or TEMPORAL_FRONTENDS, or use bin/daytrader")

// CanRunTemporal is ErrNoServer: commands that would start Temporal ask it
// before they create anything.
func CanRunTemporal() error { return ErrNoServer }

// StartTemporal is not in the starter binary: ErrNoServer.
func StartTemporal(context.Context, Config, *slog.Logger) (TemporalServer, error) {
	return nil, ErrNoServer
}

// StartTemporalNode is not in the starter binary: ErrNoServer.
func StartTemporalNode(context.Context, Config, int, *slog.Logger) (TemporalServer, error) {
	return nil, ErrNoServer
}
