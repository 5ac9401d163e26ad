package main

import (
	"context"
	"log/slog"
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/outbox"
)

// TestServicesRunAndStopWithTheDaemon: a service plugged in through parts
// runs while the daemon does, sees its context end at shutdown, and is
// waited for: the relay is halted, and run returns, only after it has
// returned. It runs in a synctest bubble so that "run is still waiting" is
// observed, not guessed.
func TestServicesRunAndStopWithTheDaemon(t *testing.T) {
	cfg, err := configs.Load("../../configs/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.MQTT.Enabled = false
	cfg.Credentials = configs.Credentials{Mode: "presence"}
	synctest.Test(t, func(t *testing.T) {
		sims := &simHardware{}
		started, stopping, release := make(chan struct{}), make(chan struct{}), make(chan struct{})
		svc := service{name: "test", run: func(ctx context.Context) error {
			close(started)
			<-ctx.Done()
			close(stopping)
			<-release // still shutting down
			return nil
		}}
		d, err := build(cfg, slog.New(slog.DiscardHandler), parts{sim: sims, services: []service{svc}})
		if err != nil {
			t.Fatal(err)
		}
		relayPin := sims.pins[cfg.GPIO.Relay.Pin]
		ctx, stop := context.WithCancel(context.Background())
		var returned atomic.Bool
		done := make(chan error, 1)
		go func() {
			err := d.run(ctx, 0)
			returned.Store(true)
			done <- err
		}()
		<-started
		stop()
		<-stopping
		synctest.Wait() // every other goroutine has stopped, or is blocked
		before := len(relayPin.History())
		if returned.Load() {
			close(release)
			t.Fatal("run returned while a service was still stopping")
		}
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if h := relayPin.History(); len(h) <= before {
			t.Errorf("relay history %v: run did not halt the relay after the service returned", h)
		}
	})
}

// TestObservers: every record and lane observer is called, in order, and
// with none the recorder is the outbox itself.
func TestObservers(t *testing.T) {
	var got []string
	lane := fanOut([]func(string){
		func(l string) { got = append(got, "a:"+l) },
		func(l string) { got = append(got, "b:"+l) },
	})
	lane("checking")
	if want := []string{"a:checking", "b:checking"}; !slices.Equal(got, want) {
		t.Errorf("lane observers saw %v, want %v", got, want)
	}
	if fanOut(nil) != nil {
		t.Error("fanOut(nil) is not nil: the controller would call an empty func on every lane change")
	}
	rec := outbox.NewMemory(10)
	if observed(rec, nil) != gate.Recorder(rec) {
		t.Error("observed with no observers wraps the recorder")
	}
	got = nil
	r := observed(rec, []func(gate.Message){
		func(m gate.Message) { got = append(got, "a:"+m.ID) },
		func(m gate.Message) { got = append(got, "b:"+m.ID) },
	})
	if err := r.Record(gate.Message{Seq: 1, ID: "x"}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"a:x", "b:x"}; !slices.Equal(got, want) || rec.Depth() != 1 {
		t.Errorf("record observers saw %v (want %v); recorder has %d messages, want 1", got, want, rec.Depth())
	}
}
