package mqtttest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// CA is a certificate authority made for one test, with its certificate in
// a PEM file.
type CA struct {
	// CertFile is the CA certificate (PEM).
	CertFile string
	cert     *x509.Certificate
	key      *ecdsa.PrivateKey
	dir      string
	serial   int64
}

// Cert is a certificate and its key, in PEM files.
type Cert struct {
	CertFile, KeyFile string
}

// NewCA makes a CA named name (ECDSA P-256, valid for a day).
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"GateGuard test"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ca := &CA{cert: cert, key: key, dir: dir, serial: 1}
	ca.CertFile = writePEM(t, filepath.Join(dir, "ca.pem"), "CERTIFICATE", der)
	return ca
}

// Server issues a server certificate for 127.0.0.1 and localhost.
func (ca *CA) Server(t testing.TB) Cert {
	t.Helper()
	return ca.issue(t, "localhost", x509.ExtKeyUsageServerAuth, []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)})
}

// Client issues a client certificate whose common name is cn (Mosquitto's
// use_identity_as_username makes it the username).
func (ca *CA) Client(t testing.TB, cn string) Cert {
	t.Helper()
	return ca.issue(t, cn, x509.ExtKeyUsageClientAuth, nil, nil)
}

func (ca *CA) issue(t testing.TB, cn string, usage x509.ExtKeyUsage, dns []string, ips []net.IP) Cert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ca.serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(ca.serial),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		DNSNames:     dns,
		IPAddresses:  ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(ca.dir, fmt.Sprintf("%d", ca.serial))
	return Cert{
		CertFile: writePEM(t, base+".pem", "CERTIFICATE", der),
		KeyFile:  writePEM(t, base+".key", "PRIVATE KEY", kder),
	}
}

func writePEM(t testing.TB, path, typ string, der []byte) string {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TLSListener returns Mosquitto config lines that turn the listener Start
// opens into a TLS listener (and let the broker read the test's files: an
// acl_file given in the same extra config works too) with server certificate srv, trusting client
// certificates from ca; with requireCert, clients must present one, and its
// common name becomes their username.
func TLSListener(ca *CA, srv Cert, requireCert bool) string {
	s := fmt.Sprintf("cafile %s\ncertfile %s\nkeyfile %s\ntls_version tlsv1.2\n", ca.CertFile, srv.CertFile, srv.KeyFile)
	if os.Geteuid() == 0 {
		// Started as root, mosquitto drops to the mosquitto user, which
		// cannot read the test's private temporary folders.
		s += "user root\n"
	}
	if requireCert {
		s += "require_certificate true\nuse_identity_as_username true\n"
	}
	return s
}

// ClientTLS returns a client TLS config trusting ca, presenting cert when
// it is not the zero Cert.
func ClientTLS(t testing.TB, ca *CA, cert Cert) *tls.Config {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	c := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if cert.CertFile != "" {
		kp, err := tls.LoadX509KeyPair(cert.CertFile, cert.KeyFile)
		if err != nil {
			t.Fatal(err)
		}
		c.Certificates = []tls.Certificate{kp}
	}
	return c
}

// Connect connects a paho client with opts (a test client: it fails the
// test when the broker refuses it) and disconnects it when the test ends.
func Connect(t testing.TB, opts *paho.ClientOptions) paho.Client {
	t.Helper()
	c, err := TryConnect(opts)
	if err != nil {
		t.Fatalf("mqtttest: connect: %v", err)
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}

// TryConnect connects a paho client once and returns the broker's or the
// TLS handshake's error.
func TryConnect(opts *paho.ClientOptions) (paho.Client, error) {
	opts.SetAutoReconnect(false).SetConnectRetry(false).SetConnectTimeout(10 * time.Second)
	c := paho.NewClient(opts)
	tok := c.Connect()
	if !tok.WaitTimeout(15 * time.Second) {
		return nil, fmt.Errorf("mqtttest: connect timed out")
	}
	if err := tok.Error(); err != nil {
		return nil, err
	}
	return c, nil
}

// StartConfig starts Mosquitto with a whole config (for testing a shipped
// config file); conf must open a listener on 127.0.0.1:port and log to
// stderr. URL is ssl:// when conf sets a certfile, tcp:// otherwise. The
// broker is stopped when the test ends.
func StartConfig(t testing.TB, port int, conf string) *Broker {
	t.Helper()
	if os.Geteuid() == 0 && !strings.Contains(conf, "\nuser ") {
		conf += "\nuser root\n"
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "mosquitto.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	scheme := "tcp"
	if strings.Contains(conf, "\ncertfile ") {
		scheme = "ssl"
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	b := &Broker{Addr: addr, URL: scheme + "://" + addr, Dir: dir, conf: path, port: port}
	b.start(t)
	t.Cleanup(b.Stop)
	return b
}

// Client returns the subscriber's connected client, e.g. to publish.
func (s *Subscriber) Client() paho.Client { return s.client }
