// Package lane turns the gate controller's lane signals into the one stream
// of lane states that everything facing the people at a lane follows: the
// lane display (gate/display) and the signal tower (device/tower). Both read
// the same Stream, and every state is derived here, in one place, from the
// decision the controller recorded, so the screen and the lights can never
// disagree with each other or with the entry log.
package lane

import (
	"slices"
	"time"

	"github.com/gateguard/gateguard/gate"
)

// Kind is what the lane is telling the person in front of it.
type Kind string

// Kinds of lane state.
const (
	Idle        Kind = "idle"        // show your pass
	CodeSeen    Kind = "code_seen"   // look at the camera
	Remeasure   Kind = "remeasure"   // step closer, face the camera, wait a moment (Reason says which)
	Admitted    Kind = "admitted"    // welcome (Name, TempC)
	Denied      Kind = "denied"      // please see security (Reason says why, plainly)
	Fever       Kind = "fever"       // please wait for staff
	FireAlarm   Kind = "fire_alarm"  // exit open, leave calmly
	Open        Kind = "open"        // the lane is open (exit button, remote open, free mode)
	Locked      Kind = "locked"      // lane closed
	Maintenance Kind = "maintenance" // out of service
)

// Kinds lists every kind, in the order above.
var Kinds = []Kind{Idle, CodeSeen, Remeasure, Admitted, Denied, Fever, FireAlarm, Open, Locked, Maintenance}

// State is one lane state. Decision and Event are those of the entry event
// the state shows (empty when it shows no decision).
type State struct {
	// Seq increases by one with every state a Stream publishes.
	Seq  uint64    `json:"seq"`
	Time time.Time `json:"time"`
	Kind Kind      `json:"kind"`
	// Reason is the reason shown to the person (one, the most useful);
	// Reasons are all of the decision's.
	Reason  gate.Reason   `json:"reason,omitempty"`
	Reasons []gate.Reason `json:"reasons,omitempty"`
	// Decision is "admitted" or "denied" as logged; Event is the entry
	// event's id.
	Decision string `json:"decision,omitempty"`
	Event    string `json:"event,omitempty"`
	// Name and TempC are shown on an admission (the display may hide them).
	Name  string   `json:"name,omitempty"`
	TempC *float64 `json:"temp_c,omitempty"`
}

// Outcome reports whether the state shows a decision (or a hint while
// checking) that should stay on screen for a while.
func (s State) Outcome() bool {
	switch s.Kind {
	case Admitted, Denied, Fever, Remeasure:
		return true
	}
	return false
}

// same reports whether two states show the same thing.
func same(a, b State) bool {
	return a.Kind == b.Kind && a.Reason == b.Reason && a.Event == b.Event && a.Name == b.Name &&
		a.Decision == b.Decision && slices.Equal(a.Reasons, b.Reasons)
}

// remeasure lists the reasons that ask the person to try again in a
// slightly different way, in the order they are shown.
var remeasure = []gate.Reason{
	gate.ReasonTooFar, gate.ReasonTooClose, gate.ReasonTurned, gate.ReasonPoorFace,
	gate.ReasonNoFace, gate.ReasonBorderline, gate.ReasonTooCold, gate.ReasonNoTemperature,
}

// shown orders the reasons of a denial: the first one present is the one
// the person is told. Problems a guard must solve come first, then those the
// person can fix by trying again; check_timeout only says when.
var shown = []gate.Reason{
	gate.ReasonFireAlarm, gate.ReasonLocked, gate.ReasonOutboxFailed, gate.ReasonCredential,
	gate.ReasonNoCredential, gate.ReasonFaceMismatch, gate.ReasonNoBodyHeat, gate.ReasonThermalUnhealthy,
	gate.ReasonTooFar, gate.ReasonTooClose, gate.ReasonTurned, gate.ReasonPoorFace, gate.ReasonNoFace,
	gate.ReasonBorderline, gate.ReasonTooCold, gate.ReasonNoTemperature, gate.ReasonCheckTimeout,
}

// Derive is the lane state a signal shows. Its Seq and Time are the
// Stream's to set.
func Derive(s gate.LaneSignal) State {
	if s.FireAlarm {
		return State{Kind: FireAlarm}
	}
	if ev := s.Entry; ev != nil {
		return decided(ev, s.Admitted)
	}
	switch {
	case s.Lane == gate.LaneChecking && s.Hint != "":
		return State{Kind: Remeasure, Reason: s.Hint}
	case s.Lane == gate.LaneChecking:
		return State{Kind: CodeSeen}
	case s.Lane == gate.LaneOpen || s.Mode == gate.ModeFree:
		return State{Kind: Open}
	case s.Mode == gate.ModeLocked:
		return State{Kind: Locked}
	case s.Mode == gate.ModeMaintenance:
		return State{Kind: Maintenance}
	}
	return State{Kind: Idle}
}

// decided is the state of a recorded entry decision.
func decided(ev *gate.Event, admitted bool) State {
	// Decision is the logged one. Only a logged admission that released
	// the lane is shown as a welcome: one whose relay failed is logged
	// admitted (with a relay fault) but the person must see security.
	st := State{Event: ev.ID, Reasons: slices.Clone(ev.Reasons), Decision: ev.Decision}
	if admitted && ev.Decision == "admitted" {
		st.Kind, st.Name = Admitted, ev.Holder
		// A fever logged only (fever_action: log) is never shown at the lane.
		if r := ev.Reading; r != nil && !slices.Contains(ev.Reasons, gate.ReasonFeverLogged) {
			t := r.CoreC
			st.TempC = &t
		}
		return st
	}
	if slices.Contains(ev.Reasons, gate.ReasonFever) && !slices.Contains(ev.Reasons, gate.ReasonFireAlarm) {
		st.Kind, st.Reason = Fever, gate.ReasonFever
		return st
	}
	st.Kind = Denied
	for _, r := range shown {
		if slices.Contains(ev.Reasons, r) {
			st.Reason = r
			break
		}
	}
	if st.Reason == "" && len(ev.Reasons) > 0 {
		st.Reason = ev.Reasons[0]
	}
	if slices.Contains(remeasure, st.Reason) {
		st.Kind = Remeasure
	}
	return st
}

// RemeasureReasons returns the reasons shown as a remeasure prompt (step
// closer, face the camera, wait a moment …).
func RemeasureReasons() []gate.Reason { return slices.Clone(remeasure) }
