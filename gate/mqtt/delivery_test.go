package mqtt

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/mqtt/mqtttest"
	"github.com/gateguard/gateguard/gate/outbox"
)

type recorder interface {
	gate.Recorder
	Source
	WaitEmpty(context.Context) error
}

func recordEvents(t *testing.T, ob gate.Recorder, from, to uint64) {
	t.Helper()
	for seq := from; seq <= to; seq++ {
		ev := gate.Event{V: 1, ID: fmt.Sprintf("ev-%d", seq), Seq: seq, Kind: gate.KindEntry, Reasons: []gate.Reason{}}
		b, _ := json.Marshal(ev)
		if err := ob.Record(gate.Message{Seq: seq, ID: ev.ID, Topic: gate.TopicAccess, Payload: b}); err != nil {
			t.Fatal(err)
		}
	}
}

func runPublisher(t *testing.T, url string, src Source, window int) (*Publisher, func()) {
	p := New(Options{Broker: url, ClientID: "gate-" + strings.ReplaceAll(t.Name(), "/", "-"), Prefix: "gateguard/v1/s/g",
		KeepAlive: 5 * time.Second, ConnectTimeout: 2 * time.Second, PublishTimeout: 5 * time.Second,
		Window: window, RetryMin: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}, src)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = p.Run(ctx)
	}()
	return p, func() {
		cancel()
		<-done
	}
}

func waitEmpty(t *testing.T, ob recorder) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := ob.WaitEmpty(ctx); err != nil {
		t.Fatalf("outbox not drained: %v", err)
	}
}

// hidden hides everything but Source, to exercise the Peek/Ack fallback.
type hidden struct{ Source }

// TestReplayedFlagAndDepth checks, for the durable and memory outboxes and
// the plain-Source fallback, that events waiting when the connection opened
// arrive with "replayed": true and those recorded while connected with
// false, all in order, and that the retained state's outbox_depth follows
// the outbox down to 0.
func TestReplayedFlagAndDepth(t *testing.T) {
	for _, tc := range []struct {
		name   string
		open   func(t *testing.T) recorder
		plain  bool
		window int
	}{
		{"durable", func(t *testing.T) recorder {
			d, err := outbox.Open(filepath.Join(t.TempDir(), "o.db"), nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = d.Close() })
			return d
		}, false, 16},
		{"memory", func(*testing.T) recorder { return outbox.NewMemory(1000) }, false, 1},
		{"plain source", func(*testing.T) recorder { return outbox.NewMemory(1000) }, true, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			broker := mqtttest.Start(t, "")
			central := mqtttest.ConnectCentral(t, broker.URL, "central-"+strings.ReplaceAll(tc.name, " ", "-"), "gateguard/v1/s/g/#")
			ob := tc.open(t)
			recordEvents(t, ob, 1, 60) // before the publisher connects
			var src Source = ob
			if tc.plain {
				src = hidden{ob}
			}
			p, stop := runPublisher(t, broker.URL, src, tc.window)
			p.SetState([]byte(`{"v":1,"lane":"idle","outbox_depth":60}`))
			waitEmpty(t, ob)
			recordEvents(t, ob, 61, 100) // while connected
			waitEmpty(t, ob)
			// Wait for the last event and for the latest state to say the
			// outbox is empty (an earlier depth-0 state, after the first
			// drain, must not end the wait before events 61–100 arrive).
			waitUntil(t, central, func(msgs []mqtttest.Message) bool {
				got100, emptyNow := false, false
				for _, m := range msgs {
					switch {
					case strings.HasSuffix(m.Topic, "/event/access") && strings.Contains(string(m.Payload), `"seq":100,`):
						got100 = true
					case strings.HasSuffix(m.Topic, "/state"):
						emptyNow = strings.Contains(string(m.Payload), `"outbox_depth":0`)
					}
				}
				return got100 && emptyNow
			})
			stop()
			var next uint64 = 1
			lastDepth := -1
			for _, m := range central.Messages() {
				switch {
				case strings.HasSuffix(m.Topic, "/event/access"):
					var ev gate.Event
					if err := json.Unmarshal(m.Payload, &ev); err != nil {
						t.Fatal(err)
					}
					// Subscribed at QoS 1, the central gets what the gate
					// published at QoS 1 with 1: QoS 0 would arrive as 0.
					if m.QoS != 1 {
						t.Fatalf("seq %d arrived with QoS %d, want 1", ev.Seq, m.QoS)
					}
					if ev.Seq != next {
						t.Fatalf("got seq %d, want %d", ev.Seq, next)
					}
					if ev.Replayed != (ev.Seq <= 60) {
						t.Errorf("seq %d replayed=%v", ev.Seq, ev.Replayed)
					}
					next++
				case strings.HasSuffix(m.Topic, "/state"):
					var st gate.State
					if err := json.Unmarshal(m.Payload, &st); err != nil || st.Lane != "idle" {
						t.Fatalf("state %s: %v", m.Payload, err)
					}
					if m.QoS != 1 {
						t.Fatalf("state arrived with QoS %d, want 1", m.QoS)
					}
					lastDepth = st.OutboxDepth
				}
			}
			if next != 101 {
				t.Fatalf("central got events up to %d", next-1)
			}
			if lastDepth != 0 {
				t.Errorf("last state said outbox_depth %d, want 0", lastDepth)
			}
			if s := p.Stats(); s.Published != 100 || s.Replayed != 60 {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

// waitFor waits until central has received a message that satisfies ok.
func waitFor(t *testing.T, central *mqtttest.Central, ok func(mqtttest.Message) bool) {
	t.Helper()
	waitUntil(t, central, func(msgs []mqtttest.Message) bool {
		for _, m := range msgs {
			if ok(m) {
				return true
			}
		}
		return false
	})
}

// waitUntil waits until ok holds for everything central has received.
func waitUntil(t *testing.T, central *mqtttest.Central, ok func([]mqtttest.Message) bool) {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		if ok(central.Messages()) {
			return
		}
		select {
		case <-central.Notify():
		case <-timeout:
			t.Fatal("central never received the message waited for")
		}
	}
}

// logWatch is a slog handler that reports messages containing a text.
type logWatch struct {
	slog.Handler
	text string
	seen chan struct{}
}

func (w *logWatch) Handle(ctx context.Context, r slog.Record) error {
	if strings.Contains(r.Message, w.text) {
		select {
		case w.seen <- struct{}{}:
		default:
		}
	}
	return nil
}

func (w *logWatch) WithAttrs([]slog.Attr) slog.Handler { return w }

// TestHungBrokerTimesOutAndResends freezes the broker with publishes in
// flight: no PUBACK comes, so the publisher must give up on the connection
// after PublishTimeout, reconnect once the broker answers again, and resend
// from the oldest unacknowledged message, losing nothing.
func TestHungBrokerTimesOutAndResends(t *testing.T) {
	broker := mqtttest.Start(t, mqtttest.SessionConfig(t))
	central := mqtttest.ConnectCentral(t, broker.URL, "central-hung", "gateguard/v1/s/g/event/#")
	ob := outbox.NewMemory(1000)
	watch := &logWatch{Handler: slog.NewTextHandler(io.Discard, nil), text: "connection dropped", seen: make(chan struct{}, 1)}
	p := New(Options{Broker: broker.URL, ClientID: "gate-hung", Prefix: "gateguard/v1/s/g",
		KeepAlive: 30 * time.Second, ConnectTimeout: time.Second, PublishTimeout: 500 * time.Millisecond,
		Window: 8, RetryMin: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond, Log: slog.New(watch)}, ob)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = p.Run(ctx)
	}()
	defer func() {
		cancel()
		<-done
	}()
	recordEvents(t, ob, 1, 20)
	waitEmpty(t, ob)
	broker.Pause(t)
	recordEvents(t, ob, 21, 40)
	select {
	case <-watch.seen:
	case <-time.After(time.Minute):
		t.Fatal("the publisher never gave up on the hung broker")
	}
	if ob.Depth() == 0 {
		t.Fatal("messages were removed from the outbox without a PUBACK")
	}
	broker.Resume(t)
	waitEmpty(t, ob)
	waitFor(t, central, func(m mqtttest.Message) bool { return strings.Contains(string(m.Payload), `"seq":40,`) })
	seen := map[uint64]bool{}
	var last uint64
	for _, m := range central.Messages() {
		var ev gate.Event
		if err := json.Unmarshal(m.Payload, &ev); err != nil {
			t.Fatal(err)
		}
		if seen[ev.Seq] {
			continue // a resend
		}
		seen[ev.Seq] = true
		if ev.Seq < last {
			t.Errorf("seq %d after %d", ev.Seq, last)
		}
		last = ev.Seq
	}
	if len(seen) != 40 {
		t.Errorf("central got %d distinct events, want 40", len(seen))
	}
}
