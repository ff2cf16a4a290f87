package workflows_test

import (
	"path/filepath"
	"testing"

	"github.com/daytradinginc/daytrader/workflows"
	"go.temporal.io/sdk/worker"
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
			if err := replayer.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
				t.Fatalf("replaying %s: %v", f, err)
			}
		})
	}
}
