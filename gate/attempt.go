package gate

import (
	"context"
	"fmt"
	"time"

	"github.com/gateguard/gateguard/vision"
)

// One attempt: a credential seen, its verification, the face and temperature
// gathered for it, the decision, and the opening that follows.

func (c *Controller) onObservation(ctx context.Context, o vision.Observation) {
	if o.Err != nil {
		c.onHealth(deviceHealth{"camera", o.Err})
		return
	}
	if c.devices["camera"] != "ok" {
		c.onHealth(deviceHealth{"camera", nil})
	}
	now := c.o.Now()
	if c.lane == LaneIdle {
		code, ok := c.newCode(o.Codes, now)
		switch {
		case ok:
			// The attempt starts when the code's frame was taken (o.Time),
			// not when the frame is handed over after detection: a thermal
			// frame taken in between shows the person at the gate.
			seen := now
			if !o.Time.IsZero() && o.Time.Before(now) {
				seen = o.Time
			}
			c.startAttempt(ctx, code, now, seen)
		case !c.startFaceOnly(o, now):
			return
		}
	}
	if c.lane != LaneChecking {
		return
	}
	c.gather(o, now)
	c.hintChanged()
	if c.complete() {
		c.finish(false)
	}
}

// newCode returns the first code not decided on within RepeatSuppress.
func (c *Controller) newCode(codes []vision.Code, now time.Time) (vision.Code, bool) {
	for k, until := range c.attempts {
		if now.After(until) {
			delete(c.attempts, k)
		}
	}
	for _, code := range codes {
		if code.Text == "" {
			continue
		}
		if _, seen := c.attempts[code.Text]; !seen {
			return code, true
		}
	}
	return vision.Code{}, false
}

func (c *Controller) startAttempt(ctx context.Context, code vision.Code, now, seen time.Time) {
	a := &attempt{id: newID(), code: code, started: seen}
	if c.o.Verifier != nil {
		// Verification may call an online service: it runs beside the loop,
		// bounded by the check timeout, so inputs (the fire alarm above all)
		// are never held up by it.
		a.pending = true
		vctx, cancel := context.WithTimeout(ctx, c.o.CheckTimeout)
		c.verifies.Add(1)
		go func() {
			defer c.verifies.Done()
			defer cancel()
			v := verdictFor{attempt: a.id, cred: c.o.Verifier.Verify(vctx, code)}
			select {
			case c.verified <- v:
			case <-ctx.Done():
			}
		}()
	} else {
		a.cred = Credential{Status: StatusCheckFailed, Kind: "unverified", Holder: code.Text,
			Reasons: []string{"no credential verifier configured"}}
	}
	c.att = a
	c.deadline = now.Add(c.o.CheckTimeout)
	c.log.Debug("credential seen", "attempt", a.id)
	c.setLane(LaneChecking)
}

// onVerified takes a credential verdict for the current attempt.
func (c *Controller) onVerified(v verdictFor) {
	if c.att == nil || c.att.id != v.attempt {
		return // the attempt ended (timeout, fire alarm) before its verdict
	}
	c.att.cred, c.att.pending = v.cred, false
	c.log.Debug("credential verified", "attempt", v.attempt, "holder", v.cred.Holder, "status", v.cred.Status)
	if c.complete() {
		c.finish(false)
	}
}

// gather takes the holder's face (faces.go) and, with a fresh thermal
// frame, its temperature from an observation, and counts the faces in the
// checking zone.
func (c *Controller) gather(o vision.Observation, now time.Time) {
	a := c.att
	i, ok := c.bindHolder(o)
	c.countZone(o, i, ok, now)
	a.faceNow = false // set again below if this frame shows the holder, good enough
	if !ok {
		return
	}
	face := o.Faces[i]
	if q := face.Quality; q.Assessed && !q.Good {
		// Too small, blurred or turned away: wait for a better frame, and
		// say why if none comes.
		a.poorFace = true
		c.log.Debug("face not good enough", "attempt", a.id, "why", q.Reasons)
		return
	}
	a.faceSeen = true
	a.face, a.size, a.faceNow = face, o.Size, true
	if len(face.Descriptor) > 0 && len(a.fa.descs) < maxDescriptors {
		a.fa.descs = append(a.fa.descs, face.Descriptor)
	}
	if c.o.Thermometer == nil {
		return
	}
	if c.thermalFaulty() {
		// No frame will come (or only a stale one): the fail mode decides.
		a.th.unavailable = true
		return
	}
	c.measureIfFresh(now)
}

// measureIfFresh measures the attempt's latest good face from the latest
// thermal frame when that frame is fresh (freshThermal).
func (c *Controller) measureIfFresh(now time.Time) {
	if !c.freshThermal(now) {
		return
	}
	c.measure(c.att.face, c.att.size)
}

// freshThermal reports whether the latest thermal frame shows the person now
// at the gate: taken after the credential was seen, and recent.
func (c *Controller) freshThermal(now time.Time) bool {
	return c.tframe != nil && !c.tframe.Time.Before(c.att.started) && now.Sub(c.tframe.Time) <= c.o.ThermalMaxAge
}

// complete reports whether the attempt has everything it needs.
func (c *Controller) complete() bool {
	a := c.att
	if a.pending {
		return false
	}
	if a.cred.Status != StatusGreen {
		return true // already denied; no need to wait
	}
	p := c.o.Policy
	if a.fa.multiple && p.MultipleFaces != MultipleFacesScreenAll {
		return true // denied: more than one person presents one credential
	}
	if !c.facesComplete(a) {
		return false
	}
	if p.RequireFace && !a.faceSeen {
		return false
	}
	needTemp := p.RequireTemperature || a.cred.Kind == CredentialFace
	if needTemp && c.o.Thermometer != nil && a.reading == nil && !a.th.unavailable {
		return false
	}
	return true
}

// finish ends the current attempt: decide, record, act.
func (c *Controller) finish(timedOut bool) {
	a := c.endAttempt()
	v := Decide(c.o.Policy, c.decisionInput(a, timedOut))
	ev, admit := c.recordEntry(a, v)
	c.act(a, ev, admit)
}

// endAttempt detaches the current attempt from the controller, settling a
// verification that did not finish and suppressing the code for a while.
func (c *Controller) endAttempt() *attempt {
	a := c.att
	c.att = nil
	c.deadline = time.Time{}
	if a.pending {
		a.cred = Credential{Status: StatusTimedOut, Reasons: []string{"verification did not finish in time"}}
	}
	if c.o.RepeatSuppress > 0 {
		c.attempts[a.code.Text] = c.o.Now().Add(c.o.RepeatSuppress)
	}
	return a
}

// decisionInput is everything Decide needs about an attempt and the gate.
func (c *Controller) decisionInput(a *attempt, timedOut bool) Attempt {
	at := Attempt{
		Mode:       c.mode,
		Credential: &a.cred,
		FaceSeen:   a.faceSeen,
		PoorFace:   a.poorFace && !a.faceSeen,
		Reading:    a.reading,
		TimedOut:   timedOut,
		FireAlarm:  c.fireOn || c.fireAlert != "",
	}
	if c.o.Thermometer == nil {
		at.Reading = nil
	}
	a.applyThermal(&at)
	c.applyFaces(a, &at)
	return at
}

// recordEntry records the attempt's entry event and the alerts it raises.
// It returns the event and whether to admit: only a recorded admission is
// acted on.
func (c *Controller) recordEntry(a *attempt, v Verdict) (Event, bool) {
	c.noteVerdict(v)
	if v.Fever || v.Spoof {
		c.snapshot(a) // the alert's evidence: a hot face, or a face with no body heat
	}
	ev := c.event(KindEntry, v)
	ev.ID = a.id
	ev.Holder = a.cred.Holder
	ev.Credential = &a.cred
	if a.code.Colour != vision.ColourUnknown {
		ev.Colour = a.code.Colour.String()
	}
	ev.FaceSeen = a.faceSeen
	ev.Reading = a.reading
	ev.Face = a.fa.match
	admit := v.Admit
	if err := c.record(TopicAccess, ev.ID, &ev.Seq, &ev); err != nil {
		admit = false
		c.log.Error("entry not recorded: denied", "attempt", a.id, "err", err)
	}
	c.logDecision(ev, admit)
	if admit {
		c.o.Metrics.Decided("admitted", ev.Reasons, ev.Reading)
	} else {
		c.o.Metrics.Decided("denied", ev.Reasons, ev.Reading)
	}
	person := a.cred.Holder
	if person == "" {
		person = a.code.Text // an unverified credential still names one person
	}
	if v.Fever {
		r := c.alertReading(a, true)
		c.personalAlert(AlertFever, "warning", person, withReading(ev, r), feverMessage(r, c.o.Policy))
	}
	if v.Spoof {
		r := c.alertReading(a, false)
		c.personalAlert(AlertSpoof, "warning", person, withReading(ev, r), spoofMessage(r))
	}
	c.faceAlerts(a, ev, v, person)
	if msg, ok := passbackViolation(a.cred); ok {
		c.personalAlert(AlertPassback, "warning", person, ev, msg)
	}
	return ev, admit
}

// act opens the lane for a recorded admission, or returns it to idle.
func (c *Controller) act(a *attempt, ev Event, admit bool) {
	if !admit {
		ev.Decision = "denied" // as logged, also when only the record failed
		c.setLaneFor(LaneIdle, &ev, false)
		return
	}
	if err := c.o.Turnstile.Release(); err != nil {
		c.onHealth(deviceHealth{"relay", err})
		c.setLaneFor(LaneIdle, &ev, false)
		return
	}
	c.openedBy = ev.ID
	if c.o.Admissions != nil {
		c.o.Admissions.Admitted(a.cred, ev.Time)
	}
	c.deadline = c.o.Now().Add(c.o.PassageTimeout)
	c.setLaneFor(LaneOpen, &ev, true)
}

func (c *Controller) logDecision(ev Event, admit bool) {
	msg := "denied"
	if admit {
		msg = "admitted"
	}
	args := []any{"attempt", ev.ID, "holder", ev.Holder, "reasons", joinReasons(ev.Reasons)}
	if c := ev.Credential; c != nil && c.Status != StatusGreen {
		args = append(args, "credential", c.Status)
	}
	if ev.Reading != nil {
		args = append(args, "skin_c", fmt.Sprintf("%.1f", ev.Reading.SkinC))
	}
	c.log.Info(msg, args...)
}

func (c *Controller) onTimer() {
	if c.deadline.IsZero() || c.o.Now().Before(c.deadline) {
		return
	}
	switch c.lane {
	case LaneChecking:
		c.finish(true)
	case LaneOpen:
		c.passage(false)
	default:
		c.deadline = time.Time{}
	}
}

// passage closes an opening.
func (c *Controller) passage(passed bool) {
	v := Verdict{}
	decision := "not_passed"
	if passed {
		decision = "passed"
	}
	ev := c.event(KindPassage, v)
	ev.Decision = decision
	ev.Attempt = c.openedBy
	_ = c.record(TopicAccess, ev.ID, &ev.Seq, &ev)
	c.log.Info("passage", "attempt", c.openedBy, "result", decision)
	if err := c.o.Turnstile.Secure(); err != nil {
		c.onHealth(deviceHealth{"relay", err})
	}
	c.openedBy = ""
	c.deadline = time.Time{}
	c.setLane(LaneIdle)
}
