package mqtt

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/mqtt/mqtttest"
	"github.com/gateguard/gateguard/gate/outbox"
)

// TestFailoverToSecondBroker runs a gate with two brokers (mqtt.brokers).
// The first is stopped while the durable outbox is being drained through
// it: the publisher must carry on through the second and, once the first is
// back with what it had acknowledged, every event must have reached a
// central subscriber of one or the other.
func TestFailoverToSecondBroker(t *testing.T) {
	first := mqtttest.Start(t, mqtttest.SessionConfig(t))
	second := mqtttest.Start(t, mqtttest.SessionConfig(t))
	const filter = "gateguard/v1/s/g/event/#"
	centralA := mqtttest.ConnectCentral(t, first.URL, "central-failover-a", filter)
	centralB := mqtttest.ConnectCentral(t, second.URL, "central-failover-b", filter)
	ob, err := outbox.Open(filepath.Join(t.TempDir(), "o.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ob.Close() })

	p := New(Options{Brokers: []string{first.URL, second.URL}, ClientID: "gate-failover", Prefix: "gateguard/v1/s/g",
		KeepAlive: 5 * time.Second, ConnectTimeout: 2 * time.Second, PublishTimeout: 5 * time.Second,
		Window: 4, RetryMin: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}, ob)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = p.Run(ctx)
	}()

	const n = 400
	recordEvents(t, ob, 1, n)
	// Stop the first broker mid-drain: after it has passed on 50 events.
	waitUntil(t, centralA, func(msgs []mqtttest.Message) bool { return len(msgs) >= 50 })
	first.Stop()
	waitEmpty(t, ob)
	cancel()
	<-done
	// The first broker comes back with its saved queue for central A.
	first.StartAgain(t)

	seqs := func(c *mqtttest.Central) map[uint64]bool {
		got := map[uint64]bool{}
		for _, m := range c.Messages() {
			var ev gate.Event
			if err := json.Unmarshal(m.Payload, &ev); err != nil {
				t.Fatalf("%s: %v", m.Topic, err)
			}
			got[ev.Seq] = true
		}
		return got
	}
	// Everything the first broker did not acknowledge went to the second,
	// so the second holds the last event; the first holds its acknowledged
	// share. Wait until the two together hold all n.
	waitFor(t, centralB, func(m mqtttest.Message) bool {
		var ev gate.Event
		return json.Unmarshal(m.Payload, &ev) == nil && ev.Seq == n
	})
	union := func() int {
		all := seqs(centralA)
		for s := range seqs(centralB) {
			all[s] = true
		}
		return len(all)
	}
	waitUntil(t, centralA, func([]mqtttest.Message) bool { return union() == n })
	a, b := seqs(centralA), seqs(centralB)
	if len(b) == 0 || len(b) == n {
		t.Errorf("second broker passed on %d of %d events: no failover mid-stream", len(b), n)
	}
	if s := p.Stats(); s.Published != n || s.Connects < 2 {
		t.Errorf("stats %+v: want %d published over at least 2 connections", s, n)
	}
	t.Logf("first broker: %d events, second: %d, union %d of %d", len(a), len(b), union(), n)
}
