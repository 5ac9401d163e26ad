package configs

import (
	"slices"
	"testing"
)

// TestBrokerURLs checks that mqtt.broker is a one-item list and that
// mqtt.brokers replaces it, in order.
func TestBrokerURLs(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string
		tls        bool
	}{
		{"default", "", []string{DefaultBroker}, false},
		{"broker", "mqtt: {broker: \"ssl://b:8883\"}\n", []string{"ssl://b:8883"}, true},
		{"brokers", "mqtt: {brokers: [\"tcp://a:1883\", \"tcp://b:1883\"]}\n", []string{"tcp://a:1883", "tcp://b:1883"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte("site: s\ngate: g\ncredentials: {mode: presence}\n"+tc.yaml), "x.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if got := c.MQTT.BrokerURLs(); !slices.Equal(got, tc.want) {
				t.Errorf("BrokerURLs() = %q, want %q", got, tc.want)
			}
			if got := c.MQTT.UsesTLS(); got != tc.tls {
				t.Errorf("UsesTLS() = %v, want %v", got, tc.tls)
			}
		})
	}
}
