package configs

import (
	"path/filepath"
	"strings"
	"testing"
)

// bcryptOK is a well-formed bcrypt hash (of "x", cost 4).
const bcryptOK = "$2a$04$G8o9yQ6r3l0cY4bUQ9xH6eM2xP1dE3tZyVqW8nL5kJ7hF6gS4aB2C"

// TestGatewatchBrokerErrorsNameTheKey checks each broker and gates
// problem, named by its key.
func TestGatewatchBrokerErrorsNameTheKey(t *testing.T) {
	const base = "site: plant-1\napi: {token_env: X}\n"
	gate := "gates: [{name: lane-1, password_hash: '" + bcryptOK + "'}]\n"
	for _, tc := range []struct{ yaml, want string }{
		{base + "broker: {enabled: true}\n", "gates: is empty"},
		{base + gate + "broker: {enabled: true, listen: nowhere}\n", `broker.listen: "nowhere" is not host:port`},
		{base + gate + "broker: {enabled: true, listen: '0.0.0.0:99999'}\n", "broker.listen"},
		{base + gate + "broker: {enabled: true, tls: {cert_file: c.pem}}\n", "broker.tls.cert_file: and broker.tls.key_file"},
		{base + gate + "broker: {enabled: true, tls: {client_ca_file: ca.pem}}\n", "broker.tls.client_ca_file"},
		{base + gate + "broker: {enabled: true, server_name: 'a b'}\n", "broker.server_name"},
		{base + "broker: {enabled: true}\ngates: [{name: 'lane 1', password_hash: '" + bcryptOK + "'}]\n", "gates[0].name"},
		{base + "broker: {enabled: true}\ngates: [{name: lane-1, password_hash: secret}]\n", "gates[0].password_hash: is not a bcrypt hash"},
		{base + "broker: {enabled: true}\ngates: [{name: lane-1, password_hash: '" + bcryptOK + "'}, {name: lane-1, site: plant-1, password_hash: '" + bcryptOK + "'}]\n",
			"gates[1].name: plant-1/lane-1 is already gates[0]"},
		{base + "broker: {enabled: true, port: 1}\n" + gate, `unknown key "broker.port"`},
	} {
		_, err := ParseGatewatch([]byte(tc.yaml), "gw.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want it to contain %q", tc.yaml, err, tc.want)
		}
	}
	c, err := ParseGatewatch([]byte(base+gate+"broker: {enabled: true}\n"), "gw.yaml")
	if err != nil {
		t.Fatalf("embedded broker without mqtt.brokers: %v", err)
	}
	if c.BrokerListen() != "0.0.0.0:1883" || c.BrokerServerName() != "gatewatch-plant-1" ||
		c.BrokerStoreDir() != filepath.Join(c.DataDir, "broker") || c.GateSite(c.Gates[0]) != "plant-1" {
		t.Errorf("defaults: %s %s %s", c.BrokerListen(), c.BrokerServerName(), c.BrokerStoreDir())
	}
}
