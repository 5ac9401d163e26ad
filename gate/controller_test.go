package gate_test

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"log/slog"
	"math"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gateguard/gateguard/device/thermal"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/gatetest"
	"github.com/gateguard/gateguard/vision"
)

// harness runs a controller inside a synctest bubble.
type harness struct {
	t     *testing.T
	ctrl  *gate.Controller
	turn  *gatetest.Turnstile
	rec   *gatetest.Recorder
	therm *gatetest.Thermometer
	stop  context.CancelFunc
	done  chan struct{}
	lanes []string
}

func newHarness(t *testing.T, mutate func(*gate.Options)) *harness {
	h := &harness{t: t, turn: &gatetest.Turnstile{}, rec: &gatetest.Recorder{}, therm: &gatetest.Thermometer{}}
	o := gate.Options{
		Site: "s", Gate: "g",
		Policy:         gate.Policy{FeverC: 37.3, ColdC: 34.5, MinSkinC: 30, RequireFace: true, RequireTemperature: true},
		CheckTimeout:   3 * time.Second,
		PassageTimeout: 5 * time.Second,
		RepeatSuppress: 10 * time.Second,
		Turnstile:      h.turn,
		Recorder:       h.rec,
		Verifier:       gate.PresenceVerifier,
		Thermometer:    h.therm,
		Log:            slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnLane:         func(l string) { h.lanes = append(h.lanes, l) },
	}
	if mutate != nil {
		mutate(&o)
	}
	c, err := gate.New(o)
	if err != nil {
		t.Fatal(err)
	}
	h.ctrl = c
	ctx, cancel := context.WithCancel(context.Background())
	h.stop, h.done = cancel, make(chan struct{})
	go func() {
		defer close(h.done)
		_ = c.Run(ctx)
	}()
	synctest.Wait()
	return h
}

func (h *harness) shutdown() {
	h.stop()
	<-h.done
}

// thermal hands the controller a fresh thermal frame.
func (h *harness) thermal() {
	f := &thermal.Frame{W: 2, H: 2, C: []float32{36, 36, 36, 36}, Time: time.Now()}
	h.ctrl.Thermal(f)
	synctest.Wait()
}

func (h *harness) observe(code string, face bool) {
	o := vision.Observation{Time: time.Now(), Size: image.Pt(640, 480)}
	if code != "" {
		o.Codes = []vision.Code{{Text: code}}
	}
	if face {
		o.Faces = []vision.Face{{Box: image.Rect(200, 100, 400, 300)}}
	}
	h.ctrl.Observe(o)
	synctest.Wait()
}

func (h *harness) input(k gate.InputKind, active bool) {
	h.ctrl.Input(context.Background(), gate.InputEvent{Kind: k, Active: active})
	synctest.Wait()
}

// events returns "kind:decision:reasons" for access events and
// "alert:type:state" for alerts, in record order, checking sequence numbers.
func (h *harness) events() []string {
	var out []string
	for i, m := range h.rec.Messages() {
		if m.Seq != uint64(i+1) {
			h.t.Fatalf("message %d has seq %d", i, m.Seq)
		}
		switch m.Topic {
		case gate.TopicAccess:
			var ev gate.Event
			if err := json.Unmarshal(m.Payload, &ev); err != nil {
				h.t.Fatal(err)
			}
			if ev.Seq != m.Seq || ev.ID != m.ID {
				h.t.Fatalf("payload seq/id %d/%s differ from record %d/%s", ev.Seq, ev.ID, m.Seq, m.ID)
			}
			rs := make([]string, len(ev.Reasons))
			for i, r := range ev.Reasons {
				rs[i] = string(r)
			}
			out = append(out, ev.Kind+":"+ev.Decision+":"+strings.Join(rs, ","))
		case gate.TopicAlert:
			var a gate.Alert
			if err := json.Unmarshal(m.Payload, &a); err != nil {
				h.t.Fatal(err)
			}
			out = append(out, "alert:"+a.Type+":"+a.State)
		}
	}
	return out
}

func (h *harness) want(want ...string) {
	h.t.Helper()
	if got := h.events(); !slices.Equal(got, want) {
		h.t.Errorf("events:\n got %q\nwant %q", got, want)
	}
}

func (h *harness) wantCalls(want ...string) {
	h.t.Helper()
	if got := h.turn.Calls(); !slices.Equal(got, want) {
		h.t.Errorf("turnstile calls %q, want %q", got, want)
	}
}

func TestAdmitAndPass(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, nil)
		h.therm.Set(gate.Reading{SkinC: 36.5, CoreC: 36.5}, nil)
		h.observe("alice", false) // credential first; face comes later
		h.thermal()
		h.observe("alice", true)
		h.wantCalls("release")
		h.input(gate.InputPassage, true)
		h.want("entry:admitted:insecure_credential", "passage:passed:")
		h.wantCalls("release", "secure")
		if !slices.Equal(h.lanes, []string{"checking", "open", "idle"}) {
			t.Errorf("lanes %v", h.lanes)
		}
		h.shutdown()
	})
}

func TestPassageTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, nil)
		h.therm.Set(gate.Reading{SkinC: 36.5, CoreC: 36.5}, nil)
		h.thermal()
		h.observe("alice", true)
		time.Sleep(5 * time.Second) // fake time in the bubble: the passage window ends
		synctest.Wait()
		h.want("entry:admitted:insecure_credential", "passage:not_passed:")
		h.shutdown()
	})
}

func TestFeverDeniesAndAlerts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, nil)
		h.therm.Set(gate.Reading{SkinC: 38.2, CoreC: 38.2}, nil)
		h.thermal()
		h.observe("bob", true)
		h.want("entry:denied:fever", "alert:fever:new")
		h.wantCalls()
		var a gate.Alert
		_ = json.Unmarshal(h.rec.Messages()[1].Payload, &a)
		if !strings.Contains(a.Message, "clinical thermometer") || a.Reading == nil || a.Reading.ThresholdC != 37.3 {
			t.Errorf("fever alert %+v", a)
		}
		// The same code is suppressed: no second attempt.
		h.observe("bob", true)
		h.want("entry:denied:fever", "alert:fever:new")
		h.shutdown()
	})
}

func TestStaleThermalFrameIsNotUsed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, nil)
		h.therm.Set(gate.Reading{SkinC: 36.5, CoreC: 36.5}, nil)
		h.thermal() // taken before the credential was seen
		time.Sleep(time.Millisecond)
		h.observe("carol", true)
		h.want() // still waiting for a thermal frame of this person
		h.thermal()
		h.observe("carol", true)
		h.want("entry:admitted:insecure_credential")
		h.shutdown()
	})
}

func TestCheckTimeoutWithoutFace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, nil)
		h.observe("erin", false)
		time.Sleep(3 * time.Second)
		synctest.Wait()
		h.want("entry:denied:no_face,check_timeout")
		h.wantCalls()
		h.shutdown()
	})
}

func TestUnwritableOutboxDenies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, nil)
		h.therm.Set(gate.Reading{SkinC: 36.5, CoreC: 36.5}, nil)
		h.rec.Fail(true)
		h.thermal()
		h.observe("alice", true)
		h.wantCalls() // nobody passes without a record
		h.rec.Fail(false)
		h.shutdown()
	})
}

func TestFireAlarmLatchesUntilReset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, nil)
		h.input(gate.InputFireAlarm, true)
		h.observe("alice", true) // ignored: the lane is held open
		h.input(gate.InputFireReset, true)
		h.input(gate.InputFireReset, false) // refused: the alarm is still active
		h.input(gate.InputFireAlarm, false)
		h.input(gate.InputFireReset, true)
		h.want("fire_alarm:opened:fire_alarm", "alert:fire_alarm:new",
			"fire_alarm:cleared:fire_alarm", "fire_alarm:reset:fire_alarm", "alert:fire_alarm:end")
		h.wantCalls("free", "secure")
		h.shutdown()
		// Shutdown secures the lane again (it was not latched any more).
		h.wantCalls("free", "secure", "secure")
	})
}

func TestFireAlarmDuringCheckDenies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, nil)
		h.observe("alice", false)
		h.input(gate.InputFireAlarm, true)
		h.want("entry:denied:no_face,fire_alarm", "fire_alarm:opened:fire_alarm", "alert:fire_alarm:new")
		h.shutdown()
		h.wantCalls("free") // a latched alarm keeps the lane free on shutdown
	})
}

func TestExitButton(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, nil)
		h.input(gate.InputExitButton, true)
		h.input(gate.InputExitButton, false)
		h.input(gate.InputPassage, true)
		h.want("exit_button:opened:exit_button", "passage:passed:")
		h.wantCalls("release", "secure")
		h.shutdown()
	})
}

func TestLockedModeDenies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, nil)
		h.ctrl.SetMode(context.Background(), gate.ModeLocked)
		synctest.Wait()
		h.therm.Set(gate.Reading{SkinC: 36.5, CoreC: 36.5}, nil)
		h.thermal()
		h.observe("alice", true)
		h.want("mode_change:locked:", "entry:denied:gate_locked")
		h.shutdown()
	})
}

func TestDeviceFaultLifecycle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, nil)
		h.ctrl.Observe(vision.Observation{Err: io.ErrUnexpectedEOF})
		synctest.Wait()
		h.ctrl.Observe(vision.Observation{Err: io.ErrUnexpectedEOF}) // same fault: no new alert
		synctest.Wait()
		h.observe("", false) // the camera is back
		h.want("alert:device_fault:new", "alert:device_fault:end")
		h.shutdown()
	})
}

// slowVerifier answers only when its context ends (an online check that hangs).
var slowVerifier = gate.VerifierFunc(func(ctx context.Context, code vision.Code) gate.Credential {
	<-ctx.Done()
	return gate.Credential{Status: gate.StatusTimedOut, Reasons: []string{ctx.Err().Error()}}
})

func TestHangingVerifierNeverHoldsUpTheFireAlarm(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, func(o *gate.Options) { o.Verifier = slowVerifier })
		h.observe("alice", true)
		h.input(gate.InputFireAlarm, true) // handled at once, while the check hangs
		h.wantCalls("free")
		h.want("entry:denied:credential_rejected,no_temperature,fire_alarm", "fire_alarm:opened:fire_alarm", "alert:fire_alarm:new")
		h.shutdown()
	})
}

func TestVerifierTimeoutDenies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, func(o *gate.Options) { o.Verifier = slowVerifier })
		h.therm.Set(gate.Reading{SkinC: 36.5, CoreC: 36.5}, nil)
		h.thermal()
		h.observe("alice", true)
		time.Sleep(3 * time.Second) // fake clock: the check timeout ends
		synctest.Wait()
		h.want("entry:denied:credential_rejected,check_timeout")
		var ev gate.Event
		_ = json.Unmarshal(h.rec.Messages()[0].Payload, &ev)
		if ev.Credential == nil || ev.Credential.Status != gate.StatusTimedOut {
			t.Errorf("credential %+v, want timed_out", ev.Credential)
		}
		h.wantCalls()
		h.shutdown()
	})
}

func TestPoorFaceIsNotMeasured(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, nil)
		h.therm.Set(gate.Reading{SkinC: 36.5, CoreC: 36.5}, nil)
		h.thermal()
		turned := vision.Face{Box: image.Rect(200, 100, 400, 300),
			Quality: vision.Quality{Assessed: true, Reasons: []string{"yaw 40° > 15°"}}}
		h.ctrl.Observe(vision.Observation{Time: time.Now(), Size: image.Pt(640, 480),
			Codes: []vision.Code{{Text: "alice"}}, Faces: []vision.Face{turned}})
		synctest.Wait()
		h.want()                    // waits for a better face
		time.Sleep(3 * time.Second) // fake clock: none comes before the check timeout
		synctest.Wait()
		h.want("entry:denied:face_quality_remeasure,check_timeout")
		h.wantCalls()
		h.shutdown()
	})
}

func TestFeverAlertsAreRateLimitedPerPerson(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, func(o *gate.Options) {
			o.AlertWindow = time.Minute
			o.RepeatSuppress = time.Second
		})
		h.therm.Set(gate.Reading{SkinC: 38.2, CoreC: 38.2}, nil)
		attempt := func(who string, then time.Duration) {
			h.thermal()
			h.observe(who, true)
			time.Sleep(then) // fake clock
		}
		attempt("bob", 10*time.Second)   // t=0: new
		attempt("carol", 10*time.Second) // t=10: another person is never held back
		attempt("bob", 20*time.Second)   // t=20: counted, rate-limited
		attempt("bob", 20*time.Second)   // t=40: counted
		attempt("bob", 0)                // t=60: a window after bob's new: one update
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		var got []string
		ids := map[string]string{}
		for _, m := range h.rec.Messages() {
			if m.Topic != gate.TopicAlert {
				continue
			}
			var a gate.Alert
			if err := json.Unmarshal(m.Payload, &a); err != nil {
				t.Fatal(err)
			}
			if prev, ok := ids[a.Holder]; ok && prev != a.AlertID {
				t.Errorf("%s's alert id changed within its lifecycle", a.Holder)
			}
			ids[a.Holder] = a.AlertID
			got = append(got, fmt.Sprintf("%s:%s:%d", a.Holder, a.State, a.Count))
		}
		want := []string{"bob:new:1", "carol:new:1", "bob:update:4", "carol:end:1", "bob:end:4"}
		if !slices.Equal(got, want) {
			t.Errorf("alerts:\n got %v\nwant %v", got, want)
		}
		if ids["bob"] == ids["carol"] {
			t.Error("two people share an alert")
		}
		entries := 0
		for _, e := range h.events() {
			if strings.HasPrefix(e, "entry:denied:fever") {
				entries++
			}
		}
		if entries != 5 {
			t.Errorf("%d fever entry events, want 5 (rate limiting thins alerts, not the entry log)", entries)
		}
		h.shutdown()
	})
}

func TestPassbackViolationsAlert(t *testing.T) {
	tests := []struct {
		name string
		cred gate.Credential
		want []string
	}{
		{"hard or timed: denied", gate.Credential{Status: gate.StatusAntiPassback, Verified: true, Holder: "ann"},
			[]string{"entry:denied:credential_rejected", "alert:passback:new"}},
		{"soft: admitted and alerted", gate.Credential{Status: gate.StatusGreen, Verified: true, Holder: "ann",
			Reasons: []string{gate.PassbackSoftReason + ": used 20s ago"}},
			[]string{"entry:admitted:", "alert:passback:new"}},
		{"no violation", gate.Credential{Status: gate.StatusGreen, Verified: true, Holder: "ann"},
			[]string{"entry:admitted:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t, func(o *gate.Options) {
					o.Verifier = gate.VerifierFunc(func(context.Context, vision.Code) gate.Credential { return tt.cred })
				})
				h.therm.Set(gate.Reading{SkinC: 36.5, CoreC: 36.5}, nil)
				h.thermal()
				h.observe("pass", true)
				h.want(tt.want...)
				h.shutdown()
			})
		})
	}
}

// TestNonFiniteReadingIsNoReading: a thermometer returning NaN denies
// thermal_unavailable at once, and the event carries no temperature (a NaN
// cannot be published as JSON).
func TestNonFiniteReadingIsNoReading(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, nil)
		h.therm.Set(gate.Reading{SkinC: 36.5, CoreC: math.NaN()}, nil)
		h.thermal()
		h.observe("alice", true)
		h.want("entry:denied:thermal_unavailable")
		h.wantCalls()
		var ev gate.Event
		if err := json.Unmarshal(h.rec.Messages()[0].Payload, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Reading != nil {
			t.Errorf("event carries the non-finite reading %+v", ev.Reading)
		}
		h.shutdown()
	})
}
