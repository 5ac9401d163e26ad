package configs

import (
	"strings"
	"testing"
)

func TestHealthCodeTimeoutShorterThanCheckTimeout(t *testing.T) {
	base := "site: a\ngate: b\ncredentials:\n  mode: verified\n  accept: [health_code]\n" +
		"  health_code:\n    url: https://health.example.org/verify\n    offline: colour_only\n"
	for _, tc := range []struct {
		name, extra string
		bad         bool
	}{
		{"default 2s under 3s", "", false},
		{"equal", "    timeout: 3s\n", true},
		{"longer", "    timeout: 10s\n", true},
		{"longer than a raised check timeout", "    timeout: 10s\npolicy: {check_timeout: 12s}\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(base+tc.extra), "x.yaml")
			got := err != nil && strings.Contains(err.Error(), "credentials.health_code.timeout")
			if got != tc.bad {
				t.Errorf("bad = %v, want %v (err %v)", got, tc.bad, err)
			}
		})
	}
}
