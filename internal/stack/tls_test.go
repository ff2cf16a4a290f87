package stack_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/internal/stack"
	"github.com/daytradinginc/daytrader/internal/stacktest"
	"github.com/daytradinginc/daytrader/internal/testenv"
	"github.com/daytradinginc/daytrader/temporal"
	"github.com/daytradinginc/daytrader/trading"
	"github.com/daytradinginc/daytrader/workflows"
)

// These tests run the embedded Temporal server as a cluster that serves
// TLS with a self-signed CA (and, for mutual TLS, requires client
// certificates), and reach it the way the commands do: the SDK's
// TEMPORAL_* variables or config file, read by stack.Config.Load.

const tlsNamespace = "daytrader-tls" // not "default": a client must get it from its settings

// startTLSServer starts an embedded Temporal server whose frontend serves
// certs' server certificate; mutual: it also requires a client certificate.
func startTLSServer(t *testing.T, certs *testenv.TLSCerts, mutual bool) *temporal.Server {
	t.Helper()
	opts := &temporal.TLSOptions{CertPEM: certs.ServerCertPEM, KeyPEM: certs.ServerKeyPEM, CAPEM: certs.CAPEM}
	if mutual {
		opts.ClientCAPEM = certs.CAPEM
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := temporal.Start(ctx, temporal.Options{DataDir: t.TempDir(), FrontendAddr: "127.0.0.1:0",
		Namespace: tlsNamespace, TLS: opts})
	if err != nil {
		t.Fatalf("starting Temporal with TLS: %v", err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	return srv
}

// clientEnv is env with the server's address and namespace, and no config
// file (this machine's default file must not count).
func clientEnv(t *testing.T, srv *temporal.Server, env stack.MapEnv) stack.MapEnv {
	e := stack.MapEnv{"TEMPORAL_ADDRESS": srv.FrontendAddr(), "TEMPORAL_NAMESPACE": tlsNamespace,
		"TEMPORAL_CONFIG_FILE": filepath.Join(t.TempDir(), "none.toml")}
	for k, v := range env {
		e[k] = v
	}
	return e
}

// dial loads env as the commands do and dials; it must answer, connected
// or refused, within 20 s (a TLS failure is no hang).
func dial(t *testing.T, env stack.MapEnv) error {
	t.Helper()
	c := stack.Defaults()
	if err := c.Load(env, "TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE"); err != nil {
		t.Fatalf("Load: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	cl, err := stack.Dial(ctx, c, slog.New(slog.DiscardHandler))
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("Dial took %v: it waited instead of failing", took)
	}
	if err == nil {
		_, err = cl.CheckHealth(ctx, nil)
		cl.Close()
	}
	if err != nil {
		t.Logf("refused: %v", err)
	}
	return err
}

// TestTLS: (a) with the CA from TEMPORAL_TLS_SERVER_CA_CERT_PATH a stack
// (worker and client) opens an account and runs a command on a TLS-only
// Temporal; (b) without the CA, or without TLS, the client is refused at
// once with the reason; (d) a profile of a TOML config file chosen with
// TEMPORAL_PROFILE gives the address, the namespace and the CA.
func TestTLS(t *testing.T) {
	certs := testenv.NewTLSCerts(t)
	srv := startTLSServer(t, certs, false)

	t.Run("CA from the variable: a stack runs a command", func(t *testing.T) {
		dev := stacktest.Start(t, stacktest.Options{TemporalEnv: clientEnv(t, srv,
			stack.MapEnv{"TEMPORAL_TLS_SERVER_CA_CERT_PATH": certs.CAFile})})
		if dev.Temporal != nil || dev.Config.TemporalNamespace != tlsNamespace {
			t.Fatalf("the stack embedded Temporal or took namespace %q, want the TLS server's %s", dev.Config.TemporalNamespace, tlsNamespace)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		res, err := workflows.NewAccounts(dev.Client).Execute(ctx,
			trading.Command{TxNum: 1, Name: trading.Add, User: "tlsAlice", Amount: "100.00"})
		if err != nil || !res.OK {
			t.Fatalf("ADD over TLS = %+v, %v; want it applied", res, err)
		}
		if !res.Funds.Valid || res.Funds.Decimal.StringFixed(2) != "100.00" {
			t.Errorf("funds after ADD = %v, want 100.00", res.Funds)
		}
	})
	t.Run("without the CA: refused, unknown authority", func(t *testing.T) {
		err := dial(t, clientEnv(t, srv, stack.MapEnv{"TEMPORAL_TLS": "true"}))
		if err == nil || !strings.Contains(err.Error(), "certificate signed by unknown authority") ||
			!strings.Contains(err.Error(), "TLS on") {
			t.Errorf("Dial = %v, want a refusal naming the unknown authority and the TLS mode", err)
		}
	})
	t.Run("without TLS: refused", func(t *testing.T) {
		err := dial(t, clientEnv(t, srv, nil))
		if err == nil || !strings.Contains(err.Error(), "TLS off") || !strings.Contains(err.Error(), "TEMPORAL_TLS=true") {
			t.Errorf("Dial = %v, want a refusal saying TLS was off and how to turn it on", err)
		}
	})
	t.Run("profile from a config file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "temporal.toml")
		toml := fmt.Sprintf("[profile.default]\naddress = \"127.0.0.1:1\"\n\n[profile.secure]\naddress = %q\nnamespace = %q\n\n"+
			"[profile.secure.tls]\nserver_ca_cert_path = %q\n", srv.FrontendAddr(), tlsNamespace, certs.CAFile)
		if err := os.WriteFile(file, []byte(toml), 0o600); err != nil {
			t.Fatal(err)
		}
		env := stack.MapEnv{"TEMPORAL_CONFIG_FILE": file, "TEMPORAL_PROFILE": "secure"}
		if err := dial(t, env); err != nil {
			t.Errorf("Dial through profile secure: %v", err)
		}
	})
}

// TestMutualTLS: (c) a Temporal that requires client certificates takes
// the client's from TEMPORAL_TLS_CLIENT_CERT_PATH/KEY_PATH and refuses a
// client without one.
func TestMutualTLS(t *testing.T) {
	certs := testenv.NewTLSCerts(t)
	srv := startTLSServer(t, certs, true)
	withCA := stack.MapEnv{"TEMPORAL_TLS_SERVER_CA_CERT_PATH": certs.CAFile}
	if err := dial(t, clientEnv(t, srv, stack.MapEnv{"TEMPORAL_TLS_SERVER_CA_CERT_PATH": certs.CAFile,
		"TEMPORAL_TLS_CLIENT_CERT_PATH": certs.ClientCertFile, "TEMPORAL_TLS_CLIENT_KEY_PATH": certs.ClientKeyFile})); err != nil {
		t.Errorf("Dial with the client certificate: %v", err)
	}
	// Under TLS 1.3 the client finishes its handshake before the server
	// checks for a certificate: the refusal reads "certificate required"
	// or, when the client wrote first, a broken pipe.
	if err := dial(t, clientEnv(t, srv, withCA)); err == nil || !strings.Contains(err.Error(), "failed reaching server") {
		t.Errorf("Dial without a client certificate = %v, want the connection refused", err)
	}
}
