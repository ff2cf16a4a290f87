//go:build !starter

package stack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/daytradinginc/daytrader/temporal"
)

// The embedded Temporal server, in its own file so that the starter binary
// (build tag starter, noserver.go) builds without go.temporal.io/server:
// importing the server alone costs a process about 75 MiB of memory.

// CanRunTemporal is nil: this binary has the embedded server.
func CanRunTemporal() error { return nil }

// StartTemporal starts the embedded Temporal dev server with its web UI
// and HTTP API (each off when its address is empty).
func StartTemporal(ctx context.Context, c Config, logger *slog.Logger) (TemporalServer, error) {
	opts := temporal.Options{
		DataDir: filepath.Join(c.DataDir, "temporal"), Namespace: c.TemporalNamespace,
		FrontendAddr: c.EmbeddedFrontend, UIAddr: c.TemporalUIAddr, HTTPAddr: c.TemporalHTTPAddr, Logger: logger,
	}
	if c.TemporalPersistence == PersistencePostgres {
		var err error
		if opts.PostgresURL, err = TemporalDatabaseURL(c.DatabaseURL); err != nil {
			return nil, err
		}
	}
	return startServer(ctx, opts)
}

// StartTemporalNode starts one node of a multi-node Temporal cluster: all
// four services, the frontend at TEMPORAL_FRONTEND_ADDR (with the HTTP API
// and the UI when their addresses are set), persistence and membership in
// ClusterDatabaseURL's databases. The cluster's address is the first of
// TEMPORAL_FRONTENDS, or this node's frontend. Each node needs a DATA_DIR
// of its own (it holds the node's lock).
func StartTemporalNode(ctx context.Context, c Config, internalPortBase int, logger *slog.Logger) (TemporalServer, error) {
	pgURL, err := ClusterDatabaseURL(c.DatabaseURL)
	if err != nil {
		return nil, err
	}
	tlsOpts, err := frontendTLS(c)
	if err != nil {
		return nil, err
	}
	cluster := &temporal.ClusterOptions{InternalPortBase: internalPortBase}
	if len(c.TemporalFrontends) > 0 {
		cluster.Address = c.TemporalFrontends[0]
	}
	return startServer(ctx, temporal.Options{
		DataDir: filepath.Join(c.DataDir, "temporal-node"), Namespace: c.TemporalNamespace,
		FrontendAddr: c.EmbeddedFrontend, UIAddr: c.TemporalUIAddr, HTTPAddr: c.TemporalHTTPAddr,
		Logger: logger, PostgresURL: pgURL, Cluster: cluster, TLS: tlsOpts,
	})
}

// frontendTLS is what a node's frontend serves TLS with, read from the
// TEMPORAL_FRONTEND_TLS_* files; nil when none is set. The same
// certificate and CA make the services' gRPC between the nodes (history,
// matching, worker on the internal ports) mutual TLS (temporal.TLSOptions);
// ringpop's membership traffic is not Temporal's to encrypt. Half a
// setting, or the web UI or HTTP API on beside it, stops the node rather
// than serve anything unencrypted that was meant to be encrypted.
func frontendTLS(c Config) (*temporal.TLSOptions, error) {
	files := [][2]string{{"TEMPORAL_FRONTEND_TLS_CERT_PATH", c.FrontendTLSCert},
		{"TEMPORAL_FRONTEND_TLS_KEY_PATH", c.FrontendTLSKey}, {"TEMPORAL_FRONTEND_TLS_CA_PATH", c.FrontendTLSCA}}
	var missing []string
	for _, f := range files {
		if f[1] == "" {
			missing = append(missing, f[0])
		}
	}
	switch {
	case len(missing) == len(files):
		return nil, nil
	case len(missing) > 0:
		return nil, fmt.Errorf("the frontend's TLS needs TEMPORAL_FRONTEND_TLS_CERT_PATH, _KEY_PATH and _CA_PATH; %s not set",
			strings.Join(missing, " and "))
	case c.TemporalUIAddr != "" || c.TemporalHTTPAddr != "":
		return nil, errors.New("with TEMPORAL_FRONTEND_TLS_* only the gRPC frontend serves TLS: " +
			"set TEMPORAL_UI_ADDR= and TEMPORAL_HTTP_ADDR= (the web UI and the HTTP API would be plaintext)")
	}
	pem := make([][]byte, len(files))
	for i, f := range files {
		var err error
		if pem[i], err = os.ReadFile(f[1]); err != nil {
			return nil, fmt.Errorf("%s: %w", f[0], err)
		}
	}
	return &temporal.TLSOptions{CertPEM: pem[0], KeyPEM: pem[1], CAPEM: pem[2]}, nil
}

// startServer is temporal.Start without the typed nil a failed start would
// put into a TemporalServer.
func startServer(ctx context.Context, opts temporal.Options) (TemporalServer, error) {
	s, err := temporal.Start(ctx, opts)
	if err != nil {
		return nil, err
	}
	return s, nil
}
