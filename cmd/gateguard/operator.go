package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/google/uuid"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/gate/command"
)

// errCommandNotOK is returned by `gateguard command` when the gate answered
// with anything but status ok (exit code 1).
var errCommandNotOK = errors.New("the gate did not carry out the command")

// cmdKeygen writes a new operator key pair: the private key (PKCS #8 PEM,
// mode 0600, never overwritten) and FILE.pub, and prints the public key for
// the gate's commands.operators.
func cmdKeygen(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	path := fs.String("o", "", "private key file to create (mode 0600); the public key goes to FILE.pub")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *path == "" || fs.NArg() > 0 {
		return usageError{"keygen: want -o FILE"}
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	// O_EXCL: a key file that exists, or appears between the flag check
	// and here, is never overwritten.
	f, err := os.OpenFile(*path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	if err := writeKey(f, der); err != nil {
		os.Remove(*path)
		return fmt.Errorf("keygen: %s: %w", *path, err)
	}
	text := command.FormatPublicKey(pub)
	if err := writeFileAtomic(*path+".pub", []byte(text+"\n"), 0o644); err != nil {
		// Never leave a private key without its public half.
		os.Remove(*path)
		return fmt.Errorf("keygen: %w", err)
	}
	fmt.Fprintf(out, "%s\n\nadd to the gate's config:\ncommands:\n  operators:\n    - id: YOUR-NAME\n      public_key: %s\n      allow: [open, set_mode, get_state]\n", text, text)
	return nil
}

// writeKey writes the PEM private key to f, fsyncs and closes it.
func writeKey(f *os.File, der []byte) error {
	if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeFileAtomic replaces path with data: a temporary file in the same
// folder is written, fsynced and renamed over path, and the folder fsynced,
// so that path is always either the old file or the whole new one. A
// symlink at path is replaced, not written through.
func writeFileAtomic(path string, data []byte, perm os.FileMode) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Chmod(perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: fsync: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("write %s: open folder: %w", path, err)
	}
	defer d.Close()
	if err = d.Sync(); err != nil {
		return fmt.Errorf("write %s: fsync folder: %w", path, err)
	}
	return nil
}

// readPrivateKey reads a key written by keygen; it refuses a key file that
// others may read.
func readPrivateKey(path string) (ed25519.PrivateKey, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("key: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("key %s: mode %v lets others read it; chmod 600 it", path, st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("key: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("key %s: not a PEM PRIVATE KEY", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", path, err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("key %s: not an Ed25519 key", path)
	}
	return ek, nil
}

// commandFlags are `gateguard command`'s settings.
type commandFlags struct {
	config, key, operator               string
	broker, site, gate, prefix          string
	ca, cert, certKey, serverName       string
	username, passwordEnv, passwordFile string
	timeout, ttl                        time.Duration
	override, allowInsecurePassword     bool
	reason                              string
}

// cmdCommand signs a command, sends it and prints the gate's result.
func cmdCommand(ctx context.Context, args []string, out io.Writer) error {
	var f commandFlags
	fs := flag.NewFlagSet("command", flag.ContinueOnError)
	f.define(fs)
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() < 1 || f.key == "" {
		return usageError{"command: want -key FILE [-c CONFIG | -broker URL -site S -gate G] NAME [MODE]"}
	}
	name, rest := fs.Arg(0), fs.Args()[1:]
	args2, err := commandArgs(name, rest, f, out)
	if err != nil {
		return err
	}
	if f.operator == "" {
		return usageError{"command: -operator is required"}
	}
	if err := f.fromConfig(); err != nil {
		return err
	}
	key, err := readPrivateKey(f.key)
	if err != nil {
		return err
	}
	now := time.Now()
	body := command.Body{ID: uuid.Must(uuid.NewV7()).String(), Name: name, Site: f.site, Gate: f.gate,
		Operator: f.operator, Nonce: uint64(now.UnixMicro()), Issued: now.UTC(), Expires: now.Add(f.ttl).UTC(), Args: args2}
	payload, err := command.Sign(body, key)
	if err != nil {
		return err
	}
	res, raw, err := f.send(ctx, body, payload)
	if err != nil {
		return err
	}
	printIndented(out, raw)
	if res.Status != command.StatusOK {
		return fmt.Errorf("%s %s: %s (%s): %w", name, res.ID, res.Status, res.Reason, errCommandNotOK)
	}
	return nil
}

// define defines the flags of gateguard command on fs.
func (f *commandFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&f.config, "c", "", "the gate's config file (broker, prefix, site, gate, TLS CA)")
	fs.StringVar(&f.key, "key", "", "the operator's private key (from gateguard keygen)")
	fs.StringVar(&f.operator, "operator", os.Getenv("GATEGUARD_OPERATOR"), "the operator id in the gate's commands.operators ($GATEGUARD_OPERATOR)")
	fs.StringVar(&f.broker, "broker", "", "broker URL (overrides the config)")
	fs.StringVar(&f.site, "site", "", "site (overrides the config)")
	fs.StringVar(&f.gate, "gate", "", "gate (overrides the config)")
	fs.StringVar(&f.prefix, "prefix", "", "topic prefix (default gateguard/v1 or the config's)")
	fs.StringVar(&f.ca, "ca", "", "CA file that signs the broker's certificate")
	fs.StringVar(&f.cert, "cert", "", "the operator's client certificate (PEM)")
	fs.StringVar(&f.certKey, "cert-key", "", "the client certificate's key (PEM)")
	fs.StringVar(&f.serverName, "server-name", "", "name to check in the broker's certificate")
	fs.StringVar(&f.username, "username", "", "broker username")
	fs.StringVar(&f.passwordEnv, "password-env", "", "environment variable holding the broker password")
	fs.StringVar(&f.passwordFile, "password-file", "", "file holding the broker password")
	fs.BoolVar(&f.allowInsecurePassword, "allow-insecure-password", false, "send the password over a plain tcp:// broker URL (a lab broker only; the config's mqtt.allow_insecure_password does too)")
	fs.DurationVar(&f.timeout, "timeout", 15*time.Second, "how long to wait for the result")
	fs.DurationVar(&f.ttl, "ttl", time.Minute, "how long the command stays valid")
	fs.BoolVar(&f.override, "override", false, "override a fever denial (open) or a fire alarm (set_mode); needs the override permission")
	fs.StringVar(&f.reason, "reason", "", "why, in your words (open, set_mode; required with -override): signed, and recorded in the gate's event")
}

// printIndented prints the JSON raw indented.
func printIndented(out io.Writer, raw []byte) {
	var pretty strings.Builder
	var v any
	_ = json.Unmarshal(raw, &v)
	enc := json.NewEncoder(&pretty)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
	fmt.Fprint(out, pretty.String())
}

// fromConfig fills unset flags from the gate's config file.
func (f *commandFlags) fromConfig() error {
	if f.config != "" {
		cfg, err := configs.Load(f.config)
		if err != nil {
			return err
		}
		f.broker = or(f.broker, cfg.MQTT.BrokerURLs()[0])
		f.site = or(f.site, cfg.Site)
		f.gate = or(f.gate, cfg.Gate)
		f.prefix = or(f.prefix, cfg.MQTT.Prefix)
		f.ca = or(f.ca, cfg.MQTT.TLS.CAFile)
		f.serverName = or(f.serverName, cfg.MQTT.TLS.ServerName)
		f.allowInsecurePassword = f.allowInsecurePassword || cfg.MQTT.AllowInsecurePassword
	}
	f.prefix = strings.TrimSuffix(or(f.prefix, "gateguard/v1"), "/")
	if f.broker == "" || f.site == "" || f.gate == "" {
		return usageError{"command: the broker, site and gate come from -c CONFIG or -broker, -site and -gate"}
	}
	// The URL is printed in errors: a password in it would be too.
	if u, err := url.Parse(f.broker); err == nil && u.User != nil {
		return usageError{"command: -broker must not hold credentials: use -username and -password-env or -password-file"}
	}
	return nil
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// send connects, subscribes to the result topic, publishes the command and
// waits for the result that echoes its id.
func (f *commandFlags) send(ctx context.Context, b command.Body, payload []byte) (*command.Result, []byte, error) {
	m := configs.MQTT{Enabled: true, Broker: f.broker, PasswordEnv: f.passwordEnv, PasswordFile: f.passwordFile,
		TLS: configs.TLS{CAFile: f.ca, CertFile: f.cert, KeyFile: f.certKey, ServerName: f.serverName}}
	// The daemon's config check refuses this; the guard's tool must too.
	if m.InsecurePassword() && !f.allowInsecurePassword {
		return nil, nil, usageError{"command: the broker password would go in clear text to " + f.broker +
			": use a TLS URL (ssl://, tls://, mqtts:// or wss://), or -allow-insecure-password (a lab broker only)"}
	}
	tc, err := tlsConfig(m)
	if err != nil {
		return nil, nil, err
	}
	pw, err := m.Password()
	if err != nil {
		return nil, nil, err
	}
	base := f.prefix + "/" + f.site + "/" + f.gate + "/cmd/" + b.Name
	results := make(chan []byte, 16)
	opts := paho.NewClientOptions().AddBroker(f.broker).
		SetClientID("gateguard-cmd-" + b.ID[len(b.ID)-12:]).
		SetUsername(f.username).SetPassword(pw).SetCleanSession(true).
		SetAutoReconnect(false).SetConnectTimeout(f.timeout).SetOrderMatters(false)
	if tc != nil {
		opts.SetTLSConfig(tc)
	} else if f.cert != "" {
		return nil, nil, usageError{"command: -cert needs a TLS broker URL (ssl://)"}
	}
	client := paho.NewClient(opts)
	if err := waitToken(ctx, client.Connect(), f.timeout, "connect to "+f.broker); err != nil {
		return nil, nil, err
	}
	defer client.Disconnect(250)
	sub := client.Subscribe(base+"/result", 1, func(_ paho.Client, msg paho.Message) {
		select {
		case results <- msg.Payload():
		default: // never block paho; a flood of other results is dropped
		}
	})
	if err := waitToken(ctx, sub, f.timeout, "subscribe"); err != nil {
		return nil, nil, err
	}
	if err := subscribed(sub); err != nil {
		return nil, nil, err
	}
	if err := waitToken(ctx, client.Publish(base, 1, false, payload), f.timeout, "publish"); err != nil {
		return nil, nil, err
	}
	return awaitResult(ctx, results, b, f.timeout)
}

// subscribed reports a subscription the broker refused.
func subscribed(sub paho.Token) error {
	if st, ok := sub.(*paho.SubscribeToken); ok {
		for topic, code := range st.Result() {
			if code >= 0x80 {
				return fmt.Errorf("command: the broker refused the subscription to %s (check its ACL)", topic)
			}
		}
	}
	return nil
}

// awaitResult waits up to timeout for the result on results that echoes
// b's id, skipping other commands' results.
func awaitResult(ctx context.Context, results <-chan []byte, b command.Body, timeout time.Duration) (*command.Result, []byte, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case raw := <-results:
			res, err := command.ParseResult(raw)
			if err != nil || res.ID != b.ID {
				continue // another command's result
			}
			return res, raw, nil
		case <-timer.C:
			return nil, nil, fmt.Errorf("command %s %s: no result within %v (is the gate online, are commands enabled?)", b.Name, b.ID, timeout)
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
}

func waitToken(ctx context.Context, t paho.Token, timeout time.Duration, what string) error {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-t.Done():
	case <-timer.C:
		return fmt.Errorf("command: %s: timed out after %v", what, timeout)
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := t.Error(); err != nil {
		return fmt.Errorf("command: %s: %w", what, err)
	}
	return nil
}
