package mqtt

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// TLSFiles names the PEM files of a TLS connection to the broker.
type TLSFiles struct {
	// CAFile holds the CAs that sign the broker's certificate; empty uses
	// the system's roots.
	CAFile string
	// CertFile and KeyFile are the client certificate and its key, for
	// brokers that authenticate clients by certificate; both or neither.
	CertFile, KeyFile string
	// ServerName is the name checked in the broker's certificate; empty
	// uses the broker URL's host.
	ServerName string
}

// TLSConfig builds a client TLS configuration that always verifies the
// broker's certificate chain and name (TLS 1.2 at least). There is
// deliberately no way to skip verification.
func TLSConfig(f TLSFiles) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: f.ServerName}
	if f.CAFile != "" {
		pem, err := os.ReadFile(f.CAFile)
		if err != nil {
			return nil, fmt.Errorf("mqtt: tls ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("mqtt: tls ca_file %s: no PEM certificate in it", f.CAFile)
		}
		c.RootCAs = pool
	}
	if (f.CertFile == "") != (f.KeyFile == "") {
		return nil, fmt.Errorf("mqtt: tls: cert_file and key_file must be given together")
	}
	if f.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(f.CertFile, f.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("mqtt: tls client certificate: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}
