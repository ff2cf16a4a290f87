// Package health serves liveness and readiness: /healthz says the process
// is up and serving HTTP (no dependency is asked, so a database outage never
// gets a live process restarted), /readyz asks each dependency (Postgres,
// Temporal) whether it is reachable now and answers 503 while one is not, so
// a load balancer sends no traffic to an instance that cannot serve it.
package health

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
)

// Timeout bounds each dependency's check: a hung dependency is "down", and
// the answer comes in time for a prober's own timeout.
const Timeout = 2 * time.Second

// Check asks one dependency whether it is reachable.
type Check struct {
	Name  string
	Probe func(ctx context.Context) error
}

// Postgres pings the pool (a connection is taken or made, then a round trip).
func Postgres(pool *pgxpool.Pool) Check {
	return Check{Name: "postgres", Probe: func(ctx context.Context) error {
		if pool == nil {
			return errors.New("no database configured")
		}
		return pool.Ping(ctx)
	}}
}

// Temporal asks the frontend's gRPC health service.
func Temporal(cl client.Client) Check {
	return Check{Name: "temporal", Probe: func(ctx context.Context) error {
		if cl == nil {
			return errors.New("no Temporal client")
		}
		_, err := cl.CheckHealth(ctx, &client.CheckHealthRequest{})
		return err
	}}
}

// Status is one dependency's part of the /readyz answer.
type Status struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	Ms    int64  `json:"ms"` // how long the check took
}

// Report is the /readyz answer.
type Report struct {
	Ready  bool              `json:"ready"`
	Checks map[string]Status `json:"checks"`
}

// Live answers 200 "ok" while the process serves HTTP.
func Live(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	io.WriteString(w, "ok\n")
}

// Ready runs every check at once, each within Timeout, and answers 200 with
// the report when all pass, 503 otherwise. onDown is told about each failed
// check (for a log line, with the request's context), possibly from several
// goroutines at once; it may be nil.
func Ready(onDown func(ctx context.Context, name string, err error), checks ...Check) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rep := Run(r.Context(), onDown, checks...)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if !rep.Ready {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(rep)
	}
}

// Run runs the checks concurrently and reports them all.
func Run(ctx context.Context, onDown func(context.Context, string, error), checks ...Check) Report {
	rep := Report{Ready: true, Checks: make(map[string]Status, len(checks))}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range checks {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, Timeout)
			defer cancel()
			start := time.Now()
			err := c.Probe(cctx)
			st := Status{OK: err == nil, Ms: time.Since(start).Milliseconds()}
			if err != nil {
				st.Error = err.Error()
				if onDown != nil {
					onDown(ctx, c.Name, err)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			rep.Checks[c.Name] = st
			rep.Ready = rep.Ready && st.OK
		})
	}
	wg.Wait()
	return rep
}
