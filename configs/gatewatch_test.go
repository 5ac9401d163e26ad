package configs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestGatewatchExample(t *testing.T) {
	c, err := LoadGatewatch("gatewatch.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.StoreDriver() != "sqlite" || c.ClientID() != "gatewatch-plant-1" || c.Retention.Events != 90*24*time.Hour ||
		c.Retention.Snapshots != 30*24*time.Hour || c.Store.BatchSize != 500 || c.API.TokenFile != "/etc/gatewatch/api-token" {
		t.Fatalf("example: %+v", c)
	}
}

func TestGatewatchErrorsNameTheKey(t *testing.T) {
	const ok = "mqtt: {brokers: [tcp://127.0.0.1:1883]}\napi: {token_env: GW_TOKEN}\n"
	cases := []struct{ yaml, want string }{
		{ok + "retension: {events: 1h}\n", `line 3: unknown key "retension"`},
		{ok + "retention: {evnts: 1h}\n", `unknown key "retention.evnts"`},
		{"api: {token_env: X}\n", "mqtt.brokers: is required"},
		{"mqtt: {brokers: [tcp://h:1]}\n", "api: token_env or token_file is required"},
		{ok + "retention: {events: 1h}\n", "retention.events: 1h0m0s is outside"},
		{ok + "retention: {events: 240h, snapshots: 480h}\n", "retention.snapshots: 480h0m0s is longer than retention.events"},
		{ok + "store: {driver: mysql}\n", "store.driver"},
		{ok + "store: {driver: postgres}\n", "store.dsn: is required"},
		{ok + "store: {driver: sqlite, dsn: 'postgres://h/db'}\n", "store.driver: is sqlite but a DSN is set"},
		{ok + "store: {dsn: 'postgres://u:secret@h/db'}\n", "store.dsn: must not hold a password"},
		{ok + "store: {batch_size: 0}\n", "store.batch_size"},
		{"mqtt: {brokers: [tcp://h:1, tcp://h:1]}\napi: {token_env: X}\n", "mqtt.brokers[1]: \"tcp://h:1\" is listed twice"},
		{"mqtt: {brokers: [http://h:1]}\napi: {token_env: X}\n", "mqtt.brokers[0]: \"http://h:1\": scheme"},
		{"mqtt: {brokers: [tcp://h:1], password_env: P}\napi: {token_env: X}\n", "a password would go over a plain URL"},
		{"mqtt: {brokers: [tcp://h:1], prefix: 'a/#'}\napi: {token_env: X}\n", "mqtt.prefix"},
		{ok + "api: {listen: nope}\n", ""}, // duplicate key api: a parse error
		{"mqtt: {brokers: [tcp://h:1]}\napi: {listen: nope, token_env: X}\n", `api.listen: "nope" is not host:port`},
		{"site: 'a b'\n" + ok, "site"},
	}
	for _, c := range cases {
		_, err := ParseGatewatch([]byte(c.yaml), "gw.yaml")
		if err == nil {
			t.Errorf("%q: accepted", c.yaml)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "gw.yaml: ") {
			t.Errorf("%q: error %q, want it to contain %q", c.yaml, err, c.want)
		}
	}
	if _, err := ParseGatewatch([]byte(ok), "gw.yaml"); err != nil {
		t.Fatalf("minimal config: %v", err)
	}
}

func TestGatewatchToken(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "tok")
	if err := os.WriteFile(p, []byte("0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if tok, err := (GatewatchAPI{TokenFile: p}).Token(); err != nil || tok != "0123456789abcdef" {
		t.Fatalf("token %q, %v", tok, err)
	}
	if err := os.WriteFile(p, []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := (GatewatchAPI{TokenFile: p}).Token(); err == nil || !strings.Contains(err.Error(), "at least 16") {
		t.Fatalf("short token: %v", err)
	}
	t.Setenv("GW_TEST_TOKEN", "")
	if _, err := (GatewatchAPI{TokenEnv: "GW_TEST_TOKEN"}).Token(); err == nil || !strings.Contains(err.Error(), "api.token_env") {
		t.Fatalf("unset env: %v", err)
	}
}

// TestGatewatchEnrolment: console.enrolment's problems name the key; a
// good one gives the stations' keys and the default length.
func TestGatewatchEnrolment(t *testing.T) {
	const ok = "mqtt: {brokers: [tcp://127.0.0.1:1883]}\napi: {token_env: GW_TOKEN}\n"
	const pub = "ed25519:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	for _, c := range []struct{ yaml, want string }{
		{"console: {enrolment: {stations: [{id: d, public_key: '" + pub + "'}]}}\n", "console.enrolment.model: is required"},
		{"console: {enrolment: {model: m}}\n", "console.enrolment.stations: is required"},
		{"console: {enrolment: {model: m, dim: 9000, stations: [{id: d, public_key: '" + pub + "'}]}}\n", "console.enrolment.dim"},
		{"console: {enrolment: {model: m, stations: [{id: d, public_key: 'ed25519:AAEC'}]}}\n", "console.enrolment.stations[0].public_key: is not an Ed25519"},
		{"console: {enrolment: {model: m, stations: [{id: d, public_key: '" + pub + "'}, {id: d, public_key: '" + pub + "'}]}}\n",
			`console.enrolment.stations[1].id: "d" is listed twice`},
		{"console: {enrolment: {model: m, stations: [{id: 'a b', public_key: '" + pub + "'}]}}\n", "console.enrolment.stations[0].id"},
		{"console: {enrolment: {model: m, stations: [{id: d, pubkey: x}]}}\n", `unknown key "console.enrolment.stations[0].pubkey"`},
	} {
		_, err := ParseGatewatch([]byte(ok+c.yaml), "gw.yaml")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.yaml, err, c.want)
		}
	}
	g, err := ParseGatewatch([]byte(ok+"console: {enrolment: {model: m, stations: [{id: desk-1, public_key: '"+pub+"'}]}}\n"), "gw.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if e := g.Console.Enrolment; e.EnrolmentDim() != 128 || len(e.StationKeys()["desk-1"]) != 32 || e.StationKeys()["desk-1"][31] != 31 {
		t.Errorf("enrolment %+v keys %v", e, e.StationKeys())
	}
}
