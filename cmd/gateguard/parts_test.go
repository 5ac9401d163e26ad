package main

import (
	"context"
	"log/slog"
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/outbox"
	"github.com/gateguard/gateguard/vision"
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

// TestFrameObserversSeeTheCameraLoop: an onFrame observer sees the camera
// loop's observations, numbered as the frames are read.
func TestFrameObserversSeeTheCameraLoop(t *testing.T) {
	cfg, err := configs.Load("../../configs/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.MQTT.Enabled = false
	cfg.Credentials = configs.Credentials{Mode: "presence"}
	frames := make(chan uint64, 16)
	onFrame := func(o vision.Observation) {
		select {
		case frames <- o.Seq:
		default:
		}
	}
	d, err := build(cfg, slog.New(slog.DiscardHandler), parts{onFrame: []func(vision.Observation){onFrame}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.run(ctx, 0) }()
	var seqs [2]uint64
	guard := time.After(time.Minute) // a hang guard, not a timing check
	for i := range seqs {
		select {
		case seqs[i] = <-frames:
		case <-guard:
			stop()
			<-done
			t.Fatalf("onFrame saw %d frames in a minute of camera loop", i)
		}
	}
	first, second := seqs[0], seqs[1]
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if first != 1 || second != 2 {
		t.Errorf("observed frames %d, %d; want 1, 2", first, second)
	}
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
