package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/gate/central/broker"
)

// centralUser is gatewatch's own account on its embedded broker; its
// password is made afresh at every start and never leaves the process.
const centralUser = "gatewatch"

// embedded is a running embedded broker as run.go uses it.
type embedded struct {
	// URL is where gatewatch itself connects: the listener, on loopback.
	URL                string
	Username, Password string
	// TLS, for a TLS listener, trusts the broker's own certificate.
	TLS  *tls.Config
	Stop func()
}

// startBroker starts the embedded broker when broker.enabled; (nil, nil)
// otherwise. Until Stop (or ctx's end), SIGHUP re-reads the config file's
// gate list and applies it without a restart (a gate added with gate add
// can connect; one removed is refused).
func startBroker(ctx context.Context, c *configs.Gatewatch, log *slog.Logger) (*embedded, error) {
	if !c.Broker.Enabled {
		return nil, nil
	}
	o, err := brokerOptions(c, log)
	if err != nil {
		return nil, err
	}
	b, err := broker.Start(o)
	if err != nil {
		return nil, fmt.Errorf("gatewatch: broker: %w", err)
	}
	e := &embedded{URL: loopbackURL(b.URL()), Username: o.CentralUser, Password: o.CentralPassword}
	if o.TLS != nil {
		if e.TLS, err = trustOwn(o.TLS); err != nil {
			_ = b.Close()
			return nil, err
		}
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	wctx, stopWatch := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-wctx.Done():
				return
			case <-hup:
				reloadGates(c.Path, b, log)
			}
		}
	})
	e.Stop = func() {
		stopWatch()
		wg.Wait()
		_ = b.Close()
	}
	log.Info("embedded broker listening", "mqtt", b.URL(), "gates", len(o.Gates), "store", o.StoreDir)
	return e, nil
}

// reloadGates applies the gate list of the config file at path to b.
func reloadGates(path string, b *broker.Broker, log *slog.Logger) {
	if path == "" {
		log.Warn("SIGHUP: no config file to re-read the gate list from")
		return
	}
	c, err := configs.LoadGatewatch(path)
	if err == nil {
		err = b.SetGates(brokerGates(c))
	}
	if err != nil {
		log.Error("SIGHUP: gate list not reloaded; the previous one stays", "config", path, "err", err)
		return
	}
	log.Info("SIGHUP: gate list reloaded", "config", path, "gates", len(c.Gates))
}

// brokerGates returns the config's gate list as the broker takes it.
func brokerGates(c *configs.Gatewatch) []broker.Gate {
	var gates []broker.Gate
	for _, g := range c.Gates {
		site := c.GateSite(g)
		gates = append(gates, broker.Gate{Site: site, Gate: g.Name, Username: site + "/" + g.Name, PasswordHash: g.PasswordHash})
	}
	return gates
}

// brokerOptions turns the config into the embedded broker's options.
func brokerOptions(c *configs.Gatewatch, log *slog.Logger) (broker.Options, error) {
	pw, err := randomSecret()
	if err != nil {
		return broker.Options{}, err
	}
	o := broker.Options{ServerName: c.BrokerServerName(), StoreDir: c.BrokerStoreDir(), MQTTAddr: c.BrokerListen(),
		Prefix: c.MQTT.Prefix, CentralUser: centralUser, CentralPassword: pw, Log: log}
	o.Gates = brokerGates(c)
	if t := c.Broker.TLS; t.Enabled() {
		if o.TLS, err = broker.ServerTLS(t.CertFile, t.KeyFile, t.ClientCAFile); err != nil {
			return o, fmt.Errorf("gatewatch: broker.tls: %w", err)
		}
	}
	return o, nil
}

// loopbackURL replaces a listener's unspecified address (0.0.0.0, ::) by
// the loopback one, where gatewatch itself connects.
func loopbackURL(u string) string {
	scheme, hostPort, _ := strings.Cut(u, "://")
	h, p, err := net.SplitHostPort(hostPort)
	if err != nil {
		return u
	}
	if ip := net.ParseIP(h); ip == nil || ip.IsUnspecified() {
		h = "127.0.0.1"
	}
	return scheme + "://" + net.JoinHostPort(h, p)
}

// trustOwn returns a client TLS config for gatewatch connecting to its own
// broker over loopback: it trusts exactly the broker's certificate, checked
// against the name in it. With broker.tls.client_ca_file, gatewatch also
// needs a client certificate of that CA: mqtt.tls.cert_file and key_file.
func trustOwn(server *tls.Config) (*tls.Config, error) {
	if len(server.Certificates) == 0 || len(server.Certificates[0].Certificate) == 0 {
		return nil, errors.New("gatewatch: broker.tls: no certificate")
	}
	leaf, err := x509.ParseCertificate(server.Certificates[0].Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("gatewatch: broker.tls: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	c := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}
	switch {
	case len(leaf.DNSNames) > 0:
		c.ServerName = leaf.DNSNames[0]
	case len(leaf.IPAddresses) > 0:
		c.ServerName = leaf.IPAddresses[0].String()
	default:
		return nil, errors.New("gatewatch: broker.tls: the certificate names no host (subjectAltName)")
	}
	return c, nil
}

// randomSecret returns 32 random bytes in base64url.
func randomSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("gatewatch: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
