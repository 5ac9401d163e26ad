package mqtt

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/mqtt/mqtttest"
	"github.com/gateguard/gateguard/gate/outbox"
)

// TestBrokerDownAtStartThenRestarted records events while the broker is
// down, starts it, restarts it mid-stream, and checks that a subscriber gets
// every event in order, and the retained availability.
func TestBrokerDownAtStartThenRestarted(t *testing.T) {
	port := mqtttest.FreePort(t)
	url := fmt.Sprintf("tcp://127.0.0.1:%d", port)
	ob := outbox.NewMemory(1000)
	record := func(from, to int) {
		for i := from; i <= to; i++ {
			err := ob.Record(gate.Message{Seq: uint64(i), ID: fmt.Sprint(i), Topic: gate.TopicAccess,
				Payload: fmt.Appendf(nil, `{"seq":%d}`, i)})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	record(1, 50) // the broker is not running yet
	p := New(Options{Broker: url, ClientID: "gate-test", Prefix: "gateguard/v1/s/g",
		KeepAlive: 5 * time.Second, ConnectTimeout: 2 * time.Second, PublishTimeout: 5 * time.Second,
		Info: []byte(`{"v":1}`), Log: slog.New(slog.NewTextHandler(io.Discard, nil))}, ob)
	p.SetState([]byte(`{"lane":"idle"}`))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()

	broker := mqtttest.StartOnPort(t, port, "")
	sub := mqtttest.Subscribe(t, url, "gateguard/v1/s/g/#")
	wctx, wcancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer wcancel()
	if err := ob.WaitEmpty(wctx); err != nil {
		t.Fatalf("outbox not drained: depth %d", ob.Depth())
	}
	broker.Restart(t)
	sub = mqtttest.Subscribe(t, url, "gateguard/v1/s/g/#")
	record(51, 100)
	if err := ob.WaitEmpty(wctx); err != nil {
		t.Fatalf("outbox not drained after restart: depth %d", ob.Depth())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The second subscriber joined after the restart: it must see 51..100 in
	// order (it may see earlier ones only if they were re-sent), the retained
	// availability "online" re-announced after the reconnect, then "offline".
	next := 51
	sawOnline, sawOffline := false, false
	for !sawOffline {
		select {
		case m := <-sub.C:
			switch m.Topic {
			case "gateguard/v1/s/g/event/access":
				var seq int
				fmt.Sscanf(string(m.Payload), `{"seq":%d}`, &seq)
				if seq == next {
					next++
				} else if seq > next {
					t.Fatalf("got seq %d, want %d", seq, next)
				}
			case "gateguard/v1/s/g/availability":
				sawOnline = sawOnline || string(m.Payload) == "online"
				sawOffline = string(m.Payload) == "offline"
			}
		case <-wctx.Done():
			t.Fatalf("subscriber: stopped at seq %d (online %v)", next, sawOnline)
		}
	}
	if next != 101 || !sawOnline {
		t.Errorf("last seq %d, online %v", next-1, sawOnline)
	}
}
