package broker

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// MaxPacketSize is the largest message the broker accepts, the same as
// every shipped Mosquitto config's max_packet_size (128 KiB): a gate's
// largest message is a thermal snapshot of at most about 121 KB.
const MaxPacketSize = 128 << 10

// Gate is one gate's broker account.
type Gate struct {
	Site, Gate string
	// Username is what the gate's mqtt.username says: <site>/<gate>.
	Username string
	// PasswordHash is a bcrypt hash ($2a$…) of the gate's password.
	PasswordHash string
}

// Cluster makes the broker a node of a NATS cluster.
type Cluster struct {
	// Name is the cluster's name, the same on every node.
	Name string
	// Addr is host:port of this node's route listener.
	Addr string
	// Routes are the other nodes' route addresses (host:port).
	Routes []string
}

// Options configures a Broker.
type Options struct {
	// ServerName names this node; JetStream needs it (unique per node).
	ServerName string
	// StoreDir is the JetStream file store: sessions and queued messages.
	StoreDir string
	// MQTTAddr is host:port of the MQTT listener; port 0 picks a free one.
	MQTTAddr string
	// ClientAddr is host:port of the NATS client listener; empty listens on
	// a free loopback port.
	ClientAddr string
	// TLS, when set, makes the MQTT listener TLS only (ssl://). Set
	// ClientAuth to tls.RequireAndVerifyClientCert to ask for certificates
	// as well; passwords are checked either way.
	TLS *tls.Config
	// Prefix is the topic prefix of every gate (gateguard/v1).
	Prefix string
	// Gates are the gates allowed to connect.
	Gates []Gate
	// CentralUser and CentralPassword are gatewatch's own account (read
	// everything, publish commands); the password is kept in memory only.
	CentralUser, CentralPassword string
	// Replicas is the JetStream replica count of the MQTT streams and
	// consumers: 1 alone, 3 in a three-node cluster.
	Replicas int
	// AckWait is how long the broker waits for a subscriber's PUBACK before
	// sending a QoS 1 message again (also after the subscriber reconnects);
	// 0 keeps the server's 30s.
	AckWait time.Duration
	// Cluster, when set, joins a cluster.
	Cluster *Cluster
	// Log receives the server's log; nil uses slog.Default.
	Log *slog.Logger
}

// Broker is a running NATS server with its MQTT listener.
type Broker struct {
	srv  *server.Server
	url  string
	o    Options
	once sync.Once

	mu   sync.Mutex // guards opts
	opts *server.Options
}

// ErrConfig reports options a broker cannot start with.
var ErrConfig = errors.New("broker: bad options")

// Start starts the server and returns once it accepts MQTT connections.
func Start(o Options) (*Broker, error) {
	opts, err := serverOptions(o)
	if err != nil {
		return nil, err
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	srv.SetLoggerV2(&logger{log: log.With("component", "broker", "server", o.ServerName)}, false, false, false)
	srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		srv.Shutdown()
		return nil, fmt.Errorf("broker: %s did not start within 30s", o.ServerName)
	}
	b := &Broker{srv: srv, o: o, opts: opts}
	scheme := "tcp"
	if o.TLS != nil {
		scheme = "ssl"
	}
	// The server writes the port it picked into opts, under the lock that
	// ReadyForConnections took after the listener was up.
	b.url = scheme + "://" + net.JoinHostPort(opts.MQTT.Host, strconv.Itoa(opts.MQTT.Port))
	return b, nil
}

// URL returns the MQTT listener's URL (tcp:// or ssl://host:port).
func (b *Broker) URL() string { return b.url }

// JetStreamReady reports whether JetStream (which MQTT needs for QoS 1 and
// sessions) is up: in a cluster, once a meta leader is elected.
func (b *Broker) JetStreamReady() bool {
	return b.srv.JetStreamEnabled() && b.srv.JetStreamIsCurrent()
}

// SetGates replaces the gates allowed to connect, without a restart: a
// gate added can connect at once, and a gate removed is refused from its
// next connection on.
func (b *Broker) SetGates(gates []Gate) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	o := b.o
	o.Gates = gates
	next, err := serverOptions(o)
	if err != nil {
		return err
	}
	// Everything but the users as the server runs it (ports it picked).
	opts := b.opts.Clone()
	opts.Users = next.Users
	if err := b.srv.ReloadOptions(opts); err != nil {
		return fmt.Errorf("broker: reload gates: %w", err)
	}
	b.o, b.opts = o, opts
	return nil
}

// Close shuts the server down and waits for it. It is idempotent.
func (b *Broker) Close() error {
	b.once.Do(func() {
		b.srv.Shutdown()
		b.srv.WaitForShutdown()
	})
	return nil
}

func serverOptions(o Options) (*server.Options, error) {
	var errs []error
	if o.ServerName == "" {
		errs = append(errs, fmt.Errorf("%w: server name is required (JetStream)", ErrConfig))
	}
	if o.StoreDir == "" {
		errs = append(errs, fmt.Errorf("%w: store dir is required (JetStream)", ErrConfig))
	}
	if o.Prefix == "" || strings.ContainsAny(o.Prefix, "+#") {
		errs = append(errs, fmt.Errorf("%w: prefix %q", ErrConfig, o.Prefix))
	}
	mh, mp, err := hostPort(o.MQTTAddr, "127.0.0.1:0")
	if err != nil {
		errs = append(errs, fmt.Errorf("%w: MQTT address: %w", ErrConfig, err))
	}
	ch, cp, err := hostPort(o.ClientAddr, "127.0.0.1:0")
	if err != nil {
		errs = append(errs, fmt.Errorf("%w: client address: %w", ErrConfig, err))
	}
	if o.CentralUser == "" || o.CentralPassword == "" {
		errs = append(errs, fmt.Errorf("%w: the central account needs a user and a password", ErrConfig))
	}
	users := []*server.User{{Username: o.CentralUser, Password: o.CentralPassword, Permissions: centralPermissions(o.Prefix)}}
	seen := map[string]bool{o.CentralUser: true}
	for _, g := range o.Gates {
		if seen[g.Username] {
			errs = append(errs, fmt.Errorf("%w: user %q listed twice", ErrConfig, g.Username))
		}
		seen[g.Username] = true
		if !strings.HasPrefix(g.PasswordHash, "$2") {
			errs = append(errs, fmt.Errorf("%w: gate %s/%s: password hash is not bcrypt", ErrConfig, g.Site, g.Gate))
		}
		users = append(users, &server.User{Username: g.Username, Password: g.PasswordHash,
			Permissions: gatePermissions(o.Prefix, g.Site, g.Gate)})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	replicas := max(o.Replicas, 1)
	opts := &server.Options{
		ServerName: o.ServerName,
		Host:       ch,
		Port:       portOrRandom(cp),
		JetStream:  true,
		StoreDir:   o.StoreDir,
		MaxPayload: MaxPacketSize,
		NoSigs:     true,
		Users:      users,
		MQTT: server.MQTTOpts{
			Host: mh, Port: portOrRandom(mp), TLSConfig: o.TLS,
			StreamReplicas: replicas, ConsumerReplicas: replicas, AckWait: o.AckWait,
		},
	}
	if o.TLS != nil {
		opts.MQTT.TLSTimeout = 5
	}
	if c := o.Cluster; c != nil {
		h, p, err := hostPort(c.Addr, "")
		if err != nil {
			return nil, fmt.Errorf("%w: cluster address: %w", ErrConfig, err)
		}
		opts.Cluster = server.ClusterOpts{Name: c.Name, Host: h, Port: p}
		for _, r := range c.Routes {
			u, err := url.Parse("nats-route://" + r)
			if err != nil {
				return nil, fmt.Errorf("%w: route %q: %w", ErrConfig, r, err)
			}
			opts.Routes = append(opts.Routes, u)
		}
	}
	return opts, nil
}

// hostPort splits addr (or def when addr is empty) into host and port.
func hostPort(addr, def string) (string, int, error) {
	if addr == "" {
		addr = def
	}
	h, ps, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	p, err := strconv.Atoi(ps)
	if err != nil || p < 0 || p > 65535 {
		return "", 0, fmt.Errorf("port %q", ps)
	}
	return h, p, nil
}

// portOrRandom maps port 0 to the server's "pick a free port".
func portOrRandom(p int) int {
	if p == 0 {
		return server.RANDOM_PORT
	}
	return p
}
