package configs_test

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// unitSettings reads a systemd unit file into section.Key → values.
func unitSettings(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string][]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			section = strings.Trim(line, "[]")
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("%s: %q is not KEY=value", path, line)
			}
			m[section+"."+k] = append(m[section+"."+k], v)
		}
	}
	return m
}

// TestServiceUnit keeps the unit what the field needs: a notify service
// with a watchdog, a dedicated user with device access through groups,
// its folders made by systemd, and a closed device policy allowing only
// the GPIO, I2C, SPI and camera nodes. systemd-analyze verifies it when
// installed (the binary's absence is the one complaint allowed).
func TestServiceUnit(t *testing.T) {
	u := unitSettings(t, "gateguard.service")
	for key, want := range map[string]string{
		"Service.Type": "notify", "Service.WatchdogSec": "30s", "Service.NotifyAccess": "main",
		"Service.User": "gateguard", "Service.SupplementaryGroups": "gpio i2c spi video",
		"Service.ConfigurationDirectory": "gateguard", "Service.StateDirectory": "gateguard",
		"Service.ProtectSystem": "strict", "Service.NoNewPrivileges": "yes", "Service.PrivateTmp": "yes",
		"Service.DevicePolicy": "closed", "Service.RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
		"Service.Restart": "on-failure",
	} {
		if got := strings.Join(u[key], ","); got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
	allowed := strings.Join(u["Service.DeviceAllow"], ",")
	for _, dev := range []string{"char-gpiochip rw", "char-i2c rw", "char-spi rw", "char-video4linux rw"} {
		if !strings.Contains(allowed, dev) {
			t.Errorf("DeviceAllow lacks %q (has %q)", dev, allowed)
		}
	}
	if len(u["Service.PrivateDevices"]) > 0 && u["Service.PrivateDevices"][0] != "no" {
		t.Error("PrivateDevices hides the GPIO and camera nodes")
	}
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze not installed: not verified")
		return
	}
	out, _ := exec.Command(sa, "verify", "gateguard.service").CombinedOutput()
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line != "" && !strings.Contains(line, "/usr/bin/gateguard is not executable") {
			t.Errorf("systemd-analyze verify: %s", line)
		}
	}
}
