package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TLSCerts are a self-signed test CA and two certificates it signed: the
// server's, for 127.0.0.1 and localhost (valid for client authentication
// too, as a Temporal server's own system worker presents it under mutual
// TLS), and a client's. Each PEM is also written to a file in a temporary
// directory, for settings that take paths.
type TLSCerts struct {
	CAPEM, ServerCertPEM, ServerKeyPEM, ClientCertPEM, ClientKeyPEM      []byte
	CAFile, ServerCertFile, ServerKeyFile, ClientCertFile, ClientKeyFile string
}

// NewTLSCerts makes a fresh CA and certificates, valid for one hour.
func NewTLSCerts(t testing.TB) *TLSCerts {
	t.Helper()
	caKey := newKey(t)
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "daytrader test CA"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caPEM := sign(t, ca, ca, caKey, caKey)
	leaf := func(serial int64, name string, usage ...x509.ExtKeyUsage) *x509.Certificate {
		return &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: ca.NotBefore, NotAfter: ca.NotAfter,
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: usage,
		}
	}
	server := leaf(2, "localhost", x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth)
	server.DNSNames, server.IPAddresses = []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)}
	serverKey, clientKey := newKey(t), newKey(t)
	c := &TLSCerts{
		CAPEM:         caPEM,
		ServerCertPEM: sign(t, server, ca, serverKey, caKey),
		ServerKeyPEM:  keyPEM(t, serverKey),
		ClientCertPEM: sign(t, leaf(3, "daytrader test client", x509.ExtKeyUsageClientAuth), ca, clientKey, caKey),
		ClientKeyPEM:  keyPEM(t, clientKey),
	}
	dir := t.TempDir()
	c.CAFile = writeFile(t, dir, "ca.pem", c.CAPEM)
	c.ServerCertFile = writeFile(t, dir, "server.pem", c.ServerCertPEM)
	c.ServerKeyFile = writeFile(t, dir, "server-key.pem", c.ServerKeyPEM)
	c.ClientCertFile = writeFile(t, dir, "client.pem", c.ClientCertPEM)
	c.ClientKeyFile = writeFile(t, dir, "client-key.pem", c.ClientKeyPEM)
	return c
}

// ClientConfig is a TLS client configuration that trusts only the test
// CA, for gRPC connections a test opens itself (credentials.NewTLS).
func (c *TLSCerts) ClientConfig() *tls.Config {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.CAPEM)
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// sign is cert signed by parent's key, as PEM.
func sign(t testing.TB, cert, parent *x509.Certificate, key, parentKey *ecdsa.PrivateKey) []byte {
	der, err := x509.CreateCertificate(rand.Reader, cert, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func keyPEM(t testing.TB, key *ecdsa.PrivateKey) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
