package mqtt

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gateguard/gateguard/gate/mqtt/mqtttest"
)

func TestTLSConfigErrors(t *testing.T) {
	ca := mqtttest.NewCA(t, "ca")
	cl := ca.Client(t, "plant-1/lane-1")
	junk := filepath.Join(t.TempDir(), "junk.pem")
	if err := os.WriteFile(junk, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		f    TLSFiles
		want string
	}{
		{"missing CA file", TLSFiles{CAFile: "/nonexistent/ca.pem"}, "ca_file"},
		{"CA file without a certificate", TLSFiles{CAFile: junk}, "no PEM certificate"},
		{"cert without key", TLSFiles{CAFile: ca.CertFile, CertFile: cl.CertFile}, "together"},
		{"key does not match", TLSFiles{CAFile: ca.CertFile, CertFile: cl.CertFile, KeyFile: ca.Client(t, "x").KeyFile}, "client certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := TLSConfig(tt.f)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	c, err := TLSConfig(TLSFiles{CAFile: ca.CertFile, CertFile: cl.CertFile, KeyFile: cl.KeyFile, ServerName: "broker"})
	if err != nil {
		t.Fatal(err)
	}
	if c.InsecureSkipVerify || c.RootCAs == nil || len(c.Certificates) != 1 || c.ServerName != "broker" {
		t.Errorf("config %+v", c)
	}
}
