package mqtt

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/configs/schema"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/mqtt/mqtttest"
	"github.com/gateguard/gateguard/gate/outbox"
)

// watchedSnaps is the durable outbox's snapshot store, reporting each
// deletion.
type watchedSnaps struct {
	*outbox.Durable
	deleted chan string
}

func (w *watchedSnaps) DeleteSnapshot(h string) error {
	err := w.Durable.DeleteSnapshot(h)
	w.deleted <- h
	return err
}

func startSnapPublisher(t *testing.T, url string, ob *outbox.Durable, snaps SnapshotSource, log *slog.Logger) (*Publisher, func()) {
	t.Helper()
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	p := New(Options{Broker: url, ClientID: "gate-snap", Prefix: "gateguard/v1/s/g",
		KeepAlive: 30 * time.Second, ConnectTimeout: time.Second, PublishTimeout: 500 * time.Millisecond,
		RetryMin: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond, Log: log, Snapshots: snaps}, ob)
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

// TestSnapshotPublishedAfterAlert runs the shipped broker config (its
// max_packet_size): the largest snapshot the gate publishes gets through,
// on snapshot/<hash>, QoS 1, not retained, valid against its schema, after
// the alert that names it; it is deleted from the outbox only then.
func TestSnapshotPublishedAfterAlert(t *testing.T) {
	broker := localBroker(t)
	sub := mqtttest.Subscribe(t, broker.URL, "gateguard/v1/s/g/#")
	ob, err := outbox.Open(filepath.Join(t.TempDir(), "o.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ob.Close() })
	img := make([]byte, gate.MaxSnapshotBytes) // incompressible: the worst case
	_, _ = rand.Read(img)
	hash := gate.SnapshotHash(img)
	if err := ob.PutSnapshot(hash, img); err != nil {
		t.Fatal(err)
	}
	alert, _ := json.Marshal(gate.Alert{V: 1, ID: "a-1", AlertID: "a-1", Seq: 1, Type: gate.AlertFever,
		Reading: &gate.Reading{Snapshot: hash}})
	if err := ob.Record(gate.Message{Seq: 1, ID: "a-1", Topic: gate.TopicAlert, Payload: alert}); err != nil {
		t.Fatal(err)
	}
	snaps := &watchedSnaps{Durable: ob, deleted: make(chan string, 1)}
	p, stop := startSnapPublisher(t, broker.URL, ob, snaps, nil)
	select {
	case h := <-snaps.deleted:
		if h != hash {
			t.Fatalf("deleted %s, want %s", h, hash)
		}
	case <-time.After(time.Minute):
		t.Fatal("snapshot never delivered")
	}
	stop()
	if left, _ := ob.PendingSnapshots(10); len(left) != 0 {
		t.Errorf("still pending after PUBACK: %v", left)
	}
	set, err := schema.Load()
	if err != nil {
		t.Fatal(err)
	}
	sawAlert := false
	timeout := time.After(time.Minute)
	for {
		var m mqtttest.Message
		select {
		case m = <-sub.C:
		case <-timeout:
			t.Fatal("the subscriber never got the snapshot")
		}
		rel := strings.TrimPrefix(m.Topic, "gateguard/v1/s/g/")
		if rel == gate.TopicAlert {
			sawAlert = true
		}
		if !strings.HasPrefix(rel, gate.TopicSnapshot+"/") {
			continue
		}
		if !sawAlert {
			t.Error("snapshot arrived before the alert naming it")
		}
		if m.Retained || m.QoS != 1 {
			t.Errorf("snapshot retained=%v QoS=%d, want false, 1", m.Retained, m.QoS)
		}
		if err := set.ValidateTopic(rel, m.Payload); err != nil {
			t.Error(err)
		}
		var s gate.Snapshot
		if err := json.Unmarshal(m.Payload, &s); err != nil {
			t.Fatal(err)
		}
		if err := s.Check(rel); err != nil || s.Site != "s" || s.Gate != "g" || s.Kind != gate.SnapshotThermal {
			t.Errorf("snapshot %s/%s %s: %v", s.Site, s.Gate, s.Kind, err)
		}
		if n := len(m.Topic) + len(m.Payload) + 16; n > configs.BrokerMaxPacketSize {
			t.Errorf("largest snapshot packet ~%d bytes exceeds max_packet_size %d", n, configs.BrokerMaxPacketSize)
		}
		break
	}
	if s := p.Stats(); s.Snapshots != 1 || s.Published != 1 {
		t.Errorf("stats %+v", s)
	}
}

// TestSnapshotKeptWithoutPuback freezes the broker: the snapshot is sent
// but never acknowledged, so it must stay in the outbox until the broker
// answers again, and then be delivered.
func TestSnapshotKeptWithoutPuback(t *testing.T) {
	broker := mqtttest.Start(t, "")
	ob, err := outbox.Open(filepath.Join(t.TempDir(), "o.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ob.Close() })
	watch := &logWatch{Handler: slog.NewTextHandler(io.Discard, nil), text: "connection dropped", seen: make(chan struct{}, 1)}
	snaps := &watchedSnaps{Durable: ob, deleted: make(chan string, 1)}
	_, stop := startSnapPublisher(t, broker.URL, ob, snaps, slog.New(watch))
	defer stop()
	recordEvents(t, ob, 1, 1)
	waitEmpty(t, ob) // connected and delivering
	broker.Pause(t)
	img := []byte("\x89PNG not really")
	hash := gate.SnapshotHash(img)
	if err := ob.PutSnapshot(hash, img); err != nil {
		t.Fatal(err)
	}
	select {
	case <-watch.seen:
	case <-time.After(time.Minute):
		t.Fatal("the publisher never gave up on the hung broker")
	}
	if left, _ := ob.PendingSnapshots(10); len(left) != 1 {
		t.Fatalf("pending without a PUBACK: %v, want the snapshot", left)
	}
	broker.Resume(t)
	select {
	case <-snaps.deleted:
	case <-time.After(time.Minute):
		t.Fatal("snapshot never delivered after the broker came back")
	}
}
