package temporal

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"

	"go.temporal.io/api/serviceerror"
	serverlog "go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
)

// slogAdapter lets the Temporal server, which logs through its own
// log.Logger interface with zap-style tags, write to a *slog.Logger.
type slogAdapter struct {
	logger *slog.Logger
	// stopping is set when the process stops (Server.Stopping): from then
	// on an error the shutdown causes is not logged (shutdownError).
	stopping *atomic.Bool
}

// newServerLogger is the server's logger: records below level are
// dropped, and once stopping is set, warnings and the errors the shutdown
// causes too (stoppingLevel, shutdownError).
func newServerLogger(base *slog.Logger, level slog.Leveler, stopping *atomic.Bool) slogAdapter {
	return slogAdapter{
		logger:   slog.New(minLevelHandler{handler: base.Handler(), minLevel: stoppingLevel{base: level, stopping: stopping}}),
		stopping: stopping,
	}
}

var (
	_ serverlog.Logger     = slogAdapter{}
	_ serverlog.WithLogger = slogAdapter{}
)

func (a slogAdapter) log(level slog.Level, msg string, tags []tag.Tag) {
	if level == slog.LevelWarn && strings.HasPrefix(msg, nexusWithoutHTTP) {
		level = slog.LevelInfo
	}
	// Check first: the server logs a lot below warn, and converting zap
	// tags is not free.
	if !a.logger.Enabled(context.Background(), level) || a.stopping != nil && a.stopping.Load() && shutdownError(tags) {
		return
	}
	a.logger.LogAttrs(context.Background(), level, msg, tagsToAttrs(tags)...)
}

// nexusWithoutHTTP begins the frontend's warning when its HTTP API is off,
// which happens only when this process turned it off (a workload's
// embedded stack, or TEMPORAL_HTTP_ADDR empty): information, not a warning.
const nexusWithoutHTTP = "HTTP API port has not been set."

// shutdownError says whether tags carry an error that the process's own
// shutdown causes: a cancellation (the caller went away) or a refusal
// because a part of the server is "shutting down". When the process stops,
// its workers' and clients' calls are cancelled and the server's task
// queues close, and the server logs each as an error ("Update workflow
// execution operation failed", "Fail to process task", "service failures
// ... task queue shutting down"): about ten per `workload mixed`
// scenario, none of them a fault.
func shutdownError(tags []tag.Tag) bool {
	for _, t := range tags {
		zt, ok := t.(tag.ZapTag)
		if !ok || zt.Key() != "error" {
			continue
		}
		err, _ := zt.Field().Interface.(error)
		var canceled *serviceerror.Canceled
		if errors.Is(err, context.Canceled) || errors.As(err, &canceled) ||
			err != nil && strings.Contains(err.Error(), "shutting down") {
			return true
		}
	}
	return false
}

func tagsToAttrs(tags []tag.Tag) []slog.Attr {
	attrs := make([]slog.Attr, 0, len(tags))
	for _, t := range tags {
		attrs = append(attrs, slog.Any(t.Key(), t.Value()))
	}
	return attrs
}

func (a slogAdapter) Debug(msg string, tags ...tag.Tag) { a.log(slog.LevelDebug, msg, tags) }
func (a slogAdapter) Info(msg string, tags ...tag.Tag)  { a.log(slog.LevelInfo, msg, tags) }
func (a slogAdapter) Warn(msg string, tags ...tag.Tag)  { a.log(slog.LevelWarn, msg, tags) }
func (a slogAdapter) Error(msg string, tags ...tag.Tag) { a.log(slog.LevelError, msg, tags) }

// DPanic panics only in development builds of zap; a production server
// logs it as an error, and so do we.
func (a slogAdapter) DPanic(msg string, tags ...tag.Tag) { a.log(slog.LevelError, msg, tags) }

// Panic and Fatal keep the contract the server code relies on: the call
// does not return.
func (a slogAdapter) Panic(msg string, tags ...tag.Tag) {
	a.log(slog.LevelError, msg, tags)
	panic(msg)
}

func (a slogAdapter) Fatal(msg string, tags ...tag.Tag) {
	a.log(slog.LevelError, msg, tags)
	os.Exit(1)
}

// With returns a logger that adds tags to every record, converted once.
func (a slogAdapter) With(tags ...tag.Tag) serverlog.Logger {
	args := make([]any, 0, len(tags))
	for _, attr := range tagsToAttrs(tags) {
		args = append(args, attr)
	}
	return slogAdapter{logger: a.logger.With(args...), stopping: a.stopping}
}

// minLevelHandler drops records below minLevel before they reach the
// wrapped handler, whatever that handler's own level is.
type minLevelHandler struct {
	handler  slog.Handler
	minLevel slog.Leveler
}

func (h minLevelHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= h.minLevel.Level() && h.handler.Enabled(ctx, level)
}

func (h minLevelHandler) Handle(ctx context.Context, r slog.Record) error {
	return h.handler.Handle(ctx, r)
}

func (h minLevelHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevelHandler{handler: h.handler.WithAttrs(attrs), minLevel: h.minLevel}
}

func (h minLevelHandler) WithGroup(name string) slog.Handler {
	return minLevelHandler{handler: h.handler.WithGroup(name), minLevel: h.minLevel}
}

// stoppingLevel is base until the server stops, then error: while it shuts
// down, its services lose each other and warn about it, which is expected.
type stoppingLevel struct {
	base     slog.Leveler
	stopping *atomic.Bool
}

func (l stoppingLevel) Level() slog.Level {
	if l.stopping.Load() {
		return max(l.base.Level(), slog.LevelError)
	}
	return l.base.Level()
}
