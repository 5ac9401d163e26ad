package gate_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gateguard/gateguard/device/thermal"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/vision"
)

// screen is a fake fusion thermometer: each Measure returns the next of
// readings (the last repeats), and CheckFrame returns bbErr, as a blackbody
// check would.
type screen struct {
	mu       sync.Mutex // guards the fields below
	readings []gate.Reading
	errs     []error
	bbErr    error
	checked  int
}

func (s *screen) Measure(*thermal.Frame, vision.Face, image.Point) (gate.Reading, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.readings[0], s.errs[0]
	if len(s.readings) > 1 {
		s.readings, s.errs = s.readings[1:], s.errs[1:]
	}
	return r, err
}

func (s *screen) CheckFrame(*thermal.Frame) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checked++
	return s.bbErr
}

func (s *screen) set(bbErr error, rs ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bbErr, s.readings, s.errs = bbErr, nil, nil
	for _, x := range rs {
		switch v := x.(type) {
		case gate.Reading:
			s.readings, s.errs = append(s.readings, v), append(s.errs, nil)
		case error:
			s.readings, s.errs = append(s.readings, gate.Reading{}), append(s.errs, v)
		}
	}
}

// snaps is a fake Snapshotter.
type snaps struct{ saved []uint64 }

func (s *snaps) Save(tf *thermal.Frame) (string, error) {
	s.saved = append(s.saved, tf.Seq)
	return fmt.Sprintf("%064x", tf.Seq), nil
}

func screenHarness(t *testing.T, mutate func(*gate.Options)) (*harness, *screen, *snaps) {
	sc, sn := &screen{}, &snaps{}
	sc.set(nil, gate.Reading{SkinC: 36.5, CoreC: 36.5})
	h := newHarness(t, func(o *gate.Options) {
		o.Thermometer, o.Snapshots = sc, sn
		o.Policy.BorderlineC = 0.3
		if mutate != nil {
			mutate(o)
		}
	})
	return h, sc, sn
}

var frameSeq uint64

// frame hands the controller a new thermal frame with its own number.
func (h *harness) frame() {
	frameSeq++
	h.ctrl.Thermal(&thermal.Frame{W: 2, H: 2, C: []float32{36, 36, 36, 36}, Time: time.Now(), Seq: frameSeq})
	synctest.Wait()
}

func reading(skin, core float64) gate.Reading { return gate.Reading{SkinC: skin, CoreC: core} }

func TestScreeningDecisions(t *testing.T) {
	bbGone := fmt.Errorf("blackbody missing: %w", thermal.ErrUnavailable)
	tests := []struct {
		name    string
		bbErr   error
		results []any
		frames  int // frames offered, one observation after each
		mutate  func(*gate.Options)
		timeout bool
		want    []string
		measure int // readings combined in the event, 0: no reading
	}{
		{name: "normal", results: []any{reading(36.4, 36.4)}, frames: 1,
			want: []string{"entry:admitted:insecure_credential"}, measure: 1},
		{name: "fever", results: []any{reading(38.1, 38.1)}, frames: 1,
			want: []string{"entry:denied:fever", "alert:fever:new"}, measure: 1},
		{name: "borderline, confirmed normal on a second frame", results: []any{reading(37.1, 37.1), reading(37.0, 37.0)}, frames: 2,
			want: []string{"entry:admitted:insecure_credential"}, measure: 2},
		{name: "borderline, second frame reads fever", results: []any{reading(37.1, 37.1), reading(37.4, 37.4)}, frames: 2,
			want: []string{"entry:denied:fever", "alert:fever:new"}, measure: 2},
		{name: "borderline, higher first reading decides", results: []any{reading(37.25, 37.25), reading(36.9, 36.9)}, frames: 2,
			want: []string{"entry:admitted:insecure_credential"}, measure: 2},
		{name: "borderline, no second frame", results: []any{reading(37.1, 37.1)}, frames: 1, timeout: true,
			want: []string{"entry:denied:borderline_remeasure,check_timeout"}},
		{name: "borderline band off", results: []any{reading(37.1, 37.1)}, frames: 1,
			mutate: func(o *gate.Options) { o.Policy.BorderlineC = 0 },
			want:   []string{"entry:admitted:insecure_credential"}, measure: 1},
		{name: "cold arrival", results: []any{reading(33.2, 33.2)}, frames: 1,
			want: []string{"entry:denied:too_cold_remeasure"}, measure: 1},
		{name: "photo", results: []any{gate.Reading{SkinC: 24, CoreC: 24, NotSkin: "no region at skin temperature"}}, frames: 1,
			want: []string{"entry:denied:no_body_heat", "alert:spoof:new"}, measure: 1},
		{name: "warm screen", results: []any{gate.Reading{SkinC: 36.5, CoreC: 36.5, NotSkin: "uniform warm surface"}}, frames: 1,
			want: []string{"entry:denied:no_body_heat", "alert:spoof:new"}, measure: 1},
		{name: "too far, then measured", results: []any{fmt.Errorf("x: %w", thermal.ErrTooFar), reading(36.5, 36.5)}, frames: 2,
			want: []string{"entry:admitted:insecure_credential"}, measure: 1},
		{name: "too far until the timeout", results: []any{fmt.Errorf("x: %w", thermal.ErrTooFar)}, frames: 2, timeout: true,
			want: []string{"entry:denied:too_far_remeasure,check_timeout"}},
		{name: "too close until the timeout", results: []any{fmt.Errorf("x: %w", thermal.ErrTooClose)}, frames: 1, timeout: true,
			want: []string{"entry:denied:too_close_remeasure,check_timeout"}},
		{name: "turned away until the timeout", results: []any{fmt.Errorf("x: %w", thermal.ErrTurned)}, frames: 1, timeout: true,
			want: []string{"entry:denied:face_turned_remeasure,check_timeout"}},
		{name: "blackbody lost: fail mode deny", bbErr: bbGone, results: []any{bbGone}, frames: 1,
			want: []string{"alert:device_fault:new", "entry:denied:thermal_unavailable"}},
		{name: "blackbody lost: fail mode admit", bbErr: bbGone, results: []any{bbGone}, frames: 1,
			mutate: func(o *gate.Options) { o.Policy.ThermalFailOpen = true },
			want:   []string{"alert:device_fault:new", "entry:admitted:unscreened,insecure_credential"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h, sc, sn := screenHarness(t, tt.mutate)
				sc.set(tt.bbErr, tt.results...)
				h.observe("p", false)
				for range tt.frames {
					h.frame()
					h.observe("p", true)
				}
				if tt.timeout {
					time.Sleep(3 * time.Second)
					synctest.Wait()
				}
				h.want(tt.want...)
				var ev gate.Event
				for _, m := range h.rec.Messages() {
					if m.Topic == gate.TopicAccess {
						_ = json.Unmarshal(m.Payload, &ev)
					}
				}
				switch {
				case tt.measure == 0 && ev.Reading != nil:
					t.Errorf("event has a reading %+v", ev.Reading)
				case tt.measure > 0 && (ev.Reading == nil || ev.Reading.Measurements != tt.measure || ev.Reading.ThresholdC != 37.3):
					t.Errorf("event reading %+v, want %d measurements", ev.Reading, tt.measure)
				}
				// Fever and spoof alerts carry the thermal picture.
				fever := slices.Contains(ev.Reasons, gate.ReasonFever) || slices.Contains(ev.Reasons, gate.ReasonNoBodyHeat)
				if fever != (len(sn.saved) == 1) {
					t.Errorf("snapshots %v for reasons %v", sn.saved, ev.Reasons)
				} else if fever && ev.Reading.Snapshot != fmt.Sprintf("%064x", sn.saved[0]) {
					t.Errorf("event snapshot %q, saved %v", ev.Reading.Snapshot, sn.saved)
				}
				h.shutdown()
			})
		})
	}
}

func TestFeverAlertCarriesTheEvidence(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, sc, _ := screenHarness(t, nil)
		bb := 35.02
		sc.set(nil, gate.Reading{SkinC: 37.9, CoreC: 38.2, BlackbodyC: &bb, CalibrationID: "cal-20261127-7ce11c35", Region: "canthus"})
		h.frame()
		h.observe("bob", true)
		h.want("entry:denied:fever", "alert:fever:new")
		var a gate.Alert
		_ = json.Unmarshal(h.rec.Messages()[1].Payload, &a)
		r := a.Reading
		if r == nil || r.SkinC != 37.9 || r.CoreC != 38.2 || r.ThresholdC != 37.3 || r.BlackbodyC == nil ||
			r.CalibrationID != "cal-20261127-7ce11c35" || len(r.Snapshot) != 64 {
			t.Fatalf("alert reading %+v", r)
		}
		for _, s := range []string{"38.2 °C ≥ 37.3 °C", "skin 37.9 °C", "blackbody 35.02 °C", "cal-20261127-7ce11c35", "clinical thermometer"} {
			if !strings.Contains(a.Message, s) {
				t.Errorf("alert message %q lacks %q", a.Message, s)
			}
		}
		h.shutdown()
	})
}

// TestBlackbodyHealth checks that the blackbody is watched on every frame,
// not only during an attempt: a fault raises one alert and ends with one.
func TestBlackbodyHealth(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, sc, _ := screenHarness(t, nil)
		h.frame()
		sc.set(errors.New("blackbody unstable"), reading(36.5, 36.5))
		h.frame()
		h.frame()
		sc.set(nil, reading(36.5, 36.5))
		h.frame()
		h.want("alert:device_fault:new", "alert:device_fault:end")
		var a gate.Alert
		_ = json.Unmarshal(h.rec.Messages()[0].Payload, &a)
		if a.Device != gate.DeviceBlackbody || !strings.Contains(a.Message, "blackbody unstable") {
			t.Errorf("alert %+v", a)
		}
		if sc.checked != 4 {
			t.Errorf("checked %d frames, want 4", sc.checked)
		}
		h.shutdown()
	})
}

// TestThermalCameraFault: while the thermal camera is reported faulty (a
// corrupt EEPROM, a lost bus) an attempt goes to the thermal fail mode as
// soon as a face is seen, as for a lost blackbody, instead of waiting out
// the check timeout on a stale frame and denying for no_temperature.
func TestThermalCameraFault(t *testing.T) {
	for _, tt := range []struct {
		name   string
		mutate func(*gate.Options)
		want   []string
	}{
		{"fail mode deny", nil, []string{"alert:device_fault:new", "entry:denied:thermal_unavailable"}},
		{"fail mode admit", func(o *gate.Options) { o.Policy.ThermalFailOpen = true },
			[]string{"alert:device_fault:new", "entry:admitted:unscreened,insecure_credential"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h, _, _ := screenHarness(t, tt.mutate)
				h.frame()                   // the last frame before the camera failed,
				time.Sleep(2 * time.Second) // now stale (fake time)
				h.ctrl.DeviceHealth(context.Background(), gate.DeviceThermal, errors.New("mlx90640: EEPROM reads 0xffff"))
				synctest.Wait()
				h.observe("p", true)
				h.want(tt.want...)
				h.shutdown()
			})
		})
	}
}
