// Package gate is GateGuard's decision core: the state machine that goes from a
// credential seen by the camera, through the identity and temperature checks, to
// the turnstile relay and back, and the events and alerts every attempt
// produces. It is pure Go: hardware, OpenCV and the network reach it only
// through the small interfaces declared here (Turnstile, Recorder, Verifier,
// Thermometer), which cmd/gateguard wires to drivers.
package gate

import (
	"fmt"
	"math"
	"time"

	"github.com/gateguard/gateguard/device/thermal"
)

// Reason says why an attempt was denied, or what was notable about an admission.
type Reason string

// Reasons used in entry events.
const (
	ReasonNoCredential     Reason = "no_credential"
	ReasonCredential       Reason = "credential_rejected" // detail in the credential's status
	ReasonNoFace           Reason = "no_face"
	ReasonPoorFace         Reason = "face_quality_remeasure" // only faces too small, blurred or turned
	ReasonFaceMismatch     Reason = "face_mismatch"
	ReasonNoTemperature    Reason = "no_temperature"
	ReasonFever            Reason = "fever"
	ReasonFeverLogged      Reason = "fever_logged_only"
	ReasonNoBodyHeat       Reason = "no_body_heat" // a photo or a screen: spoof
	ReasonTooCold          Reason = "too_cold_remeasure"
	ReasonLocked           Reason = "gate_locked"
	ReasonFireAlarm        Reason = "fire_alarm"
	ReasonExitButton       Reason = "exit_button"
	ReasonOutboxFailed     Reason = "outbox_unwritable"
	ReasonCheckTimeout     Reason = "check_timeout"
	ReasonInsecure         Reason = "insecure_credential" // admitted on an explicitly insecure setting
	ReasonThermalUnhealthy Reason = "thermal_unavailable"
)

// Mode is the gate's operating mode.
type Mode string

// Operating modes.
const (
	ModeNormal      Mode = "normal"      // every attempt is checked
	ModeLocked      Mode = "locked"      // nobody is admitted
	ModeFree        Mode = "free"        // the lane is held open
	ModeMaintenance Mode = "maintenance" // checks run and are logged; nobody is admitted
)

// CredentialStatus is the verdict on a credential.
type CredentialStatus string

// Credential statuses. Only StatusGreen admits.
const (
	StatusGreen         CredentialStatus = "green"
	StatusYellow        CredentialStatus = "yellow"
	StatusRed           CredentialStatus = "red"
	StatusExpired       CredentialStatus = "expired"
	StatusNotYetValid   CredentialStatus = "not_yet_valid"
	StatusRevoked       CredentialStatus = "revoked"
	StatusUnknownIssuer CredentialStatus = "unknown_issuer"
	StatusForged        CredentialStatus = "forged"
	StatusCheckFailed   CredentialStatus = "check_failed"
	StatusTimedOut      CredentialStatus = "timed_out"
	// StatusAntiPassback is a credential re-used against the site's
	// anti-passback rule (hard or timed).
	StatusAntiPassback CredentialStatus = "anti_passback"
)

// PassbackSoftReason starts a credential reason that reports a soft
// anti-passback violation: the pass was used twice within the window but the
// site only logs it.
const PassbackSoftReason = "anti_passback_soft"

// Credential is a verified credential as the gate sees it.
type Credential struct {
	// Status is the verifier's verdict.
	Status CredentialStatus `json:"status"`
	// Verified is true when a signature or an authoritative online check
	// backs the status, not a colour read from an image alone.
	Verified bool `json:"verified"`
	// Insecure marks a credential accepted without verification because the
	// site explicitly chose an insecure mode (colour only, presence only);
	// every event then says so.
	Insecure bool `json:"insecure,omitempty"`
	// Holder identifies the person the credential was issued to.
	Holder string `json:"holder,omitempty"`
	// Issuer names who issued it.
	Issuer string `json:"issuer,omitempty"`
	// Kind is the credential format (site_pass, dcc, health_code, …).
	Kind string `json:"kind,omitempty"`
	// Reasons details a rejection.
	Reasons []string `json:"reasons,omitempty"`
	// ID identifies the credential itself (a pass id, a certificate's
	// identifier): revocation and anti-passback key on it.
	ID string `json:"id,omitempty"`
	// ValidFrom and ValidUntil bound the credential's validity, when known.
	ValidFrom  *time.Time `json:"valid_from,omitempty"`
	ValidUntil *time.Time `json:"valid_until,omitempty"`
}

// Reading is a skin-temperature measurement of the subject's face; the
// thermal contract defines it so that fusion code need not import the gate.
type Reading = thermal.Reading

// Policy is the part of the configuration Decide needs.
type Policy struct {
	FeverC             float64
	ColdC              float64
	MinSkinC           float64
	FeverLogOnly       bool
	RequireFace        bool
	RequireTemperature bool
	// BorderlineC is the width of the band below FeverC in which a reading
	// is measured a second time (see gate/thermal.go); 0 turns it off.
	BorderlineC float64
	// ThermalFailOpen admits, marked unscreened, while screening is
	// unavailable (blackbody missing or unstable) instead of denying.
	ThermalFailOpen bool
	// MultipleFaces is what more than one face in the checking zone does
	// (faces.go); the zero value denies.
	MultipleFaces MultipleFaces
	// ZoneMinEyePx is the least eye distance, in pixels, of a face in the
	// checking zone (vision.InZone); 0 counts every face in the frame.
	ZoneMinEyePx float64
	// RequireMatch says when the presenting face must match the holder's
	// enrolled face; the zero value is MatchEnrolled.
	RequireMatch MatchRule
	// FaceOnly lets an enrolled face recognised without a code start an
	// attempt (1:N), as a credential of kind CredentialFace.
	FaceOnly bool
}

// Attempt is what the gate gathered about one person.
type Attempt struct {
	Mode       Mode
	Credential *Credential // nil: no credential
	FaceSeen   bool
	PoorFace   bool  // faces were seen, none good enough to check
	FaceMatch  *bool // nil: not checked (no enrolled face or no matcher)
	// HolderEnrolled is true when the credential's holder has an enrolled
	// face (so FaceMatch must be true to admit, unless RequireMatch is off).
	HolderEnrolled bool
	// MultipleFaces is true when more than one face was in the checking
	// zone at once during the attempt.
	MultipleFaces bool
	// Companions are the other faces in the zone, screened under
	// MultipleFacesScreenAll.
	Companions []Companion
	Reading    *Reading // nil: no temperature measured
	TimedOut   bool     // the check timeout expired before all checks were done
	// ThermalUnavailable is set when screening was paused (no usable
	// blackbody) while the person was at the gate.
	ThermalUnavailable bool
	// Remeasure, when set and there is no Reading, says why no reading was
	// taken (too far, too close, borderline not confirmed).
	Remeasure Reason
	// FireAlarm is set while a fire alarm is active or latched: the lane is
	// held open for evacuation and nobody is admitted through a check.
	FireAlarm bool
}

// Verdict is the result of Decide.
type Verdict struct {
	Admit   bool
	Reasons []Reason
	// Fever is true when the core estimate reached the threshold.
	Fever bool
	// Spoof is true when a face showed no body heat.
	Spoof bool
}

// Decide is the gate's pure decision: it admits only a green, verified
// credential (or an explicitly insecure one) presented by one person whose
// face matches the holder's enrolled face (when enrolled), with a plausible
// skin temperature and no fever, never during a fire alarm, and lists every
// reason for a denial.
func Decide(p Policy, a Attempt) Verdict {
	var v Verdict
	deny := func(r Reason) { v.Reasons = append(v.Reasons, r) }
	switch a.Mode {
	case ModeLocked, ModeMaintenance:
		deny(ReasonLocked)
	}
	switch c := a.Credential; {
	case c == nil:
		deny(ReasonNoCredential)
	case c.Status != StatusGreen || (!c.Verified && !c.Insecure):
		deny(ReasonCredential)
	}
	decideFaces(p, a, deny)
	switch {
	case a.FaceSeen:
	case p.RequireFace && a.PoorFace:
		deny(ReasonPoorFace)
	case p.RequireFace:
		deny(ReasonNoFace)
	}
	// A face is a credential only with living skin behind it: it always
	// needs a reading, and screening's fail-open never applies to it.
	faceCred := isFaceCredential(a.Credential)
	needTemp := p.RequireTemperature || faceCred
	r := a.Reading
	unavailable := a.ThermalUnavailable
	if r != nil && !finiteReading(r) {
		r, unavailable = nil, true // a broken sensor's number is no reading
	}
	if r != nil {
		switch {
		case r.SkinC < p.MinSkinC || r.NotSkin != "":
			v.Spoof = true
			deny(ReasonNoBodyHeat)
		case r.CoreC >= p.FeverC-1e-9:
			v.Fever = true
			if p.FeverLogOnly {
				v.Reasons = append(v.Reasons, ReasonFeverLogged)
			} else {
				deny(ReasonFever)
			}
		case r.SkinC < p.ColdC:
			deny(ReasonTooCold)
		}
	} else if unavailable && faceCred {
		deny(ReasonThermalUnhealthy)
	} else if unavailable && (a.FaceSeen || !p.RequireFace) {
		thermalFailMode(p, &v)
	} else if needTemp && (a.FaceSeen || !p.RequireFace) {
		deny(noReadingReason(a))
	}
	decideCompanions(p, a, &v, deny)
	if a.TimedOut && len(v.Reasons) > 0 {
		v.Reasons = append(v.Reasons, ReasonCheckTimeout)
	}
	if a.FireAlarm {
		deny(ReasonFireAlarm)
	}
	v.Admit = true
	for _, r := range v.Reasons {
		if r != ReasonFeverLogged && r != ReasonUnscreened {
			v.Admit = false
		}
	}
	if v.Admit && a.Credential != nil && a.Credential.Insecure {
		v.Reasons = append(v.Reasons, ReasonInsecure)
	}
	return v
}

// finiteReading reports whether every number in r is finite. A NaN or an
// infinity is what a broken sensor or a division by zero gives, never a
// temperature: such a reading is no reading (and could not be published).
func finiteReading(r *Reading) bool {
	finite := func(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
	for _, p := range []*float64{r.BlackbodyC, r.DriftC, r.AmbientC} {
		if p != nil && !finite(*p) {
			return false
		}
	}
	return finite(r.SkinC) && finite(r.CoreC) && finite(r.ThresholdC)
}

// String formats a verdict for logs: "admitted" or "denied: fever, no_face".
func (v Verdict) String() string {
	s := "denied"
	if v.Admit {
		s = "admitted"
	}
	if len(v.Reasons) == 0 {
		return s
	}
	return fmt.Sprintf("%s: %v", s, joinReasons(v.Reasons))
}

func joinReasons(rs []Reason) string {
	out := ""
	for i, r := range rs {
		if i > 0 {
			out += ", "
		}
		out += string(r)
	}
	return out
}
