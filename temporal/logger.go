package temporal

import (
	"context"
	"log/slog"
	"os"
	"sync/atomic"

	serverlog "go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
)

// slogAdapter lets the Temporal server, which logs through its own
// log.Logger interface with zap-style tags, write to a *slog.Logger.
type slogAdapter struct {
	logger *slog.Logger
}

var (
	_ serverlog.Logger     = slogAdapter{}
	_ serverlog.WithLogger = slogAdapter{}
)

func (a slogAdapter) log(level slog.Level, msg string, tags []tag.Tag) {
	// Check first: the server logs a lot below warn, and converting zap
	// tags is not free.
	if !a.logger.Enabled(context.Background(), level) {
		return
	}
	a.logger.LogAttrs(context.Background(), level, msg, tagsToAttrs(tags)...)
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
	return slogAdapter{logger: a.logger.With(args...)}
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
