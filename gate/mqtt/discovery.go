package mqtt

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/gateguard/gateguard/gate"
)

// DiscoveryOptions configures Home Assistant MQTT discovery.
type DiscoveryOptions struct {
	// Prefix is Home Assistant's discovery prefix ("homeassistant").
	Prefix string
	// Site and Gate name the device.
	Site, Gate string
	// Version is the daemon's version (the device's sw_version).
	Version string
	Log     *slog.Logger
}

// Discovery publishes retained Home Assistant discovery configs for a gate
// (a fever binary sensor, the last temperature, the turnstile lane, the
// operating mode and the gate's connectivity) on every connect and whenever
// <prefix>/status says "online". It offers no button or switch: Home
// Assistant cannot open the gate.
type Discovery struct {
	p    *Publisher
	o    DiscoveryOptions
	log  *slog.Logger
	sub  *subscription
	kick chan struct{} // publish the configs
}

// Discovery returns a discovery publisher on p's connection.
func (p *Publisher) Discovery(o DiscoveryOptions) *Discovery {
	if o.Prefix == "" {
		o.Prefix = "homeassistant"
	}
	if o.Log == nil {
		o.Log = p.log
	}
	d := &Discovery{p: p, o: o, log: o.Log.With("component", "homeassistant"), kick: make(chan struct{}, 1)}
	d.sub = p.newSubscription(d.StatusTopic(), func(_ paho.Client, m paho.Message) {
		if string(m.Payload()) == "online" {
			kick(d.kick) // never blocks
		}
	}, d.log)
	p.OnConnect(func() { kick(d.kick) })
	return d
}

// StatusTopic is Home Assistant's birth/last-will topic.
func (d *Discovery) StatusTopic() string { return d.o.Prefix + "/status" }

// Run subscribes to the status topic and publishes the configs on every
// connect and every "online", until ctx ends.
func (d *Discovery) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	// The status subscription is kept up (and retried) on its own, as
	// commands' is: without it Home Assistant restarting would not get the
	// configs again until the next reconnect.
	wg.Go(func() { _ = d.sub.run(ctx) })
	if d.p.client.IsConnectionOpen() {
		kick(d.kick)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-d.kick:
			d.publish(ctx)
		}
	}
}

func (d *Discovery) publish(ctx context.Context) {
	for _, c := range d.Configs() {
		if err := d.p.publishAbsolute(ctx, c.Topic, true, c.Payload); err != nil {
			d.log.Warn("discovery config not published", "topic", c.Topic, "err", err)
			return
		}
	}
	d.log.Debug("discovery configs published")
}

// Config is one retained discovery message.
type Config struct {
	Topic   string
	Payload []byte
}

// Configs returns the discovery messages for the gate.
func (d *Discovery) Configs() []Config {
	node := "gateguard_" + safeID(d.o.Site) + "_" + safeID(d.o.Gate)
	avail := d.p.topic(gate.TopicAvailability)
	device := map[string]any{
		"identifiers":  []string{node},
		"name":         "GateGuard " + d.o.Site + "/" + d.o.Gate,
		"manufacturer": "GateGuard",
		"model":        "gate controller",
		"sw_version":   d.o.Version,
	}
	base := func(object, name string) map[string]any {
		return map[string]any{
			"name":                  name,
			"unique_id":             node + "_" + object,
			"object_id":             node + "_" + object,
			"device":                device,
			"availability_topic":    avail,
			"payload_available":     "online",
			"payload_not_available": "offline",
		}
	}
	type entity struct {
		component, object string
		cfg               map[string]any
	}
	var es []entity
	add := func(component, object, name string, extra map[string]any) {
		c := base(object, name)
		for k, v := range extra {
			c[k] = v
		}
		es = append(es, entity{component, object, c})
	}
	// A fever alert turns it on; an "end" turns it off, and it turns itself
	// off after a minute (fever alerts are one-shot). Other alert types
	// render empty, which Home Assistant ignores.
	add("binary_sensor", "fever", "Fever", map[string]any{
		"device_class": "heat",
		"state_topic":  d.p.topic(gate.TopicAlert),
		"value_template": "{% if value_json.type == 'fever' %}" +
			"{{ 'OFF' if value_json.state == 'end' else 'ON' }}{% endif %}",
		"off_delay": 60,
	})
	// Events without a temperature render empty and are ignored.
	add("sensor", "last_temperature", "Last temperature", map[string]any{
		"device_class":        "temperature",
		"state_class":         "measurement",
		"unit_of_measurement": "°C",
		"state_topic":         d.p.topic(gate.TopicAccess),
		"value_template":      "{{ value_json.temperature.core_c if value_json.temperature is defined else '' }}",
	})
	add("sensor", "turnstile", "Turnstile", map[string]any{
		"device_class":   "enum",
		"options":        []string{gate.LaneIdle, gate.LaneChecking, gate.LaneOpen, gate.LaneFireAlarm},
		"state_topic":    d.p.topic(gate.TopicState),
		"value_template": "{{ value_json.lane }}",
	})
	add("sensor", "mode", "Mode", map[string]any{
		"device_class":   "enum",
		"options":        []string{string(gate.ModeNormal), string(gate.ModeLocked), string(gate.ModeFree), string(gate.ModeMaintenance)},
		"state_topic":    d.p.topic(gate.TopicState),
		"value_template": "{{ value_json.mode }}",
	})
	add("binary_sensor", "connectivity", "Connectivity", map[string]any{
		"device_class": "connectivity",
		"state_topic":  avail,
		"payload_on":   "online",
		"payload_off":  "offline",
	})
	out := make([]Config, 0, len(es))
	for _, e := range es {
		if e.object == "connectivity" {
			// Its state is the availability itself: it must show "off",
			// not "unavailable", when the gate is offline.
			delete(e.cfg, "availability_topic")
			delete(e.cfg, "payload_available")
			delete(e.cfg, "payload_not_available")
		}
		b, _ := json.Marshal(e.cfg) // maps of strings, numbers and slices: cannot fail
		out = append(out, Config{Topic: d.o.Prefix + "/" + e.component + "/" + node + "/" + e.object + "/config", Payload: b})
	}
	return out
}

// safeID maps a site or gate name to Home Assistant's node id alphabet.
func safeID(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			return r
		}
		return '_'
	}, s)
}
