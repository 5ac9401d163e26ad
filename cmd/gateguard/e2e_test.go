package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
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
	prefix := cfg.TopicPrefix()
	sub := mqtttest.Subscribe(t, broker.URL, prefix+"/#")
	schemas, err := schema.Load()
	if err != nil {
		t.Fatal(err)
	}

	sc, err := scenario.Load("../../configs/scenarios/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.Default()
	}
	events := make(chan gate.Event, 1024)
	d, err := build(cfg, log, options{onRecord: func(m gate.Message) {
		if m.Topic == gate.TopicAccess {
			var ev gate.Event
			if err := json.Unmarshal(m.Payload, &ev); err != nil {
				t.Errorf("recorded access event is not JSON: %v", err)
			}
			events <- ev
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	w, err := newWorld(d)
	if err != nil {
		t.Fatal(err)
	}
	relayPin := d.simPins[cfg.GPIO.Relay.Pin]
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.run(runCtx, 20*time.Second) }()
	results, err := (&scenario.Runner{World: w, Events: events, Log: log}).Run(runCtx, sc)
	stop()
	if derr := <-done; derr != nil {
		t.Errorf("daemon: %v", derr)
	}
	if err != nil {
		t.Fatalf("scenario: %v (results %+v)", err, results)
	}

	// Collect what the subscriber got, up to the offline availability the
	// daemon publishes as it stops.
	type got struct{ kind, decision, reasons, holder string }
	var access []got
	var alerts []string
	var seqs []uint64
	alertSnaps := map[string]string{} // alert type → the snapshot hash it names
	published := map[string]bool{}    // snapshot hashes published
	states := 0
	for done := false; !done; {
		select {
		case m := <-sub.C:
			rel := strings.TrimPrefix(m.Topic, prefix+"/")
			// Every message the daemon publishes follows its schema.
			if err := schemas.ValidateTopic(rel, m.Payload); err != nil {
				t.Errorf("%s %s: %v", rel, m.Payload, err)
			}
			switch rel {
			case gate.TopicAccess:
				var ev gate.Event
				mustJSON(t, m.Payload, &ev)
				access = append(access, got{ev.Kind, ev.Decision, joinR(ev.Reasons), ev.Holder})
				seqs = append(seqs, ev.Seq)
			case gate.TopicAlert:
				var a gate.Alert
				mustJSON(t, m.Payload, &a)
				alerts = append(alerts, a.Type+"/"+a.State)
				seqs = append(seqs, a.Seq)
				if a.Reading != nil && a.Reading.Snapshot != "" {
					alertSnaps[a.Type] = a.Reading.Snapshot
				}
			case gate.TopicState:
				states++
			case gate.SnapshotTopic(strings.TrimPrefix(rel, gate.TopicSnapshot+"/")):
				var sn gate.Snapshot
				mustJSON(t, m.Payload, &sn)
				if err := sn.Check(rel); err != nil {
					t.Error(err)
				}
				published[sn.Hash] = true
			case gate.TopicAvailability:
				done = string(m.Payload) == "offline"
			}
		case <-ctx.Done():
			t.Fatalf("subscriber did not see the daemon go offline; got %d access events", len(access))
		}
	}
	want := []got{
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
	// A rejected credential ends the attempt at once; whether the face or a
	// temperature was caught by then depends on frame timing, so only the
	// first reason is compared.
	for i, a := range access {
		if strings.HasPrefix(a.reasons, "credential_rejected,") {
			access[i].reasons = "credential_rejected"
		}
	}
	if !slices.Equal(access, want) {
		t.Errorf("access events:\n got %v\nwant %v", access, want)
	}
	wantAlerts := []string{"passback/new", "fever/new", "spoof/new", "fire_alarm/new", "fire_alarm/end"}
	if !slices.Equal(alerts, wantAlerts) {
		t.Errorf("alerts: got %v, want %v", alerts, wantAlerts)
	}
	for i, s := range seqs {
		if s != uint64(i+1) {
			t.Fatalf("sequence numbers not 1..N without gaps: %v", seqs)
		}
	}
	if states == 0 {
		t.Error("no retained state published")
	}
	// The fever and spoof alerts name their thermal pictures, and each was
	// published on snapshot/<hash>.
	for _, typ := range []string{gate.AlertFever, gate.AlertSpoof} {
		if h := alertSnaps[typ]; h == "" || !published[h] {
			t.Errorf("%s alert snapshot %q: published %v", typ, h, published[h])
		}
	}

	// The relay opened once per admission, exit and fire alarm, and ended
	// in its safe (locked, de-energised) state.
	hist := relayPin.History()
	opens := 0
	for i := 1; i < len(hist); i++ {
		if hist[i] == gpio.High && hist[i-1] == gpio.Low {
			opens++
		}
	}
	if opens != 5 {
		t.Errorf("relay opened %d times, want 5 (alice, frank, exit, fire, grace): %v", opens, hist)
	}
	if relayPin.Level() != gpio.Low {
		t.Errorf("relay left at %v after shutdown, want Low (locked)", relayPin.Level())
	}
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
