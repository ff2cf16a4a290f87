package workloads

import (
	"encoding/binary"
	"slices"

	"github.com/daytradinginc/daytrader/trading"
)

// packedBatch is one user's batch while it is filled and while it waits to
// be sent: its commands packed in one buffer, some 20 bytes each (the
// transaction number, the name in a byte, the arguments; the user is the
// batch's) instead of a trading.Command's 104 bytes and the 48 of the line
// it was parsed from. A run holds up to a group of users' commands and a
// read-ahead of them at once (readAhead), so this is most
// of the starter's own memory. A batch is unpacked for its Send only.
type packedBatch struct {
	first int64 // the place of its first command among its user's, from 0
	n     int
	data  []byte
}

// packedBytesEach sizes a batch's buffer: a generated line's command packs
// in 15 to 22 bytes; a longer one makes the buffer grow.
const packedBytesEach = 24

func newPackedBatch(first, capacity int64) *packedBatch {
	return &packedBatch{first: first, data: make([]byte, 0, capacity*packedBytesEach)}
}

// packedNames are the command names packed as their index; any other name
// is packed as nameInline and its text.
var packedNames = [...]trading.CommandName{
	trading.Add, trading.QuoteCmd, trading.Buy, trading.CommitBuy, trading.CancelBuy, trading.Sell,
	trading.CommitSell, trading.CancelSell, trading.SetBuyAmount, trading.SetBuyTrigger, trading.CancelSetBuy,
	trading.SetSellAmount, trading.SetSellTrigger, trading.CancelSetSell, trading.DisplaySummary, trading.DumpLog,
}

const nameInline = 0xff

// add packs c; its User is the batch's and is not kept.
func (b *packedBatch) add(c trading.Command) {
	b.data = binary.AppendVarint(b.data, c.TxNum)
	name := byte(nameInline)
	for i, n := range packedNames {
		if n == c.Name {
			name = byte(i)
			break
		}
	}
	b.data = append(b.data, name)
	if name == nameInline {
		b.data = appendString(b.data, string(c.Name))
	}
	for _, s := range [...]string{c.Symbol, c.Amount, c.Price, c.Filename} {
		b.data = appendString(b.data, s)
	}
	b.n++
}

func appendString(data []byte, s string) []byte {
	return append(binary.AppendUvarint(data, uint64(len(s))), s...)
}

// commands unpacks the batch as user's commands, into the array of into
// when it has room. Their strings share one copy of the buffer.
func (b *packedBatch) commands(user string, into []trading.Command) []trading.Command {
	text := string(b.data)
	out := slices.Grow(into[:0], b.n)[:b.n]
	at := 0
	next := func() string {
		n, size := binary.Uvarint(b.data[at:])
		at += size
		s := text[at : at+int(n)]
		at += int(n)
		return s
	}
	for i := range out {
		c := &out[i]
		txNum, size := binary.Varint(b.data[at:])
		at += size
		c.TxNum, c.User = txNum, user
		name := b.data[at]
		at++
		if name == nameInline {
			c.Name = trading.CommandName(next())
		} else {
			c.Name = packedNames[name]
		}
		c.Symbol, c.Amount, c.Price, c.Filename = next(), next(), next(), next()
	}
	return out
}
