package workflows_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/daytradinginc/daytrader/workflows"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// TestReplayRecordedHistories replays account histories recorded from real
// runs of the course workloads (see internal/e2e: DAYTRADER_RECORD_HISTORIES)
// against today's workflow code. A change that would break running accounts
// (non-deterministic) fails here; record new histories only for a change
// made behind workflow.GetVersion.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob("testdata/histories/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no recorded histories in testdata/histories (%v)", err)
	}
	replayer := worker.NewWorkflowReplayer()
	replayer.RegisterWorkflow(workflows.Account)
	replayer.RegisterWorkflow(workflows.Trigger)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			history, err := client.HistoryFromJSON(mustOpen(t, f), client.HistoryJSONOptions{})
			if err != nil {
				t.Fatal(err)
			}
			// Each file is named after its workflow ID, which the account
			// checks against its input.
			id := strings.TrimSuffix(filepath.Base(f), ".json")
			if err := replayer.ReplayWorkflowHistoryWithOptions(nil, history,
				worker.ReplayWorkflowHistoryOptions{OriginalExecution: workflow.Execution{ID: id, RunID: "replay"}}); err != nil {
				t.Fatalf("replaying %s: %v", f, err)
			}
		})
	}
}

func mustOpen(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
