package mqtt_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gateguard/gateguard/gate/mqtt"
	"github.com/gateguard/gateguard/gate/mqtt/mqtttest"
)

// TestProbe connects to a real Mosquitto, then to a port where nothing
// listens: the error names the broker.
func TestProbe(t *testing.T) {
	b := mqtttest.Start(t, "")
	ctx := context.Background()
	if err := mqtt.Probe(ctx, mqtt.Options{Broker: b.URL, ClientID: "probe", ConnectTimeout: 5 * time.Second}); err != nil {
		t.Fatalf("Probe %s: %v", b.URL, err)
	}
	dead := fmt.Sprintf("tcp://127.0.0.1:%d", mqtttest.FreePort(t))
	err := mqtt.Probe(ctx, mqtt.Options{Broker: dead, ClientID: "probe", ConnectTimeout: 2 * time.Second})
	if err == nil || !strings.Contains(err.Error(), dead) {
		t.Fatalf("Probe %s: %v, want an error naming it", dead, err)
	}
}
