package configs

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestShippedFiles loads every config file the project ships.
func TestShippedFiles(t *testing.T) {
	files, _ := filepath.Glob("*.yaml")
	good, _ := filepath.Glob("testdata/good/*.yaml")
	files = append(files, good...)
	if len(files) < 4 {
		t.Fatalf("found only %v", files)
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			if strings.HasPrefix(filepath.Base(f), "gatewatch") {
				// gatewatch's config, not a gate's.
				if _, err := LoadGatewatch(f); err != nil {
					t.Fatal(err)
				}
				return
			}
			c, err := Load(f)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Hash) != 64 || c.Path != f {
				t.Errorf("hash %q path %q", c.Hash, c.Path)
			}
		})
	}
}

// TestRaspberryPiIsRealHardware: the installer's example drives real
// devices; a simulated part on a real gate would screen nobody.
func TestRaspberryPiIsRealHardware(t *testing.T) {
	c, err := Load("raspberrypi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for key, v := range map[string]string{"gpio.driver": c.GPIO.Driver, "camera.source": c.Camera.Source,
		"thermal.sensor": c.Thermal.Sensor} {
		if v == "simulated" {
			t.Errorf("raspberrypi.yaml: %s is simulated", key)
		}
	}
}

// TestBadFiles checks that each file under testdata/bad fails with exactly
// the messages in its .err file, in order.
func TestBadFiles(t *testing.T) {
	files, _ := filepath.Glob("testdata/bad/*.yaml")
	if len(files) == 0 {
		t.Fatal("no bad files")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			want, err := os.ReadFile(strings.TrimSuffix(f, ".yaml") + ".err")
			if err != nil {
				t.Fatal(err)
			}
			_, err = Load(f)
			if err == nil {
				t.Fatal("loaded without error")
			}
			got := strings.TrimPrefix(err.Error(), f+": ")
			if got != strings.TrimSpace(string(want)) {
				t.Errorf("errors:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestDefaultsApplied(t *testing.T) {
	c, err := Parse([]byte("site: a\ngate: b\ncredentials: {mode: presence}\n"), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.GPIO.Relay.Pulse != 200*time.Millisecond || c.Thermal.FeverC != 37.3 ||
		c.Policy.PassageTimeout != 5*time.Second || c.TopicPrefix() != "gateguard/v1/a/b" ||
		c.ClientID() != "gateguard-a-b" {
		t.Errorf("defaults not applied: %+v", c)
	}
}

func TestEmptyFileIsIncomplete(t *testing.T) {
	_, err := Parse(nil, "empty.yaml")
	if err == nil || !strings.Contains(err.Error(), "credentials.mode") {
		t.Fatalf("err = %v", err)
	}
}

func TestPassword(t *testing.T) {
	dir := t.TempDir()
	pf := filepath.Join(dir, "pw")
	if err := os.WriteFile(pf, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GG_TEST_PW", "fromenv")
	tests := []struct {
		name string
		m    MQTT
		want string
		err  bool
	}{
		{"none", MQTT{}, "", false},
		{"env", MQTT{PasswordEnv: "GG_TEST_PW", PasswordFile: pf}, "fromenv", false},
		{"env unset falls back to file", MQTT{PasswordEnv: "GG_UNSET_PW", PasswordFile: pf}, "s3cret", false},
		{"missing file", MQTT{PasswordFile: filepath.Join(dir, "nope")}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.m.Password()
			if (err != nil) != tt.err || got != tt.want {
				t.Errorf("Password() = %q, %v; want %q, err %v", got, err, tt.want, tt.err)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, p := range []string{"demo.yaml", "raspberrypi.yaml", "testdata/bad/ranges.yaml"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "fuzz.yaml")
		if err == nil {
			if verr := c.Validate(); verr != nil {
				t.Fatalf("Parse accepted a config that Validate rejects: %v", verr)
			}
		}
	})
}

func TestLoadResolvesPathsFromTheConfigFolder(t *testing.T) {
	dir := t.TempDir()
	yaml := "site: s\ngate: g\ncredentials: {mode: presence}\noutbox: {path: state/outbox.db}\n" +
		"mqtt: {broker: \"ssl://broker:8883\", password_file: /etc/gateguard/pw}\n"
	p := filepath.Join(dir, "gate.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ key, got, want string }{
		{"outbox.path", c.Outbox.Path, filepath.Join(dir, "state/outbox.db")},
		{"mqtt.password_file", c.MQTT.PasswordFile, "/etc/gateguard/pw"},
		{"thermal.calibration_file (unset)", c.Thermal.CalibrationFile, ""},
		{"resolving again changes nothing", c.Resolve(c.Outbox.Path), filepath.Join(dir, "state/outbox.db")},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %q, want %q", tt.key, tt.got, tt.want)
		}
	}
}

// TestBrokerConfigsLimitPacketSize: every broker config the project ships
// or generates, and the docs, set max_packet_size to BrokerMaxPacketSize,
// which leaves room for the largest command, its topic and header.
// gate/mqtt's TestBrokerRefusesOversizedMessages runs them on Mosquitto.
func TestBrokerConfigsLimitPacketSize(t *testing.T) {
	if BrokerMaxPacketSize < MaxCommandBytes+1024 {
		t.Fatalf("BrokerMaxPacketSize %d leaves no room for a %d-byte command's topic and header", BrokerMaxPacketSize, MaxCommandBytes)
	}
	want := "\nmax_packet_size " + strconv.Itoa(BrokerMaxPacketSize) + "\n"
	for _, f := range []string{"mosquitto.conf", "mosquitto-tls.conf", "../scripts/demo-mosquitto.sh", "../docs/mqtt.md"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), want) {
			t.Errorf("%s: no line %q", f, strings.TrimSpace(want))
		}
	}
}

// TestInsecurePassword: a broker password over a plain URL is refused,
// naming the key that holds it, unless mqtt.allow_insecure_password says
// otherwise; the daemon then warns at start (InsecurePassword).
func TestInsecurePassword(t *testing.T) {
	const base = "site: s\ngate: g\ncredentials: {mode: presence}\n"
	for _, tc := range []struct {
		name, mqtt, err string
		insecure        bool
	}{
		{"file over tcp", "{broker: tcp://b:1883, password_file: /pw}", "mqtt.password_file: would send the broker password in clear text", false},
		{"env over mqtt", "{broker: mqtt://b:1883, password_env: PW}", "mqtt.password_env: would send", false},
		{"env over ws", "{broker: ws://b:80, password_env: PW}", "mqtt.password_env: would send", false},
		{"allowed", "{broker: tcp://b:1883, password_file: /pw, allow_insecure_password: true}", "", true},
		{"tls", "{broker: ssl://b:8883, password_file: /pw}", "", false},
		{"wss", "{broker: wss://b:443, password_env: PW}", "", false},
		{"no password", "{broker: tcp://b:1883, username: s/g}", "", false},
		{"mqtt off", "{enabled: false, broker: tcp://b:1883, password_file: /pw}", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(base+"mqtt: "+tc.mqtt+"\n"), "x.yaml")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.MQTT.InsecurePassword(); got != tc.insecure {
				t.Errorf("InsecurePassword() = %v, want %v", got, tc.insecure)
			}
		})
	}
}

// TestRaspberryPiUsernameMatchesACL: with passwords, the broker's ACL
// (mosquitto-acl.conf) confines a gate by its username through %u
// patterns, so the example's mqtt.username must expand every pattern into
// the gate's own topics (it was "lane-1", which matches none).
func TestRaspberryPiUsernameMatchesACL(t *testing.T) {
	c, err := Load("raspberrypi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	acl, err := os.ReadFile("mosquitto-acl.conf")
	if err != nil {
		t.Fatal(err)
	}
	patterns := 0
	for _, line := range strings.Split(string(acl), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != "pattern" || !strings.Contains(f[2], "%u") {
			continue
		}
		patterns++
		topic := strings.ReplaceAll(f[2], "%u", c.MQTT.Username)
		if !strings.HasPrefix(topic, c.TopicPrefix()+"/") {
			t.Errorf("ACL %q with username %q is %q, outside the gate's %s/", line, c.MQTT.Username, topic, c.TopicPrefix())
		}
	}
	if patterns == 0 {
		t.Fatal("mosquitto-acl.conf has no %u pattern")
	}
}

// TestLaneKeys: display.* and tower.* are read as written.
func TestLaneKeys(t *testing.T) {
	c, err := Load("testdata/good/lane.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d, tw := c.Display, c.Tower
	if !d.Enabled || d.Language != "zh-Hans" || d.Hold != 4*time.Second || !d.Privacy.HideNames || d.Sound.Speech ||
		!slices.Equal(d.Sound.Mute, []string{"idle", "code_seen"}) {
		t.Errorf("display %+v", d)
	}
	if !tw.Enabled || tw.Buzzer == nil || !tw.Buzzer.ActiveLow || tw.Green.Pin != "GPIO5" || tw.SafeState != "red" ||
		tw.BuzzerMode != "always" || len(tw.Outputs()) != 4 {
		t.Errorf("tower %+v", tw)
	}
	def := Default()
	if def.Display.Enabled || def.Display.Listen != "127.0.0.1:8088" || def.Tower.Enabled || def.Tower.SafeState != "off" {
		t.Errorf("defaults: display %+v tower %+v", def.Display, def.Tower)
	}
}
