package mqtt

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gateguard/gateguard/configs/schema"
	"github.com/gateguard/gateguard/gate/mqtt/mqtttest"
	"github.com/gateguard/gateguard/gate/outbox"
)

// TestHomeAssistantDiscovery: the retained configs arrive on connect, are
// valid, expose no command, and are re-sent when Home Assistant says online.
func TestHomeAssistantDiscovery(t *testing.T) {
	b := mqtttest.Start(t, "")
	schemas, err := schema.Load()
	if err != nil {
		t.Fatal(err)
	}
	sub := mqtttest.Subscribe(t, b.URL, "homeassistant/#")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	p := New(Options{Broker: b.URL, ClientID: "gate-ha", Prefix: "gateguard/v1/plant.1/lane-1",
		KeepAlive: 5 * time.Second, ConnectTimeout: 2 * time.Second, Log: log}, outbox.NewMemory(1000))
	d := p.Discovery(DiscoveryOptions{Site: "plant.1", Gate: "lane-1", Version: "test", Log: log})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = p.Run(ctx) })
	wg.Go(func() { _ = d.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()

	want := []string{
		"homeassistant/binary_sensor/gateguard_plant_1_lane-1/connectivity/config",
		"homeassistant/binary_sensor/gateguard_plant_1_lane-1/fever/config",
		"homeassistant/sensor/gateguard_plant_1_lane-1/last_temperature/config",
		"homeassistant/sensor/gateguard_plant_1_lane-1/mode/config",
		"homeassistant/sensor/gateguard_plant_1_lane-1/turnstile/config",
	}
	round := func() {
		t.Helper()
		var got []string
		for len(got) < len(want) {
			select {
			case m := <-sub.C:
				if m.Topic == "homeassistant/status" {
					continue
				}
				if err := schemas.Validate(schema.HAConfig, m.Payload); err != nil {
					t.Errorf("%s: %v", m.Topic, err)
				}
				var cfg map[string]any
				if err := json.Unmarshal(m.Payload, &cfg); err != nil {
					t.Fatal(err)
				}
				for k := range cfg {
					if strings.HasPrefix(k, "command") || strings.HasPrefix(k, "payload_press") {
						t.Errorf("%s offers a command: %s", m.Topic, k)
					}
				}
				if st, _ := cfg["state_topic"].(string); !strings.HasPrefix(st, "gateguard/v1/plant.1/lane-1/") {
					t.Errorf("%s: state_topic %q", m.Topic, st)
				}
				got = append(got, m.Topic)
			case <-time.After(20 * time.Second):
				t.Fatalf("got only %v", got)
			}
		}
		sort.Strings(got)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("configs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	round()
	// Home Assistant restarts and announces itself.
	ha := mqtttest.Subscribe(t, b.URL, "homeassistant/none")
	if tok := ha.Client().Publish("homeassistant/status", 1, false, "online"); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	round()
	// They are retained: a late subscriber gets them all at once.
	late := mqtttest.Subscribe(t, b.URL, "homeassistant/+/+/+/config")
	for range want {
		select {
		case m := <-late.C:
			if !m.Retained {
				t.Errorf("%s not retained", m.Topic)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("retained configs missing")
		}
	}

	// The broker restarts and forgets the retained configs: the gate sends
	// them again when it reconnects, and subscribes to Home Assistant's
	// status again, so that a later "online" still brings them.
	b.Restart(t)
	again := mqtttest.Subscribe(t, b.URL, "homeassistant/+/+/+/config")
	distinct := func(what string, live bool) {
		t.Helper()
		seen := map[string]bool{}
		for len(seen) < len(want) {
			select {
			case m := <-again.C:
				if !live || !m.Retained {
					seen[m.Topic] = true
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("%s: got only %d configs", what, len(seen))
			}
		}
	}
	distinct("after the broker restarted", false)
	ha = mqtttest.Subscribe(t, b.URL, "homeassistant/none")
	if tok := ha.Client().Publish("homeassistant/status", 1, false, "online"); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	distinct("online after the broker restarted", true)
}
