package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"
	"golang.org/x/crypto/bcrypt"

	"github.com/gateguard/gateguard/configs"
)

func init() {
	commands["gate"] = func(_ context.Context, args []string) error { return cmdGate(args, os.Stdout) }
}

// gateUsage is the gate subcommand's usage.
const gateUsage = "usage: gatewatch gate add [-c FILE] [-site SITE] [-broker URL] [-password-file PATH] [-o FILE] NAME"

// cmdGate runs `gatewatch gate add NAME`: it makes the gate a broker
// password, adds the gate with the password's bcrypt hash to the config's
// gate list (written atomically), and prints the gate config's site, gate
// and mqtt keys. The password itself is printed once (or written to -o),
// never stored.
func cmdGate(args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "add" {
		return usageError{msg: gateUsage}
	}
	fs := flag.NewFlagSet("gate add", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	path := fs.String("c", "/etc/gatewatch/gatewatch.yaml", "gatewatch config file")
	site := fs.String("site", "", "the gate's site (default: gatewatch's site)")
	brokerURL := fs.String("broker", "", "the broker URL the gate connects to (default: from broker.listen and this host's name)")
	pwPath := fs.String("password-file", "/etc/gateguard/mqtt-password", "where the gate reads its password (mqtt.password_file)")
	outFile := fs.String("o", "", "write the password to this file (0600) instead of printing it; it is also the default -password-file")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{msg: err.Error() + "\n" + gateUsage}
	}
	if fs.NArg() != 1 {
		return usageError{msg: gateUsage}
	}
	name := fs.Arg(0)
	pwSet := false
	fs.Visit(func(f *flag.Flag) { pwSet = pwSet || f.Name == "password-file" })
	if *outFile != "" && !pwSet {
		// The password file is written here: a gate on this machine (a
		// demo, a test) reads it where it is.
		abs, err := filepath.Abs(*outFile)
		if err != nil {
			return fmt.Errorf("gatewatch: gate add: -o: %w", err)
		}
		*pwPath = abs
	}
	password, err := randomSecret()
	if err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return fmt.Errorf("gatewatch: gate add: %w", err)
	}
	c, err := addGate(*path, configs.GatewatchGate{Name: name, Site: *site, PasswordHash: string(hash)})
	if err != nil {
		return err
	}
	if *outFile != "" {
		if err := writeAtomic(*outFile, []byte(password), 0o600); err != nil {
			return err
		}
	}
	return printGateConfig(out, c, name, *site, *brokerURL, *pwPath, *outFile, password)
}

// addGate adds g to the gate list of the config at path and writes it back
// atomically, once the result validates (a duplicate or a bad name is
// refused by the config's own validation, naming the key). Comments and
// the other keys are kept.
func addGate(path string, g configs.GatewatchGate) (*configs.Gatewatch, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("gatewatch: gate add: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("gatewatch: gate add: %s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode}}}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("gatewatch: gate add: %s is not a YAML mapping", path)
	}
	var gates *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "gates" {
			gates = root.Content[i+1]
		}
	}
	if gates == nil {
		gates = &yaml.Node{Kind: yaml.SequenceNode}
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "gates"}, gates)
	}
	if gates.Kind != yaml.SequenceNode {
		if gates.Tag != "!!null" {
			return nil, fmt.Errorf("gatewatch: gate add: %s: gates is not a list", path)
		}
		*gates = yaml.Node{Kind: yaml.SequenceNode}
	}
	gates.Style = 0 // block style: one gate per entry
	var item yaml.Node
	if err := item.Encode(g); err != nil {
		return nil, fmt.Errorf("gatewatch: gate add: %w", err)
	}
	if g.Site == "" { // drop the empty site: it defaults to gatewatch's
		item.Content = dropKey(item.Content, "site")
	}
	gates.Content = append(gates.Content, &item)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("gatewatch: gate add: %w", err)
	}
	c, err := configs.ParseGatewatch(buf.Bytes(), path)
	if err != nil {
		return nil, fmt.Errorf("gatewatch: gate add %s: %w", g.Name, err)
	}
	mode := os.FileMode(0o600)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	if err := writeAtomic(path, buf.Bytes(), mode); err != nil {
		return nil, err
	}
	c.Path = path
	return c, nil
}

func dropKey(kv []*yaml.Node, key string) []*yaml.Node {
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i].Value == key {
			return append(kv[:i:i], kv[i+2:]...)
		}
	}
	return kv
}

// printGateConfig prints what the gate's own config needs.
func printGateConfig(out io.Writer, c *configs.Gatewatch, name, site, brokerURL, pwPath, outFile, password string) error {
	if site == "" {
		site = c.Site
	}
	tlsOn := c.Broker.TLS.Enabled()
	if brokerURL == "" {
		brokerURL = defaultBrokerURL(c.BrokerListen(), tlsOn)
	}
	fmt.Fprintf(out, "# gate %s/%s is in %s: send gatewatch SIGHUP (or restart it) to admit it.\n", site, name, c.Path)
	if outFile != "" {
		fmt.Fprintf(out, "# Its broker password is in %s: copy it to the gate as %s (mode 0600).\n", outFile, pwPath)
	} else {
		fmt.Fprintf(out, "# Its broker password, shown only now: on the gate run\n#   umask 077; printf '%%s' '%s' > %s\n", password, pwPath)
	}
	fmt.Fprintf(out, "# For the gate's config:\nsite: %s\ngate: %s\nmqtt:\n  enabled: true\n  broker: %s\n  prefix: %s\n  username: %s/%s\n  password_file: %s\n",
		site, name, brokerURL, c.MQTT.Prefix, site, name, pwPath)
	if tlsOn {
		fmt.Fprintf(out, "  tls: {ca_file: /etc/gateguard/ca.pem}   # the CA that signed %s\n", c.Broker.TLS.CertFile)
	} else {
		fmt.Fprintf(out, "  allow_insecure_password: true   # the embedded broker has no TLS: set broker.tls outside a lab\n")
	}
	return nil
}

// defaultBrokerURL is the URL a gate reaches the listener at: this host's
// name when the listener is on every address.
func defaultBrokerURL(listen string, tlsOn bool) string {
	scheme := "tcp"
	if tlsOn {
		scheme = "ssl"
	}
	h, p, err := net.SplitHostPort(listen)
	if err != nil {
		return scheme + "://" + listen
	}
	if ip := net.ParseIP(h); h == "" || (ip != nil && ip.IsUnspecified()) {
		if hn, err := os.Hostname(); err == nil {
			h = hn
		}
	}
	return scheme + "://" + net.JoinHostPort(h, p)
}

// writeAtomic writes data to path through a synced temporary file and a
// rename, so a crash leaves the old file or the new one, never half of it.
func writeAtomic(path string, data []byte, mode os.FileMode) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("gatewatch: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("gatewatch: write %s: %w", f.Name(), err)
	}
	if err = f.Chmod(mode); err != nil {
		return fmt.Errorf("gatewatch: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("gatewatch: sync %s: %w", f.Name(), err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("gatewatch: close %s: %w", f.Name(), err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("gatewatch: %w", err)
	}
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
