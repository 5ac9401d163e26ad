package scenario

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/gateguard/gateguard/gate"
)

// World is the simulated hardware a scenario drives.
type World interface {
	// Arrive shows a person to the cameras.
	Arrive(a *Arrival) error
	// Leave empties the scene.
	Leave()
	// SetPassage sets the turnstile's passage sensor.
	SetPassage(active bool)
	// SetExit presses or releases the exit button.
	SetExit(pressed bool)
	// SetFireAlarm raises or clears the fire alarm loop.
	SetFireAlarm(active bool)
	// SetFireReset turns the fire alarm reset key.
	SetFireReset(on bool)
	// SetThermal changes the thermal camera's scene and returns once the
	// gate has seen enough frames of it to settle.
	SetThermal(ctx context.Context, t *ThermalStep) error
	// Enroll enrols a person's face from a photo.
	Enroll(e *Enrolment) error
}

// Result is the outcome of one step.
type Result struct {
	Step     int
	Name     string
	Decision string
	Reasons  []gate.Reason
	// Mismatch says how the outcome differed from the step's expectation.
	Mismatch string
}

// Runner plays scenarios. Events must carry every access event the gate
// records, in order.
type Runner struct {
	World  World
	Events <-chan gate.Event
	Log    *slog.Logger
	// StepTimeout bounds the wait for each event; 30 s when zero.
	StepTimeout time.Duration
	// Pause waits this long after each step, so that people watching the
	// lane display can follow it; zero goes straight on.
	Pause time.Duration
}

// ErrMismatch reports steps whose outcome differed from their expectation.
var ErrMismatch = errors.New("scenario: outcome differs from expectation")

// Run plays s and returns the results; the error wraps ErrMismatch when
// any expectation failed, and reports a gate that stopped answering.
func (r *Runner) Run(ctx context.Context, s *Scenario) ([]Result, error) {
	log := r.Log
	if log == nil {
		log = slog.Default()
	}
	var results []Result
	mismatches := 0
	for i := range s.Steps {
		st := &s.Steps[i]
		log.Info("scenario step", "step", i+1, "name", st.Name)
		ev, err := r.step(ctx, s, st)
		if err != nil {
			return results, fmt.Errorf("scenario: step %d (%s): %w", i+1, st.Name, err)
		}
		res := Result{Step: i + 1, Name: st.Name, Decision: ev.Decision, Reasons: ev.Reasons}
		if st.Expect != "" && st.Expect != ev.Decision {
			res.Mismatch = fmt.Sprintf("decision %s, want %s", ev.Decision, st.Expect)
		}
		if st.ExpectReasons != nil && !sameReasons(st.ExpectReasons, ev.Reasons) {
			res.Mismatch += fmt.Sprintf(" reasons %v, want %v", ev.Reasons, st.ExpectReasons)
		}
		if res.Mismatch != "" {
			mismatches++
			log.Error("scenario step mismatch", "step", i+1, "name", st.Name, "mismatch", res.Mismatch)
		}
		results = append(results, res)
		if err := r.pause(ctx); err != nil {
			return results, fmt.Errorf("scenario: step %d (%s): %w", i+1, st.Name, err)
		}
	}
	if mismatches > 0 {
		return results, fmt.Errorf("%w: %d of %d steps", ErrMismatch, mismatches, len(s.Steps))
	}
	return results, nil
}

func sameReasons(want []string, got []gate.Reason) bool {
	g := make([]string, len(got))
	for i, r := range got {
		g[i] = string(r)
	}
	return slices.Equal(want, g)
}

// step performs one step and returns the event that answers it.
func (r *Runner) step(ctx context.Context, s *Scenario, st *Step) (gate.Event, error) {
	w := r.World
	switch {
	case st.Arrive != nil:
		a := *st.Arrive
		a.QRImage = s.resolve(a.QRImage)
		a.Face = s.resolveFace(a.Face)
		if err := w.Arrive(&a); err != nil {
			return gate.Event{}, err
		}
		defer w.Leave()
		ev, err := r.wait(ctx, gate.KindEntry)
		if err != nil || ev.Decision != "admitted" {
			return ev, err
		}
		return ev, r.passage(ctx, a.Walk)
	case st.ExitButton:
		w.SetExit(true)
		ev, err := r.wait(ctx, gate.KindExitButton)
		w.SetExit(false)
		if err != nil {
			return ev, err
		}
		return ev, r.passage(ctx, true)
	case st.FireAlarm:
		w.SetFireAlarm(true)
		return r.wait(ctx, gate.KindFireAlarm, "opened")
	case st.Enroll != nil:
		e := *st.Enroll
		e.Face = s.resolveFace(e.Face)
		return gate.Event{Kind: "enroll", Decision: "enrolled"}, w.Enroll(&e)
	case st.Thermal != nil:
		return gate.Event{Kind: "thermal", Decision: "applied"}, w.SetThermal(ctx, st.Thermal)
	case st.FireReset:
		w.SetFireAlarm(false)
		if _, err := r.wait(ctx, gate.KindFireAlarm, "cleared"); err != nil {
			return gate.Event{}, err
		}
		w.SetFireReset(true)
		ev, err := r.wait(ctx, gate.KindFireAlarm, "reset")
		w.SetFireReset(false)
		return ev, err
	}
	return gate.Event{}, errors.New("empty step")
}

// passage walks through an open lane (or not) and waits for the lane's
// passage event.
func (r *Runner) passage(ctx context.Context, walk bool) error {
	if walk {
		r.World.SetPassage(true)
		defer r.World.SetPassage(false)
	}
	_, err := r.wait(ctx, gate.KindPassage, "passed", "not_passed")
	return err
}

// wait returns the next access event of the given kind (and, when given, one
// of the decisions), skipping others.
func (r *Runner) wait(ctx context.Context, kind string, decisions ...string) (gate.Event, error) {
	timeout := r.StepTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return gate.Event{}, ctx.Err()
		case <-t.C:
			return gate.Event{}, fmt.Errorf("no %s %v event within %v", kind, decisions, timeout)
		case ev := <-r.Events:
			if ev.Kind == kind && (len(decisions) == 0 || slices.Contains(decisions, ev.Decision)) {
				return ev, nil
			}
		}
	}
}

// resolveFace resolves a face photo's path like resolve, leaving
// "gocv:NAME" (the gocv module's images) to the world.
func (s *Scenario) resolveFace(p string) string {
	if len(p) > 5 && p[:5] == "gocv:" {
		return p
	}
	return s.resolve(p)
}

func (s *Scenario) resolve(p string) string {
	if p == "" || p[0] == '/' || s.Dir == "" {
		return p
	}
	return s.Dir + "/" + p
}

// pause waits r.Pause, or until ctx ends.
func (r *Runner) pause(ctx context.Context) error {
	if r.Pause <= 0 {
		return nil
	}
	t := time.NewTimer(r.Pause)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
