package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/display"
	"github.com/gateguard/gateguard/gate/scenario"
)

// TestLaneFollowsTheLog runs the daemon through the demo scenario with the
// lane display on and the tower on simulated pins. Every entry decision the
// gate recorded reaches the display's event stream with the logged decision,
// in order; the tower lit green and red and pulsed its buzzer only for the
// alarm (the display plays the prompts); and every tower output ends off.
func TestLaneFollowsTheLog(t *testing.T) {
	cfg, err := configs.Load("../../configs/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.MQTT.Enabled = false
	cfg.Display.Enabled, cfg.Display.Listen = true, "127.0.0.1:0"
	sc, err := scenario.Load("../../configs/scenarios/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	events := make(chan gate.Event, 1024)
	var logged []gate.Event
	d, err := build(cfg, log, options{onRecord: func(m gate.Message) {
		var ev gate.Event
		if m.Topic == gate.TopicAccess && json.Unmarshal(m.Payload, &ev) == nil {
			if ev.Kind == gate.KindEntry {
				logged = append(logged, ev) // the controller's goroutine; read after run
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
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.run(runCtx, 0) }()

	resp, err := http.Get("http://" + d.lane.displayLn.Addr().String() + "/events")
	if err != nil {
		t.Fatal(err)
	}
	views := make(chan []display.View, 1)
	go func() {
		var vs []display.View
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var v display.View
				if json.Unmarshal([]byte(data), &v) == nil {
					vs = append(vs, v)
				}
			}
		}
		views <- vs // the stream ends when the daemon stops
	}()
	<-d.lane.display.Connected()
	if _, err := (&scenario.Runner{World: w, Events: events, Log: log}).Run(runCtx, sc); err != nil {
		t.Fatalf("scenario: %v", err)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("daemon: %v", err)
	}
	got := <-views
	resp.Body.Close()

	var decided []display.View
	for _, v := range got {
		if v.Event != "" {
			decided = append(decided, v)
		}
	}
	if len(logged) < 8 || len(decided) != len(logged) {
		t.Fatalf("the log has %d entry decisions, the display showed %d", len(logged), len(decided))
	}
	for i, ev := range logged {
		if decided[i].Event != ev.ID || decided[i].Decision != ev.Decision {
			t.Errorf("decision %d: display %s %s (%s), log %s %s", i, decided[i].Event, decided[i].Decision, decided[i].Kind, ev.ID, ev.Decision)
		}
		if (ev.Decision == "admitted") != (decided[i].Kind == "admitted") {
			t.Errorf("decision %d: logged %s, shown as %s", i, ev.Decision, decided[i].Kind)
		}
	}
	fire := false
	for _, v := range got {
		fire = fire || v.Kind == "fire_alarm"
	}
	if !fire {
		t.Error("the display never showed the fire alarm")
	}
	lit := func(pin string) bool {
		for _, l := range d.simPins[pin].History() {
			if l == gpio.High {
				return true
			}
		}
		return false
	}
	tc := cfg.Tower
	for _, o := range []*configs.Output{tc.Green, tc.Red, tc.Amber, tc.Buzzer} {
		if !lit(o.Pin) {
			t.Errorf("tower output %s never on", o.Pin)
		}
		if l := d.simPins[o.Pin].Level(); l != gpio.Low {
			t.Errorf("tower output %s is %v after shutdown, want off", o.Pin, l)
		}
	}
}
