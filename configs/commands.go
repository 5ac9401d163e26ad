package configs

import (
	"encoding/base64"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Commands sets which signed commands the gate accepts over MQTT
// (cmd/<name>, docs/mqtt.md). Off by default.
type Commands struct {
	// Enabled subscribes to the gate's cmd topics. It needs mqtt.enabled.
	Enabled bool `yaml:"enabled"`
	// Operators are the keys allowed to sign commands.
	Operators []Operator `yaml:"operators"`
	// MaxBytes bounds a command's size: 256–65536 bytes.
	MaxBytes int `yaml:"max_bytes"`
	// MaxTTL bounds how far in the future a command may expire: 10s–1h.
	MaxTTL time.Duration `yaml:"max_ttl"`
	// NonceFile keeps the last nonce accepted from each operator, so that a
	// restart does not accept a replayed command. Required when enabled.
	NonceFile string `yaml:"nonce_file"`
}

// Operator is one key allowed to sign commands.
type Operator struct {
	// ID names the operator; commands carry it, results and events name it.
	ID string `yaml:"id"`
	// PublicKey is the Ed25519 public key as `gateguard keygen` prints it
	// ("ed25519:" and the base64 of the 32 key bytes).
	PublicKey string `yaml:"public_key"`
	// Allow lists the commands the key may sign (open, set_mode, reload,
	// get_state) and "override" (open after a fever denial, set_mode during
	// a fire alarm). The key may sign only what is listed: an empty list is
	// a validation error, and allows nothing.
	Allow []string `yaml:"allow"`
}

// TLS is the broker connection's TLS. The server certificate is always
// verified; there is deliberately no way to skip verification.
type TLS struct {
	// CAFile is a PEM file of the CAs that sign the broker's certificate;
	// empty uses the system's roots.
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are the gate's client certificate and key (PEM),
	// for brokers that authenticate clients by certificate. Both or neither.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ServerName overrides the name checked in the broker's certificate;
	// empty uses the broker URL's host.
	ServerName string `yaml:"server_name"`
}

// IsZero reports whether no TLS setting is given.
func (t TLS) IsZero() bool { return t == TLS{} }

// HomeAssistant sets Home Assistant MQTT discovery. Off by default.
type HomeAssistant struct {
	// Enabled publishes retained discovery configs for the gate's sensors.
	Enabled bool `yaml:"enabled"`
	// Prefix is Home Assistant's discovery prefix.
	Prefix string `yaml:"prefix"`
}

// MaxCommandBytes is the largest commands.max_bytes a config may set: no
// legitimate command is larger.
const MaxCommandBytes = 65536

// BrokerMaxPacketSize is the max_packet_size, in bytes, of every broker
// config the project ships (mosquitto.conf, mosquitto-tls.conf, the demo's
// and the test harness's): a client sending a larger packet is disconnected
// before the broker buffers or forwards it. The largest legitimate message
// is a command of MaxCommandBytes; events, state, info and results are a few
// KB (thermal pictures stay on the gate, events carry their hash). Twice
// the largest command leaves room for the topic and the packet header.
const BrokerMaxPacketSize = 2 * MaxCommandBytes

// tlsURL reports whether a broker URL's scheme is a TLS one.
func tlsURL(broker string) bool {
	u, err := url.Parse(broker)
	return err == nil && slices.Contains([]string{"ssl", "tls", "mqtts", "wss"}, u.Scheme)
}

// commandPerms are the values operators[].allow accepts.
var commandPerms = []string{"open", "set_mode", "reload", "get_state", "override", "enroll"}

// validateSecurity checks commands, mqtt.tls and mqtt.homeassistant.
func (c *Config) validateSecurity(v *validator) {
	m := c.MQTT
	tlsScheme := m.UsesTLS()
	if m.Enabled && !m.TLS.IsZero() && !tlsScheme {
		v.add("mqtt.tls", "is set but %s %q is not a TLS URL (ssl://, tls://, mqtts:// or wss://)", m.brokerKeys()[0], m.BrokerURLs()[0])
	}
	if m.InsecurePassword() && !m.AllowInsecurePassword {
		key := "mqtt.password_file"
		if m.PasswordEnv != "" {
			key = "mqtt.password_env"
		}
		v.add(key, "would send the broker password in clear text to %q: use a TLS URL (ssl://, tls://, mqtts:// or wss://), or set mqtt.allow_insecure_password: true (a lab broker only)", strings.Join(m.BrokerURLs(), ", "))
	}
	if (m.TLS.CertFile == "") != (m.TLS.KeyFile == "") {
		v.add("mqtt.tls.cert_file", "and mqtt.tls.key_file must be given together")
	}
	if m.HomeAssistant.Enabled {
		if !m.Enabled {
			v.add("mqtt.homeassistant.enabled", "needs mqtt.enabled: discovery is published over MQTT")
		}
		v.required("mqtt.homeassistant.prefix", m.HomeAssistant.Prefix)
		if strings.ContainsAny(m.HomeAssistant.Prefix, "#+") {
			v.add("mqtt.homeassistant.prefix", "%q must not contain MQTT wildcards", m.HomeAssistant.Prefix)
		}
	}

	k := c.Commands
	if !k.Enabled {
		return
	}
	if !m.Enabled {
		v.add("commands.enabled", "needs mqtt.enabled: commands arrive over MQTT")
	}
	v.required("commands.nonce_file", k.NonceFile)
	v.intRange("commands.max_bytes", k.MaxBytes, 256, MaxCommandBytes)
	v.duration("commands.max_ttl", k.MaxTTL, 10*time.Second, time.Hour)
	if len(k.Operators) == 0 {
		v.add("commands.operators", "at least one operator key is required when commands are enabled")
	}
	seen := map[string]bool{}
	for i, op := range k.Operators {
		key := "commands.operators[" + strconv.Itoa(i) + "]"
		v.name(key+".id", op.ID)
		if seen[op.ID] {
			v.add(key+".id", "%q is listed twice", op.ID)
		}
		seen[op.ID] = true
		if b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(op.PublicKey, "ed25519:")); err != nil || len(b) != 32 {
			v.add(key+".public_key", "must be an Ed25519 public key as `gateguard keygen` prints it (ed25519:<base64 of 32 bytes>)")
		}
		if len(op.Allow) == 0 {
			v.add(key+".allow", "is required: an operator may run only the commands its allow lists (%s)", strings.Join(commandPerms, ", "))
		}
		for _, p := range op.Allow {
			if !slices.Contains(commandPerms, p) {
				v.add(key+".allow", "%q is not one of %s", p, strings.Join(commandPerms, ", "))
			}
		}
	}
}
