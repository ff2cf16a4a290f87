package temporal

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"

	"go.temporal.io/server/common/config"
)

// TLSOptions make the frontend serve gRPC over TLS, as a real cluster or
// Temporal Cloud does, through the server's own TLS settings
// (config.RootTLS). On a cluster node (Options.Cluster) the services'
// gRPC between the nodes (history, matching, worker: Temporal's
// "internode") is mutual TLS too, with the same certificate and CA; a
// single node's services talk inside its process over loopback and stay
// plaintext. Membership (ringpop) is not Temporal's to encrypt.
type TLSOptions struct {
	// CertPEM and KeyPEM are the frontend's certificate (with its chain)
	// and private key. The certificate must name the frontend's host.
	CertPEM, KeyPEM []byte
	// CAPEM is the CA that signed CertPEM: the server's own clients (its
	// system worker, Start's readiness check) verify the frontend with it.
	CAPEM []byte
	// ClientCAPEM, when set, makes the frontend require a client
	// certificate signed by it (mutual TLS). The server's own clients then
	// present CertPEM, which must also be valid for client authentication.
	ClientCAPEM []byte
}

func (o *TLSOptions) check() error {
	if len(o.CertPEM) == 0 || len(o.KeyPEM) == 0 || len(o.CAPEM) == 0 {
		return errors.New("temporal: Options.TLS needs CertPEM, KeyPEM and CAPEM")
	}
	if _, err := tls.X509KeyPair(o.CertPEM, o.KeyPEM); err != nil {
		return fmt.Errorf("temporal: Options.TLS certificate: %w", err)
	}
	if !x509.NewCertPool().AppendCertsFromPEM(o.CAPEM) {
		return errors.New("temporal: Options.TLS CAPEM holds no PEM certificate")
	}
	if len(o.ClientCAPEM) > 0 && !x509.NewCertPool().AppendCertsFromPEM(o.ClientCAPEM) {
		return errors.New("temporal: Options.TLS ClientCAPEM holds no PEM certificate")
	}
	return nil
}

// rootTLS is the server's TLS configuration: the frontend's listener, the
// system worker's connection to it (the server dials PublicClient's
// address with SystemWorker's settings) and, with internode, the services'
// listeners and connections between the nodes: each node presents its
// certificate and requires one signed by the CA (the dialled address is
// checked against the certificate, 127.0.0.1 for temporal-node). The
// server takes PEM as base64.
func (o *TLSOptions) rootTLS(frontendHost string, internode bool) config.RootTLS {
	b64 := base64.StdEncoding.EncodeToString
	var root config.RootTLS
	root.Frontend.Server = config.ServerTLS{CertData: b64(o.CertPEM), KeyData: b64(o.KeyPEM)}
	if len(o.ClientCAPEM) > 0 {
		root.Frontend.Server.RequireClientAuth = true
		root.Frontend.Server.ClientCAData = []string{b64(o.ClientCAPEM)}
	}
	root.SystemWorker = config.WorkerTLS{CertData: b64(o.CertPEM), KeyData: b64(o.KeyPEM),
		Client: config.ClientTLS{ServerName: frontendHost, RootCAData: []string{b64(o.CAPEM)}}}
	if internode {
		root.Internode.Server = config.ServerTLS{CertData: b64(o.CertPEM), KeyData: b64(o.KeyPEM),
			RequireClientAuth: true, ClientCAData: []string{b64(o.CAPEM)}}
		root.Internode.Client = config.ClientTLS{RootCAData: []string{b64(o.CAPEM)}}
	}
	return root
}

// clientConfig is what Start's readiness check dials the frontend with.
func (o *TLSOptions) clientConfig(frontendHost string) (*tls.Config, error) {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(o.CAPEM)
	conf := &tls.Config{RootCAs: pool, ServerName: frontendHost, MinVersion: tls.VersionTLS12}
	if len(o.ClientCAPEM) > 0 {
		cert, err := tls.X509KeyPair(o.CertPEM, o.KeyPEM)
		if err != nil {
			return nil, err
		}
		conf.Certificates = []tls.Certificate{cert}
	}
	return conf, nil
}
