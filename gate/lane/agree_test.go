package lane_test

import (
	"context"
	"encoding/json"
	"image"
	"testing"
	"testing/synctest"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/gateguard/gateguard/device/thermal"
	"github.com/gateguard/gateguard/device/tower"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/gatetest"
	"github.com/gateguard/gateguard/gate/lane"
	"github.com/gateguard/gateguard/vision"
)

// recTower records every pattern shown on a real tower.
type recTower struct {
	dev   *tower.Dev
	shown []tower.Pattern
}

func (r *recTower) Show(p tower.Pattern) error {
	r.shown = append(r.shown, p)
	return r.dev.Show(p)
}

// TestDisplayAndTowerAgreeWithTheLog drives a real controller through an
// admission, a denial, a fever and a fire alarm. The stream feeds a
// display-side subscriber and a tower on gpiotest pins; every recorded entry
// decision must reach both, with the logged decision, and the tower must
// show the pattern of each state, then end in its safe state at shutdown.
func TestDisplayAndTowerAgreeWithTheLog(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec, therm := &gatetest.Recorder{}, &gatetest.Thermometer{}
		stream := lane.New(lane.Options{Hold: 2 * time.Second, Log: quietLog()})
		ctrl, err := gate.New(gate.Options{
			Site: "s", Gate: "g",
			Policy:       gate.Policy{FeverC: 37.3, ColdC: 34.5, MinSkinC: 30, RequireFace: true, RequireTemperature: true},
			CheckTimeout: 3 * time.Second, PassageTimeout: 5 * time.Second,
			Turnstile: &gatetest.Turnstile{}, Recorder: rec, Verifier: gate.PresenceVerifier,
			Thermometer: therm, Log: quietLog(), LaneObserver: stream,
		})
		if err != nil {
			t.Fatal(err)
		}
		pins := []*gpiotest.Pin{{N: "G"}, {N: "R"}, {N: "A"}, {N: "B"}}
		o := tower.DefaultOpts
		o.Green, o.Red, o.Amber, o.Buzzer = tower.Output{Pin: pins[0]}, tower.Output{Pin: pins[1]}, tower.Output{Pin: pins[2]}, tower.Output{Pin: pins[3]}
		dev, err := tower.New(&o)
		if err != nil {
			t.Fatal(err)
		}
		tw := &recTower{dev: dev}

		ctx, cancel := context.WithCancel(context.Background())
		ctrlCtx, stopCtrl := context.WithCancel(context.Background())
		var done []chan struct{}
		start := func(f func()) {
			c := make(chan struct{})
			done = append(done, c)
			go func() { defer close(c); f() }()
		}
		display, _ := stream.Subscribe()
		shown := collect(display)
		start(func() { stream.Run(ctx) })
		start(func() { lane.DriveTower(ctx, stream, tw, quietLog()) })
		start(func() { _ = ctrl.Run(ctrlCtx) })
		synctest.Wait()

		arrive := func(code string, skin float64) {
			therm.Set(gate.Reading{SkinC: skin, CoreC: skin}, nil)
			ctrl.Thermal(&thermal.Frame{W: 2, H: 2, C: []float32{36, 36, 36, 36}, Time: time.Now()})
			synctest.Wait()
			ctrl.Observe(vision.Observation{Time: time.Now(), Size: image.Pt(640, 480),
				Codes: []vision.Code{{Text: code}}, Faces: []vision.Face{{Box: image.Rect(200, 100, 400, 300)}}})
			synctest.Wait()
			time.Sleep(6 * time.Second) // past the hold and the passage window
			synctest.Wait()
		}
		arrive("alice", 36.6)
		// Nobody at the camera: denied no_face after the check timeout.
		ctrl.Observe(vision.Observation{Time: time.Now(), Codes: []vision.Code{{Text: "carol"}}})
		synctest.Wait()
		time.Sleep(6 * time.Second)
		synctest.Wait()
		arrive("bob", 38.4)
		ctrl.Input(ctx, gate.InputEvent{Kind: gate.InputFireAlarm, Active: true})
		synctest.Wait()

		stopCtrl()
		<-done[2]
		cancel()
		<-done[0]
		<-done[1]
		synctest.Wait()
		if err := dev.Halt(); err != nil {
			t.Fatal(err)
		}

		// Every recorded entry decision, in order.
		var logged []gate.Event
		for _, m := range rec.Messages() {
			var ev gate.Event
			if m.Topic == gate.TopicAccess && json.Unmarshal(m.Payload, &ev) == nil && ev.Kind == gate.KindEntry {
				logged = append(logged, ev)
			}
		}
		if len(logged) != 3 {
			t.Fatalf("%d entry events, want 3", len(logged))
		}
		var decided []lane.State
		for _, st := range *shown {
			if st.Event != "" {
				decided = append(decided, st)
			}
		}
		if len(decided) != len(logged) {
			t.Fatalf("display showed %d decisions, the log has %d", len(decided), len(logged))
		}
		wantKinds := []lane.Kind{lane.Admitted, lane.Remeasure, lane.Fever}
		for i, ev := range logged {
			if decided[i].Event != ev.ID || decided[i].Decision != ev.Decision || decided[i].Kind != wantKinds[i] {
				t.Errorf("decision %d: display %s %s %s, log %s %s", i, decided[i].Kind, decided[i].Event, decided[i].Decision, ev.ID, ev.Decision)
			}
		}
		if last := (*shown)[len(*shown)-1]; last.Kind != lane.FireAlarm {
			t.Errorf("last state %s, want fire_alarm", last.Kind)
		}
		// The tower showed exactly the pattern of every state the display showed.
		if len(tw.shown) != len(*shown) {
			t.Fatalf("tower showed %d patterns for %d states", len(tw.shown), len(*shown))
		}
		for i, st := range *shown {
			if tw.shown[i] != lane.Pattern(st) {
				t.Errorf("state %d %s: tower %s, want %s", i, st.Kind, tw.shown[i], lane.Pattern(st))
			}
		}
		want := []tower.Pattern{tower.Off, tower.Checking, tower.Admitted, tower.Off, tower.Checking,
			tower.Remeasure, tower.Off, tower.Checking, tower.Fever, tower.Off, tower.Alarm}
		if len(tw.shown) != len(want) {
			t.Errorf("tower patterns %v, want %v", tw.shown, want)
		}
		for i := range min(len(want), len(tw.shown)) {
			if tw.shown[i] != want[i] {
				t.Errorf("tower patterns %v, want %v", tw.shown, want)
				break
			}
		}
		for _, p := range pins {
			if p.Read() != gpio.Low {
				t.Errorf("%s still on after shutdown", p.N)
			}
		}
	})
}
