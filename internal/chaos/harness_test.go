package chaos

import (
	"context"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/trading"
	"github.com/daytradinginc/daytrader/workflows"
	"github.com/daytradinginc/daytrader/workloads"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
)

// workload is the account commands of a workload file (its global DUMPLOG
// left out: it is no account's command) and the fixed quote prices the
// emulator serves for its symbols. Fixed prices make the ledger check exact:
// the rules re-run over an account's commands get the very prices the
// account got.
type workload struct {
	Users      []string
	ByUser     map[string][]trading.Command
	Prices     map[string]decimal.Decimal
	PricesFile string
}

// generateWorkload writes a generated workload in the course format and
// parses it back, as a workload file would be.
func generateWorkload(t testing.TB, sz size) *workload {
	t.Helper()
	path := filepath.Join(t.TempDir(), "workload.txt")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := workloads.Generate(f, workloads.GenOptions{Users: sz.Users, Lines: sz.Lines, Seed: sz.Seed}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return loadWorkload(t, path)
}

func loadWorkload(t testing.TB, path string) *workload {
	t.Helper()
	wl, perrs, err := workloads.ParseFile(path, true)
	if err != nil || len(perrs) > 0 {
		t.Fatalf("parsing %s: %v %v", path, err, perrs)
	}
	w := &workload{Users: wl.Users, ByUser: wl.ByUser, Prices: map[string]decimal.Decimal{}}
	for _, l := range wl.Lines {
		if trading.ValidSymbol(l.Cmd.Symbol) {
			w.Prices[l.Cmd.Symbol] = fixedPrice(l.Cmd.Symbol)
		}
	}
	w.PricesFile = filepath.Join(t.TempDir(), "prices.csv")
	pf, err := os.Create(w.PricesFile)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	for _, sym := range sortedKeys(w.Prices) {
		fmt.Fprintf(pf, "%s,%s\n", sym, w.Prices[sym].StringFixed(2))
	}
	return w
}

// fixedPrice is a price per symbol between $1.00 and $499.99 that depends on
// the symbol only.
func fixedPrice(sym string) decimal.Decimal {
	h := fnv.New32a()
	h.Write([]byte(sym))
	return decimal.New(int64(100+h.Sum32()%49900), -2)
}

// size is how many account commands the workload holds.
func (w *workload) size() int {
	n := 0
	for _, cmds := range w.ByUser {
		n += len(cmds)
	}
	return n
}

// txNums lists every account command's transaction number.
func (w *workload) txNums() []int64 {
	var out []int64
	for _, cmds := range w.ByUser {
		for _, c := range cmds {
			out = append(out, c.TxNum)
		}
	}
	slices.Sort(out)
	return out
}

// part is the commands whose transaction numbers fall in [from, to), per
// user, in order: sending the parts one after another sends each user's
// commands in workload order.
func (w *workload) part(from, to int64) map[string][]trading.Command {
	out := map[string][]trading.Command{}
	for u, cmds := range w.ByUser {
		for _, c := range cmds {
			if c.TxNum >= from && c.TxNum < to {
				out[u] = append(out[u], c)
			}
		}
	}
	return out
}

// nthTxNum is the transaction number at fraction f of the workload's
// commands (0 <= f <= 1), for cutting it into parts.
func (w *workload) nthTxNum(f float64) int64 {
	all := w.txNums()
	i := int(float64(len(all)) * f)
	if i >= len(all) {
		return all[len(all)-1] + 1
	}
	return all[i]
}

// sendBatchSize is how many commands go in one signal: small, so that a run
// is many workflow tasks and a fault lands in the middle of some.
const sendBatchSize = 10

// send delivers each user's commands in order, users concurrently, the way
// the workload starter does, and returns how many commands Temporal
// acknowledged (an acknowledged command must be processed).
func send(ctx context.Context, accounts *workflows.Accounts, byUser map[string][]trading.Command) (int, error) {
	var mu sync.Mutex
	var sent int
	var errs []error
	var wg sync.WaitGroup
	for u, cmds := range byUser {
		wg.Go(func() {
			for i := 0; i < len(cmds); i += sendBatchSize {
				batch := cmds[i:min(i+sendBatchSize, len(cmds))]
				if err := accounts.Send(ctx, u, batch); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("sending %s's commands: %w", u, err))
					mu.Unlock()
					return
				}
				mu.Lock()
				sent += len(batch)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return sent, errs[0]
	}
	return sent, nil
}

// background is a workload being sent while a test breaks something.
type background struct {
	sent  []int64    // every command's transaction number
	start time.Time  // when the first command went
	done  chan error // the send's result, once every command was sent
}

// sendInBackground starts sending w's commands (send) and returns at once.
func sendInBackground(ctx context.Context, accounts *workflows.Accounts, w *workload) *background {
	b := &background{sent: w.txNums(), start: time.Now(), done: make(chan error, 1)}
	go func() {
		_, err := send(ctx, accounts, w.ByUser)
		b.done <- err
	}()
	return b
}

// waitFor waits until n of the commands are processed, so that a fault
// lands in the middle of the run, and fails the test if the run ended
// first: then the fault would interrupt nothing.
func (b *background) waitFor(ctx context.Context, t *testing.T, db *pgxpool.Pool, n int) tally {
	t.Helper()
	c := waitForAudit(ctx, t, db, b.sent, n, 2*time.Minute)
	if c.Processed < n {
		t.Fatalf("only %d of %d commands processed, %d wanted before the fault", c.Processed, len(b.sent), n)
	}
	if c.Processed >= len(b.sent) {
		t.Fatalf("the workload was done before the fault could interrupt it: make it bigger (CHAOS_LINES)")
	}
	return c
}

// tally is what the audit says about a set of sent commands: every command
// must have exactly one userCommand record.
type tally struct {
	Sent       int // commands Temporal acknowledged
	Processed  int // of those, transactions with at least one userCommand record
	Audited    int // userCommand records of those transactions
	Lost       int // acknowledged but without a userCommand record
	Duplicated int // userCommand records beyond the first of a transaction
	// StateProcessed is the accounts' own count of commands applied (the
	// workflows' progress query), which the duplicate window keeps at one
	// per transaction.
	StateProcessed int64
}

func (c tally) String() string {
	return fmt.Sprintf("sent=%d processed=%d audited=%d lost=%d duplicated=%d state-processed=%d",
		c.Sent, c.Processed, c.Audited, c.Lost, c.Duplicated, c.StateProcessed)
}

// userCommandCounts returns how many userCommand records each of txNums has
// (numbers without one are absent).
func userCommandCounts(ctx context.Context, db *pgxpool.Pool, txNums []int64) (map[int64]int, error) {
	rows, err := db.Query(ctx, `
SELECT tx_num, count(*) FROM audit_events
WHERE event_type = 'userCommand' AND tx_num = ANY($1)
GROUP BY tx_num`, txNums)
	if err != nil {
		return nil, err
	}
	counts := map[int64]int{}
	var tx, n int64
	_, err = pgx.ForEachRow(rows, []any{&tx, &n}, func() error {
		counts[tx] = int(n)
		return nil
	})
	return counts, err
}

// countAudit tallies the audit records of the sent transactions.
func countAudit(ctx context.Context, db *pgxpool.Pool, sent []int64) (tally, error) {
	counts, err := userCommandCounts(ctx, db, sent)
	if err != nil {
		return tally{}, err
	}
	c := tally{Sent: len(sent)}
	for _, tx := range sent {
		n := counts[tx]
		c.Audited += n
		if n == 0 {
			c.Lost++
			continue
		}
		c.Processed++
		c.Duplicated += n - 1
	}
	return c, nil
}

// stateProcessed sums the accounts' progress queries.
func stateProcessed(ctx context.Context, accounts *workflows.Accounts, users []string) (int64, error) {
	var total int64
	for _, u := range users {
		p, err := accounts.Progress(ctx, u)
		if err != nil {
			return 0, fmt.Errorf("progress of %s: %w", u, err)
		}
		total += p.Processed
	}
	return total, nil
}

// waitForAudit polls until at least want of the sent transactions have a
// userCommand record. It gives up when the count has not grown for stall
// (work that is lost never arrives) and returns the last count.
func waitForAudit(ctx context.Context, t testing.TB, db *pgxpool.Pool, sent []int64, want int, stall time.Duration) tally {
	t.Helper()
	var c tally
	var err error
	last, lastChange := -1, time.Now()
	for {
		c, err = countAudit(ctx, db, sent)
		if err == nil && c.Processed >= want {
			return c
		}
		if c.Processed != last {
			last, lastChange = c.Processed, time.Now()
		}
		if time.Since(lastChange) > stall {
			t.Logf("no progress for %s: %d of %d wanted transactions audited (last error: %v)", stall, c.Processed, want, err)
			return c
		}
		select {
		case <-ctx.Done():
			t.Logf("gave up waiting: %d of %d wanted transactions audited (last error: %v)", c.Processed, want, err)
			return c
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// finish waits for every sent command, then tallies, logs the one-line
// summary and asserts exactly once: no command lost, none duplicated, and
// the accounts applied each exactly once.
func finish(ctx context.Context, t *testing.T, scenario string, faults string, start time.Time,
	db *pgxpool.Pool, accounts *workflows.Accounts, w *workload, sent []int64) tally {
	t.Helper()
	// A workflow task lost with a worker is retried after its 10 s timeout;
	// a minute without progress means the rest is not coming.
	c := waitForAudit(ctx, t, db, sent, len(sent), time.Minute)
	// A late duplicate would show up after the last original: look again
	// once the accounts have settled.
	time.Sleep(time.Second)
	c, err := countAudit(ctx, db, sent)
	if err != nil {
		t.Fatal(err)
	}
	if c.StateProcessed, err = stateProcessed(ctx, accounts, w.Users); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: faults=[%s] users=%d %s elapsed=%s", scenario, faults, len(w.Users), c, time.Since(start).Round(time.Millisecond))
	if c.Lost != 0 {
		t.Errorf("%d acknowledged commands have no userCommand record (lost)", c.Lost)
	}
	if c.Duplicated != 0 {
		t.Errorf("%d commands have more than one userCommand record (duplicated)", c.Duplicated)
	}
	if c.StateProcessed != int64(c.Sent) {
		t.Errorf("the accounts applied %d commands, %d were sent", c.StateProcessed, c.Sent)
	}
	if c.Lost > 0 || c.Duplicated > 0 {
		logEvidence(ctx, t, db, w, sent)
	}
	return c
}

// logEvidence logs the stored records around the first few transactions
// that were lost or duplicated: their keys show which workflow run and
// event sequence number wrote what.
func logEvidence(ctx context.Context, t *testing.T, db *pgxpool.Pool, w *workload, sent []int64) {
	t.Helper()
	counts, err := userCommandCounts(ctx, db, sent)
	if err != nil {
		t.Logf("evidence: %v", err)
		return
	}
	var bad []int64
	for _, tx := range sent {
		if counts[tx] != 1 {
			bad = append(bad, tx)
		}
	}
	slices.Sort(bad)
	t.Logf("evidence: transactions without exactly one userCommand record: %v", bad[:min(len(bad), 20)])
	userOf := map[int64]string{}
	for u, cmds := range w.ByUser {
		for _, c := range cmds {
			userOf[c.TxNum] = u
		}
	}
	for _, tx := range bad[:min(len(bad), 2)] {
		// The account's records from just before the transaction on, in
		// key order: keys are <workflow id>/<first run id>/<sequence number>.
		rows, err := db.Query(ctx, `
WITH account AS (
    SELECT e.id, e.event_key, e.event_type, e.ts, e.tx_num, e.command, e.funds, e.message,
           split_part(e.event_key, '/', 3)::int8 AS seq
    FROM audit_events e
    WHERE split_part(e.event_key, '/', 1) = $1 AND split_part(e.event_key, '/', 3) ~ '^[0-9]+$'
), before AS (
    SELECT coalesce(max(seq), 0) AS seq FROM account WHERE tx_num < $2 AND event_type = 'userCommand'
)
SELECT a.id, a.event_key, a.event_type, a.ts, a.tx_num, coalesce(a.command, ''), coalesce(a.funds::text, ''), coalesce(a.message, '')
FROM account a, before
WHERE a.seq BETWEEN before.seq - 4 AND before.seq + 30
ORDER BY a.seq, a.id`, workflows.AccountWorkflowID(userOf[tx]), tx)
		if err != nil {
			t.Logf("evidence: %v", err)
			continue
		}
		var b strings.Builder
		var id, txNum int64
		var key, typ, cmd, funds, msg string
		var ts time.Time
		_, err = pgx.ForEachRow(rows, []any{&id, &key, &typ, &ts, &txNum, &cmd, &funds, &msg}, func() error {
			fmt.Fprintf(&b, "  id=%d key=%s %s %s tx=%d %s %s %q\n", id, key, typ, ts.Format("15:04:05.000000"), txNum, cmd, funds, msg)
			return nil
		})
		if err != nil {
			t.Logf("evidence: %v", err)
		}
		t.Logf("evidence: the account's records near transaction %d, in key order:\n%s", tx, b.String())
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
