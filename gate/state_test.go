package gate_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gateguard/gateguard/configs/schema"
	"github.com/gateguard/gateguard/gate"
)

// stateSink keeps the last state payload.
type stateSink struct {
	mu   sync.Mutex // guards last
	last []byte
}

func (s *stateSink) SetState(b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last = append([]byte(nil), b...)
}

// TestStateHasOneBuilder: the state the get_state command returns is the
// payload the state topic carries, byte for byte, and it is valid against
// configs/schema/state.json.
func TestStateHasOneBuilder(t *testing.T) {
	schemas, err := schema.Load()
	if err != nil {
		t.Fatal(err)
	}
	synctest.Test(t, func(t *testing.T) {
		sink := &stateSink{}
		h := newHarness(t, func(o *gate.Options) { o.State = sink })
		h.ctrl.SetMode(context.Background(), gate.ModeLocked)
		h.input(gate.InputFireAlarm, true)
		got, err := h.ctrl.StatePayload(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		sink.mu.Lock()
		published := sink.last
		sink.mu.Unlock()
		if !bytes.Equal(got, published) {
			t.Errorf("get_state and the state topic differ:\n%s\n%s", got, published)
		}
		if err := schemas.ValidateTopic(gate.TopicState, got); err != nil {
			t.Errorf("state %s: %v", got, err)
		}
		h.shutdown()
	})
}

// TestStatePayload: a state built outside the controller (the synthetic
// load generator) gets the version, UTC time and a non-null devices map.
func TestStatePayload(t *testing.T) {
	at := time.Date(2026, 11, 27, 13, 0, 0, 0, time.FixedZone("CET", 3600))
	got := string(gate.State{Site: "s", Gate: "g", Time: at, Mode: gate.ModeNormal, Lane: gate.LaneIdle}.Payload())
	want := `{"v":1,"site":"s","gate":"g","time":"2026-11-27T12:00:00Z","mode":"normal","lane":"idle","fire_alarm":false,"devices":{},"outbox_depth":0}`
	if got != want {
		t.Errorf("payload\n got %s\nwant %s", got, want)
	}
}
