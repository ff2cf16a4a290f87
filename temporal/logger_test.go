package temporal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/server/common/log/tag"
)

// While the process stops, its workers' and clients' calls are cancelled
// and its task queues close, and the server logs each as an error
// ("Update workflow execution operation failed ... context canceled",
// "Fail to process task ... serviceerror.Canceled", "service failures ...
// task queue shutting down"): expected, so not logged once stopping is
// set. Other errors are, and so are those while the server runs.
func TestStoppingServerDoesNotLogCancelledCalls(t *testing.T) {
	var out bytes.Buffer
	var stopping atomic.Bool
	logger := newServerLogger(slog.New(slog.NewTextHandler(&out, nil)), slog.LevelWarn, &stopping)
	logAll := func(when string) {
		logger.Error("update failed "+when, tag.Error(context.Canceled))
		logger.Error("wrapped "+when, tag.Error(fmt.Errorf("persistence: %w", context.Canceled)))
		logger.With(tag.NewStringTag("component", "transfer")).Warn("task failed "+when, tag.Error(serviceerror.NewCanceled("context canceled")))
		logger.Error("queue closed "+when, tag.Error(errors.New("task queue shutting down")))
		logger.Error("real failure "+when, tag.Error(errors.New("disk full")))
	}
	logAll("running")
	stopping.Store(true)
	logAll("stopping")
	for _, want := range []string{"update failed running", "wrapped running", "task failed running", "queue closed running",
		"real failure running", "real failure stopping"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("%q not logged:\n%s", want, out.String())
		}
	}
	for _, unwanted := range []string{"update failed stopping", "wrapped stopping", "task failed stopping", "queue closed stopping"} {
		if strings.Contains(out.String(), unwanted) {
			t.Errorf("%q logged while stopping:\n%s", unwanted, out.String())
		}
	}
}

// The frontend warns that Nexus has no HTTP endpoints when its HTTP API is
// off, which only this process's own setting does: logged at info, under
// the default warn level, not once per embedded stack started.
func TestNexusWithoutHTTPIsNotAWarning(t *testing.T) {
	var out bytes.Buffer
	logger := newServerLogger(slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug})),
		slog.LevelDebug, new(atomic.Bool))
	logger.Warn(nexusWithoutHTTP + " Nexus HTTP endpoints will not be available.")
	logger.Warn("another warning")
	if got := out.String(); !strings.Contains(got, "level=INFO msg=\"HTTP API port") || !strings.Contains(got, "level=WARN msg=\"another warning") {
		t.Errorf("want the HTTP API's warning at info and the other at warn:\n%s", got)
	}
}
