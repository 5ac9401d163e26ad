package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gateguard/gateguard/configs"
)

// TestInsecurePasswordWarnsAtStart: a config that sends the broker password
// over a plain connection (mqtt.allow_insecure_password) is logged loudly
// when the daemon is built; a TLS broker or no password is not.
func TestInsecurePasswordWarnsAtStart(t *testing.T) {
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, password string
		warn           bool
	}{
		{"password over tcp", pw, true},
		{"no password", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := configs.Load("../../configs/demo.yaml")
			if err != nil {
				t.Fatal(err)
			}
			cfg.MQTT.PasswordFile, cfg.MQTT.AllowInsecurePassword = tc.password, true
			cfg.Outbox.Path = ""
			var out bytes.Buffer
			d, err := build(cfg, slog.New(slog.NewTextHandler(&out, nil)), parts{})
			if err != nil {
				t.Fatal(err)
			}
			d.close()
			if got := strings.Contains(out.String(), "level=WARN msg=\"INSECURE: the broker password"); got != tc.warn {
				t.Errorf("INSECURE warning logged: %v, want %v:\n%s", got, tc.warn, out.String())
			}
		})
	}
}
