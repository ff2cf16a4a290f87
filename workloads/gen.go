package workloads

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"

	"github.com/daytradinginc/daytrader/trading"
	"github.com/shopspring/decimal"
)

// commandWeights is the command mix of the course's 100User_testWorkLoad
// (100,000 lines): the number of lines of each command, measured with
// TestCourseFiles (which checks these numbers against the file). The one
// DUMPLOG (0.001 %) is left out: Generate writes it as the last line.
//
//	BUY 13945 (13.9 %), QUOTE 13206 (13.2 %), ADD 11034 (11.0 %),
//	DISPLAY_SUMMARY 9118 (9.1 %), SET_BUY_TRIGGER 8564 (8.6 %),
//	COMMIT_BUY 8048 (8.0 %), SET_SELL_TRIGGER 7309 (7.3 %), SELL 6222 (6.2 %),
//	SET_BUY_AMOUNT 5012 (5.0 %), SET_SELL_AMOUNT 4415 (4.4 %),
//	COMMIT_SELL 4206 (4.2 %), CANCEL_SET_SELL 2480 (2.5 %),
//	CANCEL_BUY 2446 (2.4 %), CANCEL_SELL 2027 (2.0 %), CANCEL_SET_BUY 1967 (2.0 %)
//
// The ADD count includes each user's first command.
var commandWeights = []struct {
	Name   trading.CommandName
	Weight int
}{
	{trading.Buy, 13945},
	{trading.QuoteCmd, 13206},
	{trading.Add, 11034},
	{trading.DisplaySummary, 9118},
	{trading.SetBuyTrigger, 8564},
	{trading.CommitBuy, 8048},
	{trading.SetSellTrigger, 7309},
	{trading.Sell, 6222},
	{trading.SetBuyAmount, 5012},
	{trading.SetSellAmount, 4415},
	{trading.CommitSell, 4206},
	{trading.CancelSetSell, 2480},
	{trading.CancelBuy, 2446},
	{trading.CancelSell, 2027},
	{trading.CancelSetBuy, 1967},
}

var totalWeight = func() int {
	sum := 0
	for _, cw := range commandWeights {
		sum += cw.Weight
	}
	return sum
}()

// GenOptions says what workload Generate writes.
type GenOptions struct {
	Users   int   // distinct user ids (all appear when Lines > Users)
	Lines   int   // total lines, the final global DUMPLOG included
	Seed    int64 // same seed, same options: same bytes
	Symbols int   // distinct stock symbols shared by all users; 0 means 10 per user
}

// maxSymbols is how many distinct 1-3 letter upper-case symbols exist.
const maxSymbols = 26 + 26*26 + 26*26*26

const (
	userIDLength = 10
	userIDChars  = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	// DumpFilename is the file name of the global DUMPLOG ending every workload.
	DumpFilename = "./testLOG"
)

// Generate writes a workload in the course format: lines [1]..[Lines], users
// picked at random line by line (so interleaved), each user's first command
// an ADD, then commands drawn with the course mix (commandWeights), and a
// global DUMPLOG,./testLOG as the last line. Like the course files, the
// commands are drawn independently: a COMMIT_BUY need not follow a BUY, so
// many commands will fail the trading rules, which is part of the test.
//
// Amounts are in cents, drawn as integers (ADD: 10,000.00 to 130,000.00,
// bell-shaped around 70,000; BUY, SELL and SET_*_AMOUNT: 0.01 to 750.00;
// trigger prices 0.01 to 750.00, skewed low with a median near 140), which
// matches the ranges of the course files.
func Generate(w io.Writer, opts GenOptions) error {
	if opts.Users < 1 {
		return fmt.Errorf("workload needs at least 1 user, got %d", opts.Users)
	}
	if opts.Lines < 1 {
		return fmt.Errorf("workload needs at least 1 line (the final DUMPLOG), got %d", opts.Lines)
	}
	symbolCount := opts.Symbols
	if symbolCount == 0 {
		symbolCount = min(10*opts.Users, maxSymbols)
	}
	if symbolCount < 1 || symbolCount > maxSymbols {
		return fmt.Errorf("symbols must be between 1 and %d (all 1-3 letter symbols), got %d", maxSymbols, opts.Symbols)
	}

	rng := rand.New(rand.NewPCG(uint64(opts.Seed), 0x6461797472616465)) // second word: "daytrade"
	users := makeUserIDs(rng, opts.Users)
	symbols := makeSymbols(rng, symbolCount)

	// notStarted holds the users without an ADD yet. When as many lines are
	// left as users not started, the rest go to them so that every user
	// appears whenever the file has room for it.
	notStarted := make(map[int]bool, len(users))
	var notStartedOrder []int
	for i := range users {
		notStarted[i] = true
		notStartedOrder = append(notStartedOrder, i)
	}

	bw := bufio.NewWriter(w)
	for lineNo := 1; lineNo < opts.Lines; lineNo++ {
		var u int
		if left := opts.Lines - lineNo; left <= len(notStarted) {
			for !notStarted[notStartedOrder[0]] { // drop users started meanwhile
				notStartedOrder = notStartedOrder[1:]
			}
			u = notStartedOrder[0]
		} else {
			u = rng.IntN(len(users))
		}
		cmd := trading.Command{TxNum: int64(lineNo), User: users[u]}
		if notStarted[u] {
			delete(notStarted, u)
			cmd.Name = trading.Add
		} else {
			cmd.Name = drawCommand(rng)
		}
		fillArgs(rng, &cmd, symbols)
		if _, err := fmt.Fprintln(bw, cmd.String()); err != nil {
			return err
		}
	}
	final := trading.Command{TxNum: int64(opts.Lines), Name: trading.DumpLog, Filename: DumpFilename}
	if _, err := fmt.Fprintln(bw, final.String()); err != nil {
		return err
	}
	return bw.Flush()
}

func drawCommand(rng *rand.Rand) trading.CommandName {
	n := rng.IntN(totalWeight)
	for _, cw := range commandWeights {
		if n < cw.Weight {
			return cw.Name
		}
		n -= cw.Weight
	}
	panic("unreachable: drawCommand past the total weight")
}

// fillArgs sets the symbol, amount or price that cmd.Name takes.
func fillArgs(rng *rand.Rand, cmd *trading.Command, symbols []string) {
	switch cmd.Name {
	case trading.Add:
		// Sum of four uniform draws: bell-shaped, 10,000.00 .. 130,000.00.
		var cents int64 = 10_000_00
		for range 4 {
			cents += rng.Int64N(30_000_00 + 1)
		}
		cmd.Amount = dollars(cents)
	case trading.Buy, trading.Sell, trading.SetBuyAmount, trading.SetSellAmount:
		cmd.Symbol = symbols[rng.IntN(len(symbols))]
		cmd.Amount = dollars(1 + rng.Int64N(750_00))
	case trading.SetBuyTrigger, trading.SetSellTrigger:
		cmd.Symbol = symbols[rng.IntN(len(symbols))]
		// Product of two uniform draws, as skewed as the course's triggers.
		a, b := 1+rng.Int64N(750_00), 1+rng.Int64N(750_00)
		cmd.Price = dollars(max(1, a*b/750_00))
	case trading.QuoteCmd, trading.CancelSetBuy, trading.CancelSetSell:
		cmd.Symbol = symbols[rng.IntN(len(symbols))]
	}
}

// dollars formats cents as dollars with 2 decimals, like "1234.50".
func dollars(cents int64) string { return decimal.New(cents, -2).StringFixed(2) }

func makeUserIDs(rng *rand.Rand, n int) []string {
	ids := make([]string, 0, n)
	seen := make(map[string]bool, n)
	buf := make([]byte, userIDLength)
	for len(ids) < n {
		for i := range buf {
			buf[i] = userIDChars[rng.IntN(len(userIDChars))]
		}
		if id := string(buf); !seen[id] { // 62^10 ids: a clash is all but impossible
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids
}

// makeSymbols picks n distinct symbols uniformly among all 1-3 letter
// symbols, so nearly all have 3 letters, as in the course files.
func makeSymbols(rng *rand.Rand, n int) []string {
	perm := rng.Perm(maxSymbols)[:n]
	symbols := make([]string, n)
	for i, k := range perm {
		symbols[i] = symbolAt(k)
	}
	return symbols
}

// symbolAt is the k-th symbol in the order A..Z, AA..ZZ, AAA..ZZZ.
func symbolAt(k int) string {
	length := 1
	for span := 26; k >= span; span *= 26 {
		k -= span
		length++
	}
	b := make([]byte, length)
	for i := length - 1; i >= 0; i-- {
		b[i] = byte('A' + k%26)
		k /= 26
	}
	return string(b)
}
