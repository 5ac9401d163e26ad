package outbox_test

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

	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/gatetest"
	"github.com/gateguard/gateguard/gate/outbox"
	"github.com/gateguard/gateguard/vision"
)

type stateSink chan []byte

func (s stateSink) SetState(p []byte) {
	select {
	case s <- p:
	default:
	}
}

// TestGateOnFullOutbox runs the gate's controller on a durable outbox that
// fills up: the entry that cannot be recorded is denied, the state says why
// at once, and once the publisher has drained the outbox the next entry is
// admitted and the outbox alert is recorded (new, then end).
func TestGateOnFullOutbox(t *testing.T) {
	ob, err := outbox.Open(filepath.Join(t.TempDir(), "o.db"), &outbox.Opts{MaxEvents: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	turn := &gatetest.Turnstile{}
	lanes := make(chan string, 64)
	states := make(stateSink, 1024)
	ctrl, err := gate.New(gate.Options{Site: "s", Gate: "g", Turnstile: turn, Recorder: ob, State: states,
		Verifier: gate.PresenceVerifier, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnLane: func(l string) { lanes <- l }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = ctrl.Run(ctx)
	}()
	defer func() {
		cancel()
		<-done
	}()
	waitLane := func(want string) {
		t.Helper()
		for {
			select {
			case l := <-lanes:
				if l == want {
					return
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("lane never became %s", want)
			}
		}
	}
	enter := func(who, after string) {
		t.Helper()
		ctrl.Observe(vision.Observation{Time: time.Now(), Codes: []vision.Code{{Text: who}}})
		waitLane(gate.LaneChecking)
		waitLane(after)
		if after == gate.LaneOpen {
			ctrl.Input(ctx, gate.InputEvent{Kind: gate.InputPassage, Active: true})
			waitLane(gate.LaneIdle)
		}
	}
	enter("alice", gate.LaneOpen) // entry + passage: 2 records
	enter("bob", gate.LaneOpen)   // 4 records: the outbox is at outbox.max_events
	enter("dave", gate.LaneIdle)  // refused: denied
	if calls := turn.Calls(); !slices.Equal(calls, []string{"release", "secure", "release", "secure"}) {
		t.Fatalf("turnstile calls %v: dave must not pass", calls)
	}
	var last gate.State
	for len(states) > 0 {
		_ = json.Unmarshal(<-states, &last)
	}
	if !strings.Contains(last.Devices["outbox"], "full") {
		t.Errorf("state after the refused record: devices %v", last.Devices)
	}
	if err := ob.AckThrough(4); err != nil { // the publisher drained it
		t.Fatal(err)
	}
	enter("erin", gate.LaneOpen)
	msgs, err := ob.Peek(10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range msgs {
		var v struct{ Kind, Holder, Type, State, Message string }
		_ = json.Unmarshal(m.Payload, &v)
		got = append(got, m.Topic+":"+v.Kind+v.Holder+v.Type+":"+v.State)
		if v.Type == gate.AlertOutbox && v.State == gate.AlertNew && !strings.Contains(v.Message, "refused records") {
			t.Errorf("outbox alert message %q", v.Message)
		}
	}
	want := []string{"event/access:entryerin:", "event/alert:outbox:new", "event/alert:outbox:end", "event/access:passage:"}
	if !slices.Equal(got, want) {
		t.Errorf("recorded after draining:\n got %q\nwant %q", got, want)
	}
	if msgs[0].Seq != 5 {
		t.Errorf("numbering after the refusal starts at %d, want 5", msgs[0].Seq)
	}
}
