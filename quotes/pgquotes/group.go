package pgquotes

import (
	"context"
	"slices"
	"sync"
)

// group runs the calls of one statement that arrive together as one
// statement over all their rows: the first call starts it at once, the
// calls that come while it runs wait for it to finish and then go in the
// next one (a group commit). A quote wave (every account asking for the
// quotes that expired together, some 10,000 in a few seconds on the 1,000
// user workload) made three statements a symbol; grouped they are a few
// statements a batch, and an idle worker waits for nobody.
type group[In, Out any] struct {
	// run is the statement for ins, one Out per In in order; an error fails
	// every call in the group.
	run func(ctx context.Context, ins []In) ([]Out, error)

	mu      sync.Mutex
	queued  []groupCall[In, Out]
	running int
}

// groupCall is one call waiting for its group's statement.
type groupCall[In, Out any] struct {
	in   In
	done chan groupResult[Out] // buffered: the group never waits for the caller
}

type groupResult[Out any] struct {
	out Out
	err error
}

const (
	// groupsAtOnce is how many statements of one kind run at the same
	// time, so that one slow statement does not hold all the others up.
	groupsAtOnce = 2
	// groupRows is the most calls one statement takes.
	groupRows = 1000
)

// do runs in's statement in a group and returns its Out. A caller whose ctx
// ends stops waiting; its statement still runs for the others (bounded by
// dbTimeout).
func (g *group[In, Out]) do(ctx context.Context, in In) (Out, error) {
	c := groupCall[In, Out]{in: in, done: make(chan groupResult[Out], 1)}
	g.mu.Lock()
	g.queued = append(g.queued, c)
	start := g.running < groupsAtOnce
	if start {
		g.running++
	}
	g.mu.Unlock()
	if start {
		go g.drain()
	}
	select {
	case r := <-c.done:
		return r.out, r.err
	case <-ctx.Done():
		var zero Out
		return zero, ctx.Err()
	}
}

// drain runs statements until no call is queued.
func (g *group[In, Out]) drain() {
	for {
		g.mu.Lock()
		calls := g.queued
		if len(calls) == 0 {
			g.running--
			g.mu.Unlock()
			return
		}
		if len(calls) > groupRows {
			calls, g.queued = calls[:groupRows], slices.Clone(calls[groupRows:])
		} else {
			g.queued = nil
		}
		g.mu.Unlock()
		g.runGroup(calls)
	}
}

func (g *group[In, Out]) runGroup(calls []groupCall[In, Out]) {
	ins := make([]In, len(calls))
	for i, c := range calls {
		ins[i] = c.in
	}
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	outs, err := g.run(ctx, ins)
	cancel()
	for i, c := range calls {
		if err != nil {
			c.done <- groupResult[Out]{err: err}
		} else {
			c.done <- groupResult[Out]{out: outs[i]}
		}
	}
}
