package configs

import (
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
)

// GatewatchBroker is the embedded broker: the NATS server run inside
// gatewatch, with an MQTT listener for the gates and a JetStream file store,
// so that a small site needs no other server.
type GatewatchBroker struct {
	// Enabled runs the embedded broker inside gatewatch.
	Enabled bool `yaml:"enabled"`
	// Listen is host:port of the MQTT listener the gates connect to
	// (default 0.0.0.0:1883, or 0.0.0.0:8883 with TLS); port 0 picks a free
	// one (tests).
	Listen string `yaml:"listen"`
	// ServerName names the server in the JetStream store (default
	// gatewatch-<site>). Changing it orphans the stored sessions.
	ServerName string `yaml:"server_name"`
	// StoreDir is the JetStream file store: queued messages and sessions
	// (default <data_dir>/broker).
	StoreDir string `yaml:"store_dir"`
	// TLS makes the listener TLS only (ssl://).
	TLS GatewatchBrokerTLS `yaml:"tls"`
}

// GatewatchBrokerTLS is the embedded broker's TLS listener.
type GatewatchBrokerTLS struct {
	// CertFile and KeyFile are the broker's certificate and key (PEM).
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ClientCAFile, when set, also requires a client certificate from
	// this CA; the gates still need their passwords.
	ClientCAFile string `yaml:"client_ca_file"`
}

// Enabled reports whether the listener is TLS.
func (t GatewatchBrokerTLS) Enabled() bool { return t.CertFile != "" || t.KeyFile != "" }

// GatewatchGate is one gate the embedded broker admits; `gatewatch gate
// add` writes these.
type GatewatchGate struct {
	// Name is the gate's name (its config's gate).
	Name string `yaml:"name"`
	// Site is the gate's site; empty means gatewatch's site.
	Site string `yaml:"site"`
	// PasswordHash is the bcrypt hash of the gate's broker password
	// ($2a$…); the password itself is printed once, by gate add.
	PasswordHash string `yaml:"password_hash"`
}

// GateSite returns the gate's site, defaulted to gatewatch's.
func (c *Gatewatch) GateSite(g GatewatchGate) string {
	if g.Site != "" {
		return g.Site
	}
	return c.Site
}

// BrokerListen returns the embedded broker's listener address.
func (c *Gatewatch) BrokerListen() string {
	switch {
	case c.Broker.Listen != "":
		return c.Broker.Listen
	case c.Broker.TLS.Enabled():
		return "0.0.0.0:8883"
	}
	return "0.0.0.0:1883"
}

// BrokerServerName returns the embedded broker's server name.
func (c *Gatewatch) BrokerServerName() string {
	if c.Broker.ServerName != "" {
		return c.Broker.ServerName
	}
	return "gatewatch-" + c.Site
}

// BrokerStoreDir returns the embedded broker's JetStream store.
func (c *Gatewatch) BrokerStoreDir() string {
	if c.Broker.StoreDir != "" {
		return c.Broker.StoreDir
	}
	return filepath.Join(c.DataDir, "broker")
}

func defaultGatewatchBroker() GatewatchBroker { return GatewatchBroker{} }

// bcryptHash matches a bcrypt hash as nats-server accepts it.
var bcryptHash = regexp.MustCompile(`^\$2[aby]?\$[0-9]{2}\$[./A-Za-z0-9]{53}$`)

// validateBroker checks broker and gates.
func (c *Gatewatch) validateBroker() []error {
	v := &validator{}
	b := c.Broker
	if b.Enabled {
		if h, p, err := net.SplitHostPort(c.BrokerListen()); err != nil {
			v.add("broker.listen", "%q is not host:port", b.Listen)
		} else if n, err := strconv.Atoi(p); err != nil || n < 0 || n > 65535 || (h != "" && net.ParseIP(h) == nil && h != "localhost") {
			v.add("broker.listen", "%q: want an IP address and a port 0–65535 (0: any free port)", b.Listen)
		}
		v.name("broker.server_name", c.BrokerServerName())
		if (b.TLS.CertFile == "") != (b.TLS.KeyFile == "") {
			v.add("broker.tls.cert_file", "and broker.tls.key_file must be given together")
		}
		if b.TLS.ClientCAFile != "" && !b.TLS.Enabled() {
			v.add("broker.tls.client_ca_file", "needs broker.tls.cert_file and key_file")
		}
		if len(c.Gates) == 0 {
			v.add("gates", "is empty: no gate can connect to the embedded broker (add one with `gatewatch gate add NAME`)")
		}
	}
	seen := map[string]int{}
	for i, g := range c.Gates {
		key := fmt.Sprintf("gates[%d]", i)
		v.name(key+".name", g.Name)
		if g.Site != "" {
			v.name(key+".site", g.Site)
		}
		id := c.GateSite(g) + "/" + g.Name
		if j, ok := seen[id]; ok {
			v.add(key+".name", "%s is already gates[%d]", id, j)
		}
		seen[id] = i
		if !bcryptHash.MatchString(g.PasswordHash) {
			v.add(key+".password_hash", "is not a bcrypt hash ($2a$…): `gatewatch gate add` writes one")
		}
	}
	return v.errs
}

// brokerPaths are the broker's file settings, resolved like the others.
func (c *Gatewatch) brokerPaths() []*string {
	return []*string{&c.Broker.StoreDir, &c.Broker.TLS.CertFile, &c.Broker.TLS.KeyFile, &c.Broker.TLS.ClientCAFile}
}
