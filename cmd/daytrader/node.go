package main

import (
	"context"
	"flag"
	"fmt"
	"slices"

	"github.com/daytradinginc/daytrader/internal/stack"
)

// temporalNodeSpec is `daytrader temporal-node`: one node of a multi-node
// Temporal cluster, for trying a cluster on one machine and for the node
// kill test (internal/chaos). Production clusters run Temporal's own server
// images or Helm chart; see the README's At scale section.
func temporalNodeSpec() *spec {
	return &spec{name: "temporal-node",
		summary: "one node of a multi-node Temporal cluster on PostgreSQL (start one, then the others)",
		about: "Runs all four Temporal services as one node of a cluster whose nodes share DATABASE_URL's server:\n" +
			"Temporal's state in NAME_cluster and NAME_cluster_visibility beside DATABASE_URL's NAME (created\n" +
			"by the first node), membership through those databases (ringpop, no list of hosts). Each node needs\n" +
			"its own TEMPORAL_FRONTEND_ADDR, DATA_DIR and, when on, TEMPORAL_HTTP_ADDR and TEMPORAL_UI_ADDR;\n" +
			"clients dial every node with TEMPORAL_FRONTENDS, whose first address the cluster records as its own.\n" +
			"With TEMPORAL_FRONTEND_TLS_CERT_PATH, _KEY_PATH and _CA_PATH (and TEMPORAL_UI_ADDR= TEMPORAL_HTTP_ADDR=)\n" +
			"the frontend serves only TLS; clients then set the SDK's TEMPORAL_TLS_SERVER_CA_CERT_PATH. The nodes'\n" +
			"services then talk to each other (the internal ports, on 127.0.0.1) over mutual TLS with the same\n" +
			"certificate, which must also be valid for 127.0.0.1 and for client authentication, and CA.",
		settings: slices.Concat([]string{"TEMPORAL_FRONTEND_ADDR", "TEMPORAL_HTTP_ADDR", "TEMPORAL_UI_ADDR", "TEMPORAL_FRONTENDS",
			"TEMPORAL_NAMESPACE", "DATABASE_URL", "DATA_DIR", "LOG_LEVEL", "LOG_FORMAT"}, nodeOnlySettings()),
		flags: temporalNodeFlags}
}

// nodeOnlySettings are read by temporal-node alone: `dev` runs its
// embedded server without TLS (its UI and HTTP API are on), so it does
// not take them.
func nodeOnlySettings() []string {
	return []string{"TEMPORAL_FRONTEND_TLS_CERT_PATH", "TEMPORAL_FRONTEND_TLS_KEY_PATH", "TEMPORAL_FRONTEND_TLS_CA_PATH"}
}

func temporalNodeFlags(fs *flag.FlagSet) runFunc {
	portBase := fs.Int("internal-ports", 0,
		"required: the first of 7 consecutive ports on 127.0.0.1, at most 32761, for what clients never dial "+
			"(history, matching and worker gRPC, then the membership ports of frontend, history, matching and worker)")
	return func(ctx context.Context, cfg stack.Config, _ []string) error {
		return runTemporalNode(ctx, cfg, *portBase)
	}
}

func runTemporalNode(ctx context.Context, cfg stack.Config, portBase int) error {
	logger := cfg.Logger()
	srv, err := stack.StartTemporalNode(ctx, cfg, portBase, logger)
	if err != nil {
		return fmt.Errorf("temporal node: %w", err)
	}
	defer srv.Stop()
	tls := "off"
	if cfg.FrontendTLSCert != "" { // StartTemporalNode refused half a TLS setting
		tls = "on"
	}
	logger.Info("Temporal node running", "frontend", srv.FrontendAddr(), "tls", tls, "http_api", srv.HTTPURL(), "ui", srv.UIURL(),
		"namespace", srv.Namespace(), "data_dir", cfg.DataDir)
	<-ctx.Done()
	logger.Info("stopping the Temporal node")
	return nil
}
