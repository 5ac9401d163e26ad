package configs

import (
	"os"
	"path/filepath"
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
		"mqtt: {password_file: /etc/gateguard/pw}\n"
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
