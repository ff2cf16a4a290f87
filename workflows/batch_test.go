package workflows_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/trading"
	"github.com/daytradinginc/daytrader/workflows"
)

// payloadLimit is the size at which Temporal (its default
// limit.blobSize.error) fails the workflow task that would record a
// payload: the audit activity's input must stay well below it.
const payloadLimit = 2 * 1024 * 1024

// TestBatchAuditFitsTemporalsPayloadLimit sends one account 2,500 commands
// at once, each a new symbol's quote or a failure with a message (two
// records a command, more than a workload's average of 1.7): every audit
// write must hold at most MaxBatchCommands commands and stay under half of
// Temporal's payload limit, and every command must run.
func TestBatchAuditFitsTemporalsPayloadLimit(t *testing.T) {
	const commands = 2500
	h := newHarness(t, testOptions)
	var cmds []trading.Command
	for i := 0; len(cmds) < commands; i++ {
		sym := fmt.Sprintf("%c%c%c", 'A'+i%26, 'A'+i/26%26, 'A'+i/676%26)
		cmds = append(cmds,
			h.cmd(trading.Add, "1000.00"),
			h.cmd(trading.Buy, sym, "100.00"), // a new symbol: a quoteServer record
			h.cmd(trading.CommitBuy),          // an accountTransaction
			h.cmd(trading.CommitSell),         // an errorEvent with its message
			h.cmd(trading.Sell, sym, "99999999.00"))
	}
	cmds = cmds[:commands]
	for i := 0; i < len(cmds); i += 200 {
		h.at(time.Second, cmds[i:min(i+200, len(cmds))]...)
	}
	h.run(10*time.Second, workflows.AccountInput{User: "alice"})

	if got := h.audit.count(trading.UserCommandEvent); got != commands {
		t.Fatalf("userCommand records = %d, want all %d commands", got, commands)
	}
	if len(h.audit.writes) < 3 {
		t.Errorf("%d audit writes for %d commands received at once, want batches of at most %d", len(h.audit.writes), commands, workflows.MaxBatchCommands)
	}
	for i, w := range h.audit.writes {
		if w.commands > workflows.MaxBatchCommands || w.jsonBytes > payloadLimit/2 {
			t.Errorf("audit write %d: %d commands, %d bytes of JSON; want at most %d commands and %d bytes",
				i, w.commands, w.jsonBytes, workflows.MaxBatchCommands, payloadLimit/2)
		}
	}
}
