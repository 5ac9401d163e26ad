package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/configs/schema"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/mqtt/mqtttest"
	"github.com/gateguard/gateguard/gate/scenario"
)

// TestEndToEnd runs the daemon on simulated hardware through the demo
// scenario against a real Mosquitto, and checks what a subscriber receives
// and what the relay pin did.
func TestEndToEnd(t *testing.T) {
	broker := mqtttest.Start(t, "")
	cfg, err := configs.Load("../../configs/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.MQTT.Broker = broker.URL
	// A durable outbox, as on a real gate: the fever and spoof snapshots
	// travel in it (outbox.publish_snapshots is on by default).
	cfg.Outbox.Path = filepath.Join(t.TempDir(), "outbox.db")
	sub := mqtttest.Subscribe(t, broker.URL, cfg.TopicPrefix()+"/#")
	sc, err := scenario.Load("../../configs/scenarios/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sims := runScenario(t, cfg, sc, scenarioOpts{drain: 20 * time.Second})
	p := collectPublished(t, sub, cfg.TopicPrefix())
	want := []published{
		{"entry", "admitted", "", "alice"},
		{"passage", "passed", "", ""},
		{"entry", "denied", "credential_rejected", "alice"}, // anti-passback: the same pass again
		{"entry", "denied", "fever", "bob"},
		{"entry", "denied", "no_body_heat", "carol"},
		{"entry", "denied", "too_cold_remeasure", "dave"},
		{"entry", "denied", "no_face,check_timeout", "erin"},
		{"entry", "denied", "credential_rejected", ""}, // mallory: untrusted key, no holder shown
		{"entry", "admitted", "", "frank"},
		{"passage", "not_passed", "", ""},
		{"exit_button", "opened", "exit_button", ""},
		{"passage", "passed", "", ""},
		{"fire_alarm", "opened", "fire_alarm", ""},
		{"fire_alarm", "cleared", "fire_alarm", ""},
		{"fire_alarm", "reset", "fire_alarm", ""},
		{"entry", "admitted", "", "grace"},
		{"passage", "passed", "", ""},
	}
	if !slices.Equal(p.access, want) {
		t.Errorf("access events:\n got %v\nwant %v", p.access, want)
	}
	wantAlerts := []string{"passback/new", "fever/new", "spoof/new", "fire_alarm/new", "fire_alarm/end"}
	if !slices.Equal(p.alerts, wantAlerts) {
		t.Errorf("alerts: got %v, want %v", p.alerts, wantAlerts)
	}
	// The fever and spoof alerts name their thermal pictures, and each was
	// published on snapshot/<hash>.
	for _, typ := range []string{gate.AlertFever, gate.AlertSpoof} {
		if h := p.alertSnaps[typ]; h == "" || !p.snapshots[h] {
			t.Errorf("%s alert snapshot %q: published %v", typ, h, p.snapshots[h])
		}
	}
	for i, s := range p.seqs {
		if s != uint64(i+1) {
			t.Fatalf("sequence numbers not 1..N without gaps: %v", p.seqs)
		}
	}
	if p.states == 0 {
		t.Error("no retained state published")
	}
	// The relay opened once per admission, exit and fire alarm, and ended
	// in its safe (locked, de-energised) state.
	relayPin := sims.pins[cfg.GPIO.Relay.Pin]
	if opens := risingEdges(relayPin.History()); opens != 5 {
		t.Errorf("relay opened %d times, want 5 (alice, frank, exit, fire, grace): %v", opens, relayPin.History())
	}
	if relayPin.Level() != gpio.Low {
		t.Errorf("relay left at %v after shutdown, want Low (locked)", relayPin.Level())
	}
}

// published is an access event as a subscriber saw it.
type published struct{ kind, decision, reasons, holder string }

// subscriberView is what a subscriber received from the daemon.
type subscriberView struct {
	access []published
	alerts []string // type/state
	seqs   []uint64 // of events and alerts, in arrival order
	states int
	// alertSnaps maps an alert type to the snapshot hash it names;
	// snapshots holds the hashes published on snapshot/<hash>.
	alertSnaps map[string]string
	snapshots  map[string]bool
}

// collectPublished reads what the subscriber got, up to the offline
// availability the daemon publishes as it stops, and checks every message
// against its schema. A rejected credential ends the attempt at once;
// whether the face or a temperature was caught by then depends on frame
// timing, so only its first reason is kept.
func collectPublished(t *testing.T, sub *mqtttest.Subscriber, prefix string) subscriberView {
	t.Helper()
	schemas, err := schema.Load()
	if err != nil {
		t.Fatal(err)
	}
	v := subscriberView{alertSnaps: map[string]string{}, snapshots: map[string]bool{}}
	timeout := time.After(2 * time.Minute)
	for {
		select {
		case m := <-sub.C:
			rel := strings.TrimPrefix(m.Topic, prefix+"/")
			// Every message the daemon publishes follows its schema.
			if err := schemas.ValidateTopic(rel, m.Payload); err != nil {
				t.Errorf("%s %s: %v", rel, m.Payload, err)
			}
			if rel == gate.TopicAvailability && string(m.Payload) == "offline" {
				return v
			}
			v.add(t, rel, m.Payload)
		case <-timeout:
			t.Fatalf("subscriber did not see the daemon go offline; got %d access events", len(v.access))
		}
	}
}

// add takes one message published on topic rel.
func (v *subscriberView) add(t *testing.T, rel string, payload []byte) {
	switch rel {
	case gate.TopicAccess:
		var ev gate.Event
		mustJSON(t, payload, &ev)
		reasons := joinR(ev.Reasons)
		if strings.HasPrefix(reasons, "credential_rejected,") {
			reasons = "credential_rejected"
		}
		v.access = append(v.access, published{ev.Kind, ev.Decision, reasons, ev.Holder})
		v.seqs = append(v.seqs, ev.Seq)
	case gate.TopicAlert:
		var a gate.Alert
		mustJSON(t, payload, &a)
		v.alerts = append(v.alerts, a.Type+"/"+a.State)
		v.seqs = append(v.seqs, a.Seq)
		if a.Reading != nil && a.Reading.Snapshot != "" {
			v.alertSnaps[a.Type] = a.Reading.Snapshot
		}
	case gate.TopicState:
		v.states++
	case gate.SnapshotTopic(strings.TrimPrefix(rel, gate.TopicSnapshot+"/")):
		var sn gate.Snapshot
		mustJSON(t, payload, &sn)
		if err := sn.Check(rel); err != nil {
			t.Error(err)
		}
		v.snapshots[sn.Hash] = true
	}
}

// risingEdges counts Low→High steps in a pin's history.
func risingEdges(hist []gpio.Level) int {
	n := 0
	for i := 1; i < len(hist); i++ {
		if hist[i] == gpio.High && hist[i-1] == gpio.Low {
			n++
		}
	}
	return n
}

func mustJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("payload %s: %v", b, err)
	}
}

func joinR(rs []gate.Reason) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, ",")
}
