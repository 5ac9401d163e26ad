package configs

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Gatewatch is the configuration of gatewatch, the central entry log
// (cmd/gatewatch). It is loaded with the same strict loader as the gate's
// config: an unknown key is named with its line, and every problem is
// reported at once, each naming its key.
type Gatewatch struct {
	// Path is the file it was loaded from; Hash is its SHA-256.
	Path string `yaml:"-"`
	Hash string `yaml:"-"`

	// Site names this installation (the default client id's suffix).
	Site string `yaml:"site"`
	// DataDir is the one folder gatewatch writes: gatewatch.db (SQLite),
	// the embedded broker's store.
	DataDir string `yaml:"data_dir"`
	// Log is as the gate's.
	Log       Log             `yaml:"log"`
	Store     GatewatchStore  `yaml:"store"`
	MQTT      GatewatchMQTT   `yaml:"mqtt"`
	API       GatewatchAPI    `yaml:"api"`
	Retention Retention       `yaml:"retention"`
	Broker    GatewatchBroker `yaml:"broker"`
	// Gates are the gates the embedded broker admits (gatewatch gate add).
	Gates []GatewatchGate `yaml:"gates"`
}

// GatewatchStore selects the database.
type GatewatchStore struct {
	// Driver is sqlite (the default: DataDir/gatewatch.db) or postgres.
	Driver string `yaml:"driver"`
	// DSN is a PostgreSQL URL without a password (use DSNEnv for one).
	DSN string `yaml:"dsn"`
	// DSNEnv names an environment variable holding the DSN.
	DSNEnv string `yaml:"dsn_env"`
	// BatchSize caps the messages committed in one transaction.
	BatchSize int `yaml:"batch_size"`
	// BatchWait is how long a batch waits for more messages after its
	// first (0: a batch is what arrived during the previous commit).
	BatchWait time.Duration `yaml:"batch_wait"`
}

// GatewatchMQTT is gatewatch's connection to the broker the gates publish to.
type GatewatchMQTT struct {
	// Brokers are tried in turn. Empty with broker.enabled: the embedded broker.
	Brokers []string `yaml:"brokers"`
	// ClientID is fixed (the broker keeps gatewatch's session under it);
	// empty means gatewatch-<site>.
	ClientID     string `yaml:"client_id"`
	Username     string `yaml:"username"`
	PasswordEnv  string `yaml:"password_env"`
	PasswordFile string `yaml:"password_file"`
	// AllowInsecurePassword lets a password go over a plain URL (lab only).
	AllowInsecurePassword bool `yaml:"allow_insecure_password"`
	// Prefix is the gates' topic prefix (their mqtt.prefix).
	Prefix    string        `yaml:"prefix"`
	TLS       TLS           `yaml:"tls"`
	KeepAlive time.Duration `yaml:"keepalive"`
}

// GatewatchAPI is the HTTP API. It is never anonymous: every request needs
// the bearer token read from TokenEnv or TokenFile.
type GatewatchAPI struct {
	// Listen is host:port.
	Listen    string `yaml:"listen"`
	TokenEnv  string `yaml:"token_env"`
	TokenFile string `yaml:"token_file"`
}

// Retention is how long gatewatch keeps what it stores.
type Retention struct {
	// Events (with alerts and quarantined messages): 90 days by default.
	Events time.Duration `yaml:"events"`
	// Snapshots: 30 days by default.
	Snapshots time.Duration `yaml:"snapshots"`
}

// MinAPITokenLength is the shortest bearer token accepted.
const MinAPITokenLength = 16

// DefaultGatewatch returns gatewatch's configuration for every key a file
// leaves out.
func DefaultGatewatch() *Gatewatch {
	return &Gatewatch{
		Site:      "site",
		DataDir:   "/var/lib/gatewatch",
		Log:       Log{Level: "info", Format: "text"},
		Store:     GatewatchStore{BatchSize: 500},
		MQTT:      GatewatchMQTT{Prefix: "gateguard/v1", KeepAlive: 30 * time.Second},
		API:       GatewatchAPI{Listen: "127.0.0.1:8080"},
		Retention: Retention{Events: 90 * 24 * time.Hour, Snapshots: 30 * 24 * time.Hour},
		Broker:    defaultGatewatchBroker(),
	}
}

// LoadGatewatch reads, parses and validates a gatewatch config file.
// Relative paths in it are resolved against the file's folder.
func LoadGatewatch(path string) (*Gatewatch, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("configs: %w", err)
	}
	c, err := ParseGatewatch(data, path)
	if err != nil {
		return nil, err
	}
	c.Path = path
	dir := filepath.Dir(path)
	for _, p := range append([]*string{&c.DataDir, &c.API.TokenFile, &c.MQTT.PasswordFile,
		&c.MQTT.TLS.CAFile, &c.MQTT.TLS.CertFile, &c.MQTT.TLS.KeyFile}, c.brokerPaths()...) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	return c, nil
}

// ParseGatewatch parses and validates YAML; name is used in errors.
func ParseGatewatch(data []byte, name string) (*Gatewatch, error) {
	c := DefaultGatewatch()
	if err := decodeStrict(data, c); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	sum := sha256.Sum256(data)
	c.Hash = hex.EncodeToString(sum[:])
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return c, nil
}

// StoreDriver returns sqlite or postgres: postgres when a DSN is set.
func (c *Gatewatch) StoreDriver() string {
	if c.Store.Driver == "" && (c.Store.DSN != "" || c.Store.DSNEnv != "") {
		return "postgres"
	}
	if c.Store.Driver == "" {
		return "sqlite"
	}
	return c.Store.Driver
}

// ClientID returns the MQTT client id, defaulted from the site.
func (c *Gatewatch) ClientID() string {
	if c.MQTT.ClientID != "" {
		return c.MQTT.ClientID
	}
	return "gatewatch-" + c.Site
}

// StoreDSN returns the PostgreSQL DSN from store.dsn or store.dsn_env.
func (s GatewatchStore) StoreDSN() (string, error) {
	if s.DSNEnv != "" {
		v, ok := os.LookupEnv(s.DSNEnv)
		if !ok || v == "" {
			return "", fmt.Errorf("configs: store.dsn_env: $%s is not set", s.DSNEnv)
		}
		return v, nil
	}
	return s.DSN, nil
}

// Token returns the API bearer token from api.token_env or api.token_file.
func (a GatewatchAPI) Token() (string, error) {
	var tok string
	switch {
	case a.TokenEnv != "":
		tok = os.Getenv(a.TokenEnv)
		if tok == "" {
			return "", fmt.Errorf("configs: api.token_env: $%s is not set", a.TokenEnv)
		}
	case a.TokenFile != "":
		b, err := os.ReadFile(a.TokenFile)
		if err != nil {
			return "", fmt.Errorf("configs: api.token_file: %w", err)
		}
		tok = strings.TrimRight(string(b), "\r\n")
	default:
		return "", fmt.Errorf("configs: api: no token_env or token_file")
	}
	if len(tok) < MinAPITokenLength {
		return "", fmt.Errorf("configs: api token: %d characters, at least %d needed", len(tok), MinAPITokenLength)
	}
	return tok, nil
}

// Password returns gatewatch's broker password, if one is configured.
func (m GatewatchMQTT) Password() (string, error) {
	return MQTT{PasswordEnv: m.PasswordEnv, PasswordFile: m.PasswordFile}.Password()
}

// Validate checks every value and returns all problems at once, each naming
// its key.
func (c *Gatewatch) Validate() error {
	v := &validator{}
	v.name("site", c.Site)
	v.required("data_dir", c.DataDir)
	v.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	v.oneOf("log.format", c.Log.Format, "text", "json")

	s := c.Store
	if s.Driver != "" {
		v.oneOf("store.driver", s.Driver, "sqlite", "postgres")
	}
	switch {
	case s.DSN != "" && s.DSNEnv != "":
		v.add("store.dsn", "and store.dsn_env are both set: use one")
	case c.StoreDriver() == "postgres" && s.DSN == "" && s.DSNEnv == "":
		v.add("store.dsn", "is required with store.driver postgres (or store.dsn_env)")
	case c.StoreDriver() == "sqlite" && (s.DSN != "" || s.DSNEnv != ""):
		v.add("store.driver", "is sqlite but a DSN is set: remove store.dsn or use postgres")
	}
	if s.DSN != "" {
		u, err := url.Parse(s.DSN)
		switch {
		case err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql"):
			v.add("store.dsn", "must be a postgres:// URL")
		case u.User != nil && func() bool { _, ok := u.User.Password(); return ok }():
			v.add("store.dsn", "must not hold a password: put the whole DSN in store.dsn_env")
		}
	}
	v.intRange("store.batch_size", s.BatchSize, 1, 10000)
	if s.BatchWait < 0 || s.BatchWait > 5*time.Second {
		v.add("store.batch_wait", "%s is outside 0s–5s", s.BatchWait)
	}

	m := c.MQTT
	if len(m.Brokers) == 0 && !c.Broker.Enabled {
		v.add("mqtt.brokers", "is required (or broker.enabled: true for the embedded broker)")
	}
	plain := false
	for i, b := range m.Brokers {
		key := fmt.Sprintf("mqtt.brokers[%d]", i)
		if slices.Contains(m.Brokers[:i], b) {
			v.add(key, "%q is listed twice", b)
		}
		u, err := url.Parse(b)
		switch {
		case err != nil:
			v.add(key, "%q is not a URL: %v", b, err)
		case !slices.Contains([]string{"tcp", "ssl", "tls", "mqtt", "mqtts", "ws", "wss"}, u.Scheme):
			v.add(key, "%q: scheme must be tcp, ssl, tls, mqtt, mqtts, ws or wss", b)
		case u.Host == "":
			v.add(key, "%q has no host", b)
		case u.User != nil:
			v.add(key, "must not hold credentials: use mqtt.username and mqtt.password_env or mqtt.password_file")
		}
		if !tlsURL(b) {
			plain = true
		}
	}
	if m.PasswordEnv != "" && m.PasswordFile != "" {
		v.add("mqtt.password_env", "and mqtt.password_file are both set: use one")
	}
	if (m.PasswordEnv != "" || m.PasswordFile != "") && plain && !m.AllowInsecurePassword {
		v.add("mqtt.brokers", "a password would go over a plain URL: use TLS URLs (or mqtt.allow_insecure_password for a lab)")
	}
	if m.ClientID == "" {
		v.name("site", c.Site) // the default client id is made of it
	}
	v.required("mqtt.prefix", m.Prefix)
	if strings.ContainsAny(m.Prefix, "+#") {
		v.add("mqtt.prefix", "%q must not contain MQTT wildcards", m.Prefix)
	}
	v.duration("mqtt.keepalive", m.KeepAlive, 5*time.Second, 10*time.Minute)
	if (m.TLS.CertFile == "") != (m.TLS.KeyFile == "") {
		v.add("mqtt.tls", "cert_file and key_file go together")
	}

	a := c.API
	if _, _, err := net.SplitHostPort(a.Listen); err != nil {
		v.add("api.listen", "%q is not host:port", a.Listen)
	}
	switch {
	case a.TokenEnv == "" && a.TokenFile == "":
		v.add("api", "token_env or token_file is required: the API is never anonymous")
	case a.TokenEnv != "" && a.TokenFile != "":
		v.add("api.token_env", "and api.token_file are both set: use one")
	}

	r := c.Retention
	v.duration("retention.events", r.Events, 24*time.Hour, 10*365*24*time.Hour)
	v.duration("retention.snapshots", r.Snapshots, 24*time.Hour, 10*365*24*time.Hour)
	if r.Snapshots > r.Events {
		v.add("retention.snapshots", "%s is longer than retention.events %s: an image would outlive its alert", r.Snapshots, r.Events)
	}
	v.errs = append(v.errs, c.validateBroker()...)
	return v.err()
}
