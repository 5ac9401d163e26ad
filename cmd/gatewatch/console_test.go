package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/gate/central/console"
	"github.com/gateguard/gateguard/gate/central/store/sqlite"
	"github.com/gateguard/gateguard/gate/mqtt/mqtttest"
)

// selfSigned writes a certificate and key for 127.0.0.1 into dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "gatewatch"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	writeFile(t, certFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	writeFile(t, keyFile, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})))
	c, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(c)
	return certFile, keyFile, pool
}

// TestConsoleOverTLS: with console.tls gatewatch serves the console and the
// API over HTTPS only, and the session cookie is Secure.
func TestConsoleOverTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key, pool := selfSigned(t, dir)
	t.Setenv("GW_E2E_TOKEN", testToken)
	yaml := fmt.Sprintf("site: e2e\ndata_dir: %s\nmqtt: {brokers: ['tcp://127.0.0.1:%d']}\napi: {listen: '127.0.0.1:0', token_env: GW_E2E_TOKEN}\n"+
		"console: {tls: {cert_file: %s, key_file: %s}}\n", filepath.Join(dir, "data"), mqtttest.FreePort(t), cert, key)
	c, err := configs.ParseGatewatch([]byte(yaml), "e2e.yaml")
	if err != nil {
		t.Fatal(err)
	}
	addFirstAdmin(t, c)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ready := make(chan string, 1)
	done := make(chan error, 1)
	var logs bytes.Buffer
	go func() { done <- serve(ctx, c, slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, nil)), ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	}
	defer func() { cancel(); <-done }()

	if r, err := http.Get("http://" + addr + "/login"); err == nil {
		r.Body.Close()
		if r.StatusCode < 400 {
			t.Fatalf("plain HTTP answered %d: the console must be HTTPS only", r.StatusCode)
		}
	}
	cl := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	loginOverTLS(t, cl, addr, &logs)
	req, _ := http.NewRequest("GET", "https://"+addr+"/api/events", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	r2, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != 200 || !strings.HasPrefix(consoleURL(c, addr), "https://") {
		t.Fatalf("API over TLS: %d", r2.StatusCode)
	}
}

// addFirstAdmin adds the admin ada to c's console, as `gatewatch user add`
// makes the first admin.
func addFirstAdmin(t *testing.T, c *configs.Gatewatch) {
	t.Helper()
	st, err := sqlite.Open(t.Context(), c.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	db, err := consoleDB(t.Context(), st)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.AddUser(t.Context(), "ada", "a long enough password", console.RoleAdmin, "en"); err != nil {
		t.Fatal(err)
	}
	st.Close()
}

// loginOverTLS logs ada in over HTTPS and fails the test unless the console
// answers with a redirect and a Secure HttpOnly session cookie.
func loginOverTLS(t *testing.T, cl *http.Client, addr string, logs *bytes.Buffer) {
	t.Helper()
	resp, err := cl.PostForm("https://"+addr+"/login", url.Values{"username": {"ada"}, "password": {"a long enough password"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var secure bool
	for _, ck := range resp.Cookies() {
		if ck.Name == console.CookieName {
			secure = ck.Secure && ck.HttpOnly
		}
	}
	if resp.StatusCode != http.StatusSeeOther || !secure {
		t.Fatalf("login over TLS: status %d, Secure HttpOnly cookie %v; log:\n%s", resp.StatusCode, secure, logs.String())
	}
}
