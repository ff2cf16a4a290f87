package workloads

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/trading"
)

// checkNotProcessed refuses, before anything is sent, a workload whose
// commands the accounts have already processed: they would ignore them as
// duplicate transaction numbers and the run would only stall. It asks the
// audit history (every processed command has exactly one userCommand record)
// about each user's first and last command, which catches a re-run whole or
// cut short, in one query whatever the file's size.
func checkNotProcessed(ctx context.Context, p *plan, a AuditReader) error {
	probe := make([]audit.UserTxNum, 0, 2*len(p.users))
	for _, u := range p.users {
		st := p.byUser[u]
		probe = append(probe, audit.UserTxNum{User: u, TxNum: st.first})
		if st.count > 1 {
			probe = append(probe, audit.UserTxNum{User: u, TxNum: st.last})
		}
	}
	const shown = 3
	done, err := a.ProcessedCommands(ctx, probe, shown)
	if err != nil {
		return err
	}
	if len(done) == 0 {
		return nil
	}
	examples := make([]string, len(done))
	for i, c := range done {
		examples[i] = fmt.Sprintf("transaction %d of user %s", c.TxNum, c.User)
	}
	return fmt.Errorf("%w: this stack has already processed commands of this workload (%s): the accounts would "+
		"ignore them as duplicate transaction numbers. Run it on a fresh stack (`daytrader workload run --embedded`)",
		ErrAlreadyProcessed, strings.Join(examples, ", "))
}

// ErrAlreadyProcessed: the workload (or one with the same users and
// transaction numbers) already ran on this stack.
var ErrAlreadyProcessed = errors.New("workload already processed")

// auditRejected writes an errorEvent for each line that is well formed but
// names a user id no account can have: the transaction number and command
// are known, so the refusal is part of the audit history. The record has no
// username (the schema allows that, and the id itself may not even be
// writable as XML); the message quotes it escaped. Keys come from the line's
// text, so running the same file again stores nothing twice.
func auditRejected(ctx context.Context, a AuditReader, opts RunOptions) error {
	var events []trading.Event
	now := time.Now()
	for _, pe := range opts.ParseErrors {
		if pe.Cmd == nil {
			continue
		}
		sum := sha256.Sum256([]byte(pe.Text))
		events = append(events, trading.Event{
			Key:  fmt.Sprintf("workload-line/%d/%s", pe.Cmd.TxNum, hex.EncodeToString(sum[:8])),
			Type: trading.ErrorEvent, Time: now, TxNum: pe.Cmd.TxNum, Command: pe.Cmd.Name,
			Message: fmt.Sprintf("line %d refused: %v", pe.LineNo, pe.Err),
		})
	}
	if len(events) == 0 {
		return nil
	}
	host, _ := os.Hostname()
	if err := a.Write(ctx, cmp.Or(opts.Server, host, "daytrader"), events); err != nil {
		return fmt.Errorf("auditing the lines with a bad user id: %w", err)
	}
	return nil
}
