// Package activities holds the side effects of DayTrader's workflows: asking
// the legacy quote server (through a process-wide cache) and writing the audit
// history. They are methods on one struct that holds the clients, so a worker
// builds it once and registers it.
package activities

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/quotes"
	"github.com/daytradinginc/daytrader/trading"
	"go.temporal.io/sdk/temporal"
)

// QuoteSource is the process-wide quote cache (quotes.Cache implements it):
// it answers each symbol with a valid cached quote or asks the legacy server,
// a bounded number of symbols at a time, and reports a legacy hit to exactly
// one caller so every billed hit is audited once.
type QuoteSource interface {
	GetMany(ctx context.Context, user, claimant string, symbols []string) []quotes.Result
}

// AuditLog is the audit store (audit.Store implements it).
type AuditLog interface {
	Write(ctx context.Context, server string, events []trading.Event) error
	DumpToFile(ctx context.Context, dir, filename, user string) (path string, count int64, err error)
}

// Activities are registered on the worker; workflows refer to them through a
// nil *Activities (only the method names matter to Temporal).
type Activities struct {
	Quotes  QuoteSource
	Audit   AuditLog
	Server  string // the name audit records carry in <server>
	DumpDir string // DUMPLOG files are written inside this directory only
	Logger  *slog.Logger
	Metrics *Metrics // nil: nothing recorded
}

// QuotesRequest asks for the current price of several symbols on behalf of
// one user (the legacy protocol names the user in every request).
type QuotesRequest struct {
	User    string   `json:"user"`
	Symbols []string `json:"symbols"`
	// Claimant names the work the quotes are for, the same each time it
	// asks again (quotes.Cache.GetMany): the audit key its legacy hits'
	// records start at. Required: it is what keeps a billed hit from being
	// lost when Temporal drops an answer, a local activity's result that came
	// after its deadline or a workflow task lost after it, and asks again.
	Claimant string `json:"claimant,omitempty"`
}

// QuoteResult is one symbol's answer. Err is a message, not an error, so a
// quote server outage fails only the commands that needed that symbol.
type QuoteResult struct {
	Quote     trading.Quote `json:"quote"`
	LegacyHit bool          `json:"legacyHit"`
	Err       string        `json:"err,omitempty"`
}

// GetQuotes is GetQuotesV2 under the name that histories recorded before
// the compact QuoteResult hold; a workflow replaying one names it.
func (a *Activities) GetQuotes(ctx context.Context, req QuotesRequest) (map[string]QuoteResult, error) {
	return a.GetQuotesV2(ctx, req)
}

// GetQuotesV2 fetches the symbols in parallel (as many at once as the quote
// source allows). It runs as a local activity: it is fast when cached, and
// the quote client hedges slow legacy replies itself. Its result is recorded
// in the compact form (QuoteResult's JSON); the name is new with the form so
// that a worker of an older build, which would read it as empty quotes, fails
// the task instead ("code executed local activity GetQuotes, but history
// event found GetQuotesV2") and leaves it to a current one.
func (a *Activities) GetQuotesV2(ctx context.Context, req QuotesRequest) (map[string]QuoteResult, error) {
	if req.Claimant == "" {
		return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"quotes request for %s names no claimant: its legacy hits could be billed and never audited", req.User),
			"NoClaimant", nil)
	}
	results := a.Quotes.GetMany(ctx, req.User, req.Claimant, req.Symbols)
	if err := ctx.Err(); err != nil {
		// The attempt outlived its deadline: its symbols failed with that.
		// A result ready when the deadline fires counts as a success in the
		// SDK, and the commands waiting for those quotes would fail; an
		// error has the attempt tried again, and the retry reports what
		// this one claimed (the claimant).
		return nil, fmt.Errorf("quotes for %s: the attempt outlived its deadline: %w", req.User, err)
	}
	out := make(map[string]QuoteResult, len(results))
	for _, r := range results {
		res := QuoteResult{Quote: r.Quote, LegacyHit: r.LegacyHit}
		switch {
		case r.Err != nil:
			res.Err = r.Err.Error()
			a.Metrics.quoteLookup("error")
		case r.LegacyHit:
			a.Metrics.quoteLookup("legacy_hit")
		default:
			a.Metrics.quoteLookup("cached")
		}
		if prev, seen := out[r.Symbol]; seen && prev.LegacyHit {
			// A symbol asked twice: the one billed hit must not be lost.
			res.LegacyHit = true
		}
		out[r.Symbol] = res
	}
	return out, nil
}

// WriteAudit stores events idempotently (their keys are unique), so a retry
// or a replayed workflow task never writes a record twice.
func (a *Activities) WriteAudit(ctx context.Context, events AuditRecords) error {
	if len(events) == 0 {
		return nil
	}
	events = a.keepValid(events)
	start := time.Now()
	if err := a.Audit.Write(ctx, a.Server, events); err != nil {
		return fmt.Errorf("writing %d audit events: %w", len(events), err)
	}
	types := map[string]int{}
	for _, e := range events {
		types[string(e.Type)]++
	}
	a.Metrics.auditWritten(time.Since(start).Seconds(), types)
	return nil
}

// keepValid drops the records the schema cannot hold: one would be refused
// with the whole batch on every retry and stall the account for good; it is
// a bug upstream, so it is logged and counted, and the rest of the batch is
// stored. It filters in place, as events is this attempt's own decoded
// input (a retry decodes its own): a copy of every batch was 7 % of all that
// a 1,000,000-command run allocated.
func (a *Activities) keepValid(events AuditRecords) AuditRecords {
	valid := events[:0]
	for _, e := range events {
		if err := audit.Validate(e); err != nil {
			a.Metrics.auditRejected()
			if a.Logger != nil {
				a.Logger.Error("audit record refused", "key", e.Key, "err", err)
			}
			continue
		}
		valid = append(valid, e)
	}
	return valid
}

// DumpRequest is a DUMPLOG: one user's history, or everyone's when User is "".
type DumpRequest struct {
	TxNum    int64  `json:"txNum"`
	User     string `json:"user,omitempty"`
	Filename string `json:"filename"`
}

// DumpResult says where the dump went and how many records it holds.
type DumpResult struct {
	Path   string `json:"path"`
	Events int64  `json:"events"`
}

// DumpLog writes the audit history as XML into the dump directory. A file
// name that tries to leave the directory is refused without retries.
func (a *Activities) DumpLog(ctx context.Context, req DumpRequest) (DumpResult, error) {
	if err := trading.ValidFilename(req.Filename); err != nil {
		return DumpResult{}, temporal.NewNonRetryableApplicationError(err.Error(), "InvalidFilename", err)
	}
	path, n, err := a.Audit.DumpToFile(ctx, a.DumpDir, req.Filename, req.User)
	if err != nil {
		return DumpResult{}, err
	}
	if a.Logger != nil {
		a.Logger.Info("audit log dumped", "user", req.User, "path", path, "events", n)
	}
	return DumpResult{Path: path, Events: n}, nil
}

// GlobalDumpCommand records the administrator's DUMPLOG command itself, so
// that the dump it writes contains its own userCommand record.
func (a *Activities) GlobalDumpCommand(ctx context.Context, req DumpRequest) error {
	ev := trading.Event{
		Key: fmt.Sprintf("dumplog/%d", req.TxNum), Type: trading.UserCommandEvent, Time: time.Now(),
		TxNum: req.TxNum, Command: trading.DumpLog, Filename: req.Filename,
	}
	return a.WriteAudit(ctx, AuditRecords{ev})
}
