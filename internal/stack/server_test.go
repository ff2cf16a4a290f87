//go:build !starter

package stack

import (
	"bytes"
	"strings"
	"testing"

	"github.com/daytradinginc/daytrader/internal/testenv"
	"github.com/daytradinginc/daytrader/temporal"
)

// VisibilitySuffix is said twice so that the starter binary builds without
// the server: the two must name the same database.
func TestVisibilitySuffix(t *testing.T) {
	if VisibilitySuffix != temporal.VisibilitySuffix {
		t.Errorf("stack.VisibilitySuffix = %q, temporal.VisibilitySuffix = %q: the embedded runs would drop another database than Temporal made",
			VisibilitySuffix, temporal.VisibilitySuffix)
	}
}

// TestTemporalNodeTLSSettings: a node's frontend serves TLS with the files
// of the three TEMPORAL_FRONTEND_TLS_* settings, all or none, and only with
// the web UI and HTTP API off; anything else stops the node, saying what
// to set (the chaos test TestClusterNodeKill/tls runs such nodes).
func TestTemporalNodeTLSSettings(t *testing.T) {
	certs := testenv.NewTLSCerts(t)
	full := env{"TEMPORAL_FRONTEND_TLS_CERT_PATH": certs.ServerCertFile, "TEMPORAL_FRONTEND_TLS_KEY_PATH": certs.ServerKeyFile,
		"TEMPORAL_FRONTEND_TLS_CA_PATH": certs.CAFile, "TEMPORAL_UI_ADDR": "", "TEMPORAL_HTTP_ADDR": ""}
	with := func(k, v string) env {
		e := env{}
		for name, value := range full {
			e[name] = value
		}
		if e[k] = v; v == "unset" {
			delete(e, k)
		}
		return e
	}
	for _, tc := range []struct {
		name    string
		env     env
		wantErr string // "": TLS on, with certs' files
	}{
		{"all three, UI and HTTP API off", full, ""},
		{"no key", with("TEMPORAL_FRONTEND_TLS_KEY_PATH", "unset"), "TEMPORAL_FRONTEND_TLS_KEY_PATH not set"},
		{"the UI on", with("TEMPORAL_UI_ADDR", "127.0.0.1:0"), "set TEMPORAL_UI_ADDR= and TEMPORAL_HTTP_ADDR="},
		{"the HTTP API on", with("TEMPORAL_HTTP_ADDR", "127.0.0.1:0"), "set TEMPORAL_UI_ADDR= and TEMPORAL_HTTP_ADDR="},
		{"a CA file that is not there", with("TEMPORAL_FRONTEND_TLS_CA_PATH", certs.CAFile+".gone"),
			"TEMPORAL_FRONTEND_TLS_CA_PATH: open"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Defaults()
			if err := c.LoadEnv(tc.env.lookup, "TEMPORAL_FRONTEND_TLS_CERT_PATH", "TEMPORAL_FRONTEND_TLS_KEY_PATH",
				"TEMPORAL_FRONTEND_TLS_CA_PATH", "TEMPORAL_UI_ADDR", "TEMPORAL_HTTP_ADDR"); err != nil {
				t.Fatal(err)
			}
			opts, err := frontendTLS(c)
			switch {
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("frontendTLS = %v, want an error saying %q", err, tc.wantErr)
			case tc.wantErr == "" && (err != nil || opts == nil || !bytes.Equal(opts.CertPEM, certs.ServerCertPEM) ||
				!bytes.Equal(opts.KeyPEM, certs.ServerKeyPEM) || !bytes.Equal(opts.CAPEM, certs.CAPEM)):
				t.Errorf("frontendTLS = %+v, %v; want the server certificate, its key and the CA", opts, err)
			}
		})
	}
	if opts, err := frontendTLS(Defaults()); opts != nil || err != nil {
		t.Errorf("frontendTLS of the defaults = %+v, %v; want plaintext", opts, err)
	}
}
