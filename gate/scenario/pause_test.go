package scenario

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gateguard/gateguard/gate"
)

// alarmWorld answers a fire alarm at once, noting when.
type alarmWorld struct {
	events chan gate.Event
	at     []time.Time
}

func (w *alarmWorld) Arrive(*Arrival) error                          { return nil }
func (w *alarmWorld) Leave()                                         {}
func (w *alarmWorld) SetPassage(bool)                                {}
func (w *alarmWorld) SetExit(bool)                                   {}
func (w *alarmWorld) SetFireReset(bool)                              {}
func (w *alarmWorld) SetThermal(context.Context, *ThermalStep) error { return nil }
func (w *alarmWorld) Enroll(*Enrolment) error                        { return nil }
func (w *alarmWorld) SetFireAlarm(active bool) {
	if active {
		w.at = append(w.at, time.Now())
		w.events <- gate.Event{Kind: gate.KindFireAlarm, Decision: "opened"}
	}
}

// TestPause: the runner waits Pause after every step.
func TestPause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := &alarmWorld{events: make(chan gate.Event, 4)}
		r := &Runner{World: w, Events: w.events, Pause: 1500 * time.Millisecond}
		s := &Scenario{Steps: []Step{{Name: "a", FireAlarm: true}, {Name: "b", FireAlarm: true}}}
		start := time.Now()
		if _, err := r.Run(context.Background(), s); err != nil {
			t.Fatal(err)
		}
		if len(w.at) != 2 || w.at[1].Sub(w.at[0]) != 1500*time.Millisecond || time.Since(start) != 3*time.Second {
			t.Errorf("steps at %v (start %v), ended after %v", w.at, start, time.Since(start))
		}
	})
}
