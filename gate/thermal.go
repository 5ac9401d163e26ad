package gate

import (
	"errors"
	"fmt"
	"image"

	"github.com/gateguard/gateguard/device/thermal"
	"github.com/gateguard/gateguard/vision"
)

// Reasons from fever screening, besides those in decide.go.
const (
	// ReasonTooFar and ReasonTooClose: the distance gate found the face too
	// small or too large to measure before the check timed out.
	ReasonTooFar   Reason = "too_far_remeasure"
	ReasonTooClose Reason = "too_close_remeasure"
	// ReasonTurned: the face was turned away from the camera until the
	// check timed out.
	ReasonTurned Reason = "face_turned_remeasure"
	// ReasonBorderline: a reading in the borderline band was not confirmed
	// by a second one before the check timed out.
	ReasonBorderline Reason = "borderline_remeasure"
	// ReasonUnscreened marks an admission without screening while it was
	// unavailable, under the thermal fail mode "admit".
	ReasonUnscreened Reason = "unscreened"
)

// DeviceBlackbody is the device name under which the blackbody reference's
// health is reported in the state and in device-fault alerts.
const DeviceBlackbody = "thermal.blackbody"

// DeviceOutbox is the device name under which the outbox's health is
// reported (DeviceHealth) and shown in the state; its faults are alerts of
// type outbox.
const DeviceOutbox = "outbox"

// DeviceThermal is the device name under which the thermal camera's health
// is reported (DeviceHealth). While it is faulty screening is unavailable:
// attempts go to the thermal fail mode at once.
const DeviceThermal = "thermal"

// thermalFaulty reports whether the thermal camera was last reported faulty.
func (c *Controller) thermalFaulty() bool {
	s, known := c.devices[DeviceThermal]
	return known && s != "ok"
}

// FrameChecker is implemented by a Thermometer that checks every thermal
// frame, such as one reading a blackbody reference. The controller calls it
// for each frame it receives, from its own goroutine, and reports the result
// as the health of DeviceBlackbody; an error wrapping thermal.ErrUnavailable
// pauses screening.
type FrameChecker interface {
	CheckFrame(tf *thermal.Frame) error
}

// Snapshotter keeps a colourised picture of a thermal frame on the gate and
// returns its reference (a SHA-256 in hex), for fever alerts.
type Snapshotter interface {
	Save(tf *thermal.Frame) (string, error)
}

// thermalAttempt is what one attempt gathered from the thermal camera.
type thermalAttempt struct {
	frame       *thermal.Frame // the frame of the reading
	first       *Reading       // a borderline reading waiting for a second
	firstSeq    uint64         // the frame it was read from
	unavailable bool
	remeasure   Reason
}

// thermalFailMode applies the policy's fail mode while screening is
// unavailable. A gate that does not require a temperature admits, marked
// unscreened, as it would without a thermometer.
func thermalFailMode(p Policy, v *Verdict) {
	if p.ThermalFailOpen || !p.RequireTemperature {
		v.Reasons = append(v.Reasons, ReasonUnscreened)
		return
	}
	v.Reasons = append(v.Reasons, ReasonThermalUnhealthy)
}

// noReadingReason says why an attempt that needed a temperature has none.
func noReadingReason(a Attempt) Reason {
	if a.Remeasure != "" {
		return a.Remeasure
	}
	return ReasonNoTemperature
}

// onThermalFrame keeps the latest frame and lets the thermometer check it.
func (c *Controller) onThermalFrame(f *thermal.Frame) {
	c.tframe = f
	fc, ok := c.o.Thermometer.(FrameChecker)
	if !ok {
		return
	}
	c.onHealth(deviceHealth{DeviceBlackbody, fc.CheckFrame(f)})
}

// measure takes a reading of the subject's face from the latest thermal
// frame. A reading in the borderline band (BorderlineC below FeverC) is kept
// and measured again from a later frame; the attempt then decides on the
// higher of the two core estimates, so that a borderline person is never
// passed on the luckier of two readings.
func (c *Controller) measure(face vision.Face, size image.Point) {
	a := c.att
	r, err := c.o.Thermometer.Measure(c.tframe, face, size)
	switch {
	case errors.Is(err, thermal.ErrUnavailable):
		a.th.unavailable = true
		c.log.Warn("screening unavailable", "attempt", a.id, "err", err)
		return
	case errors.Is(err, thermal.ErrTooFar):
		a.th.remeasure = ReasonTooFar
	case errors.Is(err, thermal.ErrTooClose):
		a.th.remeasure = ReasonTooClose
	case errors.Is(err, thermal.ErrTurned):
		a.th.remeasure = ReasonTurned
	}
	if err != nil {
		c.log.Debug("no temperature", "attempt", a.id, "err", err)
		return
	}
	if !finiteReading(&r) {
		// Not a temperature: the sensor (or its maths) is broken now.
		a.th.unavailable = true
		c.log.Warn("screening unavailable: non-finite reading", "attempt", a.id,
			"skin_c", fmt.Sprint(r.SkinC), "core_c", fmt.Sprint(r.CoreC))
		return
	}
	a.th.unavailable = false
	r.ThresholdC = c.o.Policy.FeverC
	if r.CalibrationID == "" {
		r.CalibrationID = c.o.CalibrationID
	}
	r.Measurements = 1
	if first := a.th.first; first != nil {
		if c.tframe.Seq == a.th.firstSeq {
			return // the same frame again: wait for a new one
		}
		if first.CoreC > r.CoreC {
			r = *first
		} else {
			a.th.frame = c.tframe
		}
		r.Measurements = 2
		c.att.reading = &r
		return
	}
	if c.borderline(r) {
		a.th.first, a.th.firstSeq, a.th.frame = &r, c.tframe.Seq, c.tframe
		a.th.remeasure = ReasonBorderline
		c.log.Info("borderline reading: measuring again", "attempt", a.id, "core_c", fmt.Sprintf("%.2f", r.CoreC))
		return
	}
	a.th.frame = c.tframe
	c.att.reading = &r
}

// borderline reports whether a live, warm-enough reading falls in the band
// just below the threshold.
func (c *Controller) borderline(r Reading) bool {
	p := c.o.Policy
	return p.BorderlineC > 0 && r.NotSkin == "" && r.SkinC >= p.MinSkinC && r.SkinC >= p.ColdC &&
		r.CoreC < p.FeverC-1e-9 && r.CoreC >= p.FeverC-p.BorderlineC-1e-9
}

// applyThermal copies what the thermal camera gave into the decision's input.
func (a *attempt) applyThermal(at *Attempt) {
	at.ThermalUnavailable = a.th.unavailable && a.reading == nil
	at.Remeasure = a.th.remeasure
}

// snapshot keeps a colourised picture of the frame behind a fever or spoof reading
// and puts its hash in the reading.
func (c *Controller) snapshot(a *attempt) {
	if c.o.Snapshots == nil || a.reading == nil || a.th.frame == nil {
		return
	}
	h, err := c.o.Snapshots.Save(a.th.frame)
	if err != nil {
		c.log.Error("thermal snapshot not kept", "attempt", a.id, "err", err)
		return
	}
	a.reading.Snapshot = h
}

// feverMessage is the fever alert's text.
func feverMessage(r *Reading, p Policy) string {
	msg := fmt.Sprintf("elevated temperature: core estimate %.1f °C ≥ %.1f °C (skin %.1f °C", r.CoreC, p.FeverC, r.SkinC)
	if r.BlackbodyC != nil {
		msg += fmt.Sprintf(", blackbody %.2f °C", *r.BlackbodyC)
	}
	if r.CalibrationID != "" {
		msg += ", calibration " + r.CalibrationID
	}
	return msg + "); a screening result, to be confirmed with a clinical thermometer"
}

// spoofMessage is the spoof alert's text.
func spoofMessage(r *Reading) string {
	why := r.NotSkin
	if why == "" {
		why = fmt.Sprintf("no body heat (%.1f °C)", r.SkinC)
	}
	return "face without living skin behind it: " + why + "; a photo or a screen"
}
