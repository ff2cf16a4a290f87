package web

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/daytradinginc/daytrader/audit"
	"github.com/daytradinginc/daytrader/internal/svgchart"
	"github.com/daytradinginc/daytrader/quotes"
)

// System feeds the administrators' System page. The stack's implementation
// reads the audit store (every worker's records), Temporal (the task
// queue's backlog) and this process's quote cache.
type System interface {
	// Snapshot is the system at now; a part that could not be read says
	// why in its Err field, the others are still shown.
	Snapshot(ctx context.Context, now time.Time) SystemSnapshot
}

// SystemWindow and SystemInterval shape the System page's chart: commands
// per second over the last ten minutes, one point per ten seconds.
const (
	SystemWindow   = 10 * time.Minute
	SystemInterval = 10 * time.Second
)

// SystemSnapshot is what the System page shows at one moment.
type SystemSnapshot struct {
	At time.Time
	// Commands counts the userCommand records per SystemInterval over the
	// SystemWindow before At, oldest first; LegacyHits the quoteServer
	// records (billed legacy hits) of the last minute. From the audit, so
	// every worker's work counts.
	Commands   []audit.Bucket
	LegacyHits int64
	AuditErr   string
	// Backlog is the work Temporal holds for the task queue that no worker
	// has taken yet: account batches (workflow tasks) and audit writes
	// (activity tasks).
	Backlog    []Backlog
	BacklogErr string
	// QuoteCache is this process's quote cache; nil when it runs no worker.
	QuoteCache *quotes.CacheStats
	// Errors are the newest errorEvents of every account.
	Errors    []audit.StoredEvent
	ErrorsErr string
}

// Backlog is one kind of task waiting in the task queue.
type Backlog struct {
	Queue  string        // "" for the bulk task queue, InteractiveQueue for the traders'
	Kind   string        // "workflow" or "activity"
	Tasks  int64         // Temporal's approximate count
	Oldest time.Duration // how long the oldest has waited; 0 when none
}

// CommandsPerSecond is the rate of audited commands over the snapshot's
// last minute (its last six intervals).
func (s SystemSnapshot) CommandsPerSecond() float64 {
	n := int(time.Minute / SystemInterval)
	if len(s.Commands) < n {
		return 0
	}
	var sum int64
	for _, b := range s.Commands[len(s.Commands)-n:] {
		sum += b.Count
	}
	return float64(sum) / time.Minute.Seconds()
}

// systemEvery is how often the System page's stream sends a fresh view
// when Config.SystemEvery is 0.
const systemEvery = 5 * time.Second

// systemPage is the administrators' System page; it follows the system
// live over systemEvents.
func (s *Server) systemPage(w http.ResponseWriter, r *http.Request) {
	s.renderPage(w, r, http.StatusOK, systemView(s.page(r, "System", "system"), s.snapshot(r.Context())))
}

// snapshot asks System, bounded in time so a slow dependency cannot hold a
// page or a stream.
func (s *Server) snapshot(ctx context.Context) *SystemSnapshot {
	if s.cfg.System == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	snap := s.cfg.System.Snapshot(ctx, time.Now())
	return &snap
}

// systemEvents streams the System page's live part: an "system" event with
// the part's fresh HTML every SystemEvery, which the page swaps in.
func (s *Server) systemEvents(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r.Context())
	rc := s.startStream(w, r)
	defer s.metrics.sseClient("system")()
	every := s.cfg.SystemEvery
	if every <= 0 {
		every = systemEvery
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	ctx, end := s.streamContext(r, sess)
	defer end()
	if _, err := io.WriteString(w, "retry: 5000\n\n"); err != nil || rc.Flush() != nil {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := s.sendSystem(ctx, w, rc); err != nil {
			return
		}
	}
}

// sendSystem writes one "system" event: the live part's HTML, one data
// line per line of it.
func (s *Server) sendSystem(ctx context.Context, w io.Writer, rc *http.ResponseController) error {
	var html bytes.Buffer
	if err := systemLive(s.snapshot(ctx)).Render(ctx, &html); err != nil {
		return err
	}
	var msg strings.Builder
	msg.WriteString("event: system\n")
	for line := range strings.Lines(html.String()) {
		fmt.Fprintf(&msg, "data: %s\n", strings.TrimRight(line, "\r\n"))
	}
	msg.WriteString("\n")
	if _, err := io.WriteString(w, msg.String()); err != nil {
		return err
	}
	return rc.Flush()
}

// hitRate is the quote cache's share of requests answered from the cache,
// or "—" without a cache or requests.
func hitRate(snap *SystemSnapshot) string {
	c := snap.QuoteCache
	if c == nil || c.Hits+c.Misses == 0 {
		return "—"
	}
	return strconv.FormatFloat(100*float64(c.Hits)/float64(c.Hits+c.Misses), 'f', 1, 64) + " %"
}

func backlogTasks(snap *SystemSnapshot) int64 {
	var n int64
	for _, b := range snap.Backlog {
		n += b.Tasks
	}
	return n
}

// backlogText says what one kind of waiting task is and how long the
// oldest has waited.
// InteractiveQueue is Backlog.Queue for the traders' task queue.
const InteractiveQueue = "interactive"

func backlogText(b Backlog) string {
	what := map[string]string{"workflow": "account batches", "activity": "audit writes"}[b.Kind]
	if what == "" {
		what = b.Kind + " tasks"
	}
	if b.Queue == InteractiveQueue {
		what = "traders' " + what
	}
	if b.Tasks == 0 {
		return fmt.Sprintf("%s: none", what)
	}
	return fmt.Sprintf("%s: %d, oldest %s", what, b.Tasks, b.Oldest.Round(100*time.Millisecond))
}

// backlogID names a backlog line for tests and styles: its kind, prefixed
// with its queue unless it is the bulk one.
func backlogID(b Backlog) string {
	if b.Queue == "" {
		return b.Kind
	}
	return b.Queue + "-" + b.Kind
}

// commandPoints are the chart's points: commands per second in each
// interval, at the interval's end.
func commandPoints(snap *SystemSnapshot) []svgchart.Point {
	var pts []svgchart.Point
	for _, b := range snap.Commands {
		perSecond := decimal.NewFromInt(b.Count).Div(decimal.NewFromFloat(SystemInterval.Seconds()))
		pts = append(pts, svgchart.Point{T: b.Start.Add(SystemInterval), V: perSecond.Round(1)})
	}
	return pts
}
