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

// laneRun is what a daemon on the demo scenario logged and showed.
type laneRun struct {
	logged []gate.Event // entry events, as recorded
	views  []display.View
	sims   *simHardware
}

// runWithDisplay plays the demo scenario on the daemon with the lane
// display on a free port, reading its event stream from before the first
// step to the daemon's end.
func runWithDisplay(t *testing.T, cfg *configs.Config) laneRun {
	t.Helper()
	sc, err := scenario.Load("../../configs/scenarios/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	events := make(chan gate.Event, 1024)
	run := laneRun{sims: &simHardware{}}
	record := func(m gate.Message) {
		var ev gate.Event
		if m.Topic == gate.TopicAccess && json.Unmarshal(m.Payload, &ev) == nil {
			if ev.Kind == gate.KindEntry {
				run.logged = append(run.logged, ev) // the controller's goroutine; read after run
			}
			events <- ev
		}
	}
	d, err := build(cfg, log, parts{sim: run.sims, onRecord: []func(gate.Message){record}})
	if err != nil {
		t.Fatal(err)
	}
	w, err := newWorld(cfg, run.sims)
	if err != nil {
		d.close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.run(runCtx, 0) }()
	views := readViews(t, "http://"+d.lane.displayLn.Addr().String()+"/events")
	<-d.lane.display.Connected()
	if _, err := (&scenario.Runner{World: w, Events: events, Log: log}).Run(runCtx, sc); err != nil {
		t.Fatalf("scenario: %v", err)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("daemon: %v", err)
	}
	run.views = <-views
	return run
}

// readViews reads a display's event stream until the server ends it.
func readViews(t *testing.T, url string) <-chan []display.View {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	views := make(chan []display.View, 1)
	go func() {
		defer resp.Body.Close()
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
		views <- vs
	}()
	return views
}

// TestLaneFollowsTheLog runs the daemon through the demo scenario with the
// lane display on and the tower on simulated pins. Every entry decision the
// gate recorded reaches the display's event stream with the logged decision,
// in order; the tower lit every output; and every tower output ends off.
func TestLaneFollowsTheLog(t *testing.T) {
	cfg, err := configs.Load("../../configs/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.MQTT.Enabled = false
	cfg.Display.Enabled, cfg.Display.Listen = true, "127.0.0.1:0"
	run := runWithDisplay(t, cfg)

	var decided []display.View
	fire := false
	for _, v := range run.views {
		if v.Event != "" {
			decided = append(decided, v)
		}
		fire = fire || v.Kind == "fire_alarm"
	}
	if len(run.logged) < 8 || len(decided) != len(run.logged) {
		t.Fatalf("the log has %d entry decisions, the display showed %d", len(run.logged), len(decided))
	}
	for i, ev := range run.logged {
		if decided[i].Event != ev.ID || decided[i].Decision != ev.Decision {
			t.Errorf("decision %d: display %s %s (%s), log %s %s", i, decided[i].Event, decided[i].Decision, decided[i].Kind, ev.ID, ev.Decision)
		}
		if (ev.Decision == "admitted") != (decided[i].Kind == "admitted") {
			t.Errorf("decision %d: logged %s, shown as %s", i, ev.Decision, decided[i].Kind)
		}
	}
	if !fire {
		t.Error("the display never showed the fire alarm")
	}
	tc := cfg.Tower
	for _, o := range []*configs.Output{tc.Green, tc.Red, tc.Amber, tc.Buzzer} {
		p := run.sims.pins[o.Pin]
		if risingEdges(p.History()) == 0 {
			t.Errorf("tower output %s never on", o.Pin)
		}
		if p.Level() != gpio.Low {
			t.Errorf("tower output %s is %v after shutdown, want off", o.Pin, p.Level())
		}
	}
}
