package gate

import (
	"math"
)

// Faces: which face is the credential holder's, how many people stand in
// the checking zone, and what the face matcher says about the holder.
//
// The face that counts is the one presenting the code: in a frame that shows
// the code, the face nearest to it (vision.NearestToCode; a phone is held
// below the face). From then on the same face is followed frame to frame by
// its box (vision.Follow) until the decision; a face lost for more than
// maxMissedFrames frames is let go, and only a frame showing the code again
// binds a face again. A face that appears only after the code has gone is
// therefore never the code's holder.

// Reasons from face binding and verification, besides those in decide.go.
const (
	// ReasonMultipleFaces: more than one face was in the checking zone
	// during the attempt, under policy.multiple_faces: deny.
	ReasonMultipleFaces Reason = "multiple_faces"
	// ReasonHolderNotEnrolled: the credential's holder has no enrolled face
	// and faces.require_match is always.
	ReasonHolderNotEnrolled Reason = "holder_not_enrolled"
	// ReasonFaceUnverified: the holder is enrolled but no descriptor of the
	// presenting face could be compared (no landmarks, only poor frames).
	ReasonFaceUnverified Reason = "face_unverified"
	// ReasonCompanionUnscreened: under policy.multiple_faces: screen_all,
	// another face in the checking zone got no temperature reading.
	ReasonCompanionUnscreened Reason = "companion_unscreened"
)

// AlertFaceMismatch is the alert raised when the presenting face does not
// match the credential holder's enrolled face ("credential holder
// mismatch"). It names the pass and the gate, never a face image or a
// descriptor.
const AlertFaceMismatch = "face_mismatch"

// CredentialFace is the Kind of a credential that is an enrolled face
// recognised without a code (faces.face_only). It never admits without a
// live thermal reading.
const CredentialFace = "face"

// MultipleFaces is what the gate does when more than one face is in the
// checking zone during an attempt.
type MultipleFaces string

// MultipleFaces policies. The zero value is MultipleFacesDeny.
const (
	// MultipleFacesDeny denies the attempt (multiple_faces) and raises a
	// tailgating alert.
	MultipleFacesDeny MultipleFaces = "deny"
	// MultipleFacesScreenAll admits only when every face in the zone passes
	// the temperature check.
	MultipleFacesScreenAll MultipleFaces = "screen_all"
)

// MatchRule says when the presenting face must match the holder's enrolled
// face.
type MatchRule string

// Match rules. The zero value is MatchEnrolled.
const (
	// MatchEnrolled requires a match when the holder is enrolled.
	MatchEnrolled MatchRule = "enrolled"
	// MatchAlways also denies holders with no enrolled face
	// (holder_not_enrolled).
	MatchAlways MatchRule = "always"
	// MatchOff never compares faces.
	MatchOff MatchRule = "off"
)

// FaceMatch is the result of comparing one face's descriptor with enrolled
// templates. It carries no descriptor.
type FaceMatch struct {
	// Person is the enrolled person compared with (1:1) or found nearest
	// (1:N); empty when nobody is enrolled.
	Person string `json:"person,omitempty"`
	// Match is true when Distance is at most Threshold.
	Match bool `json:"match"`
	// Distance is the smallest distance to Person's templates.
	Distance float64 `json:"distance"`
	// Threshold is the largest distance of a match.
	Threshold float64 `json:"threshold"`
}

// FaceMatcher compares face descriptors with the enrolled templates (the
// gate/faces package implements it). It is called from the controller's
// goroutine and must be quick and safe for concurrent use with enrolment.
type FaceMatcher interface {
	// Enrolled reports whether person has enrolled templates.
	Enrolled(person string) bool
	// Verify compares d with person's templates (1:1). ok is false when
	// person is not enrolled or d cannot be compared (wrong length).
	Verify(person string, d []float32) (m FaceMatch, ok bool)
	// Identify finds the enrolled person nearest d (1:N). ok is false when
	// nobody is enrolled; m.Match says whether the nearest is a match.
	Identify(d []float32) (m FaceMatch, ok bool)
}

// Companion is another face in the checking zone during an attempt, screened
// under MultipleFacesScreenAll.
type Companion struct {
	// Reading is its temperature; nil when none was measured.
	Reading *Reading
}

// maxMissedFrames is how many frames in a row the holder's face may be
// missed (a detector miss, a turn of the head) and still be followed.
const maxMissedFrames = 3

// maxDescriptors is how many descriptors of the holder's face an attempt
// keeps; the decision takes the best match among them.
const maxDescriptors = 5

// decideFaces adds the reasons of face binding and verification to v.
func decideFaces(p Policy, a Attempt, deny func(Reason)) {
	if a.MultipleFaces && p.MultipleFaces != MultipleFacesScreenAll {
		deny(ReasonMultipleFaces)
	}
	if !a.FaceSeen {
		return
	}
	switch {
	case a.FaceMatch != nil && !*a.FaceMatch:
		deny(ReasonFaceMismatch)
	case p.RequireMatch == MatchOff || a.FaceMatch != nil:
	case a.HolderEnrolled:
		deny(ReasonFaceUnverified)
	case p.RequireMatch == MatchAlways && !isFaceCredential(a.Credential):
		deny(ReasonHolderNotEnrolled)
	}
}

// decideCompanions screens the other faces in the zone under
// MultipleFacesScreenAll: each must show body heat and no fever.
func decideCompanions(p Policy, a Attempt, v *Verdict, deny func(Reason)) {
	if p.MultipleFaces != MultipleFacesScreenAll || !a.MultipleFaces {
		return
	}
	unscreened := false
	for _, c := range a.Companions {
		r := c.Reading
		switch {
		case r == nil || !finiteReading(r):
			unscreened = true
		case r.SkinC < p.MinSkinC || r.NotSkin != "":
			if !v.Spoof {
				v.Spoof = true
				deny(ReasonNoBodyHeat)
			}
		case r.CoreC >= p.FeverC-1e-9:
			if !v.Fever {
				v.Fever = true
				if p.FeverLogOnly {
					v.Reasons = append(v.Reasons, ReasonFeverLogged)
				} else {
					deny(ReasonFever)
				}
			}
		}
	}
	if unscreened && p.RequireTemperature {
		deny(ReasonCompanionUnscreened)
	}
}

func isFaceCredential(c *Credential) bool { return c != nil && c.Kind == CredentialFace }

// bestMatch verifies each descriptor against person's templates and
// returns the closest result; ok is false when none could be compared.
func bestMatch(m FaceMatcher, person string, descs [][]float32) (best FaceMatch, ok bool) {
	best.Distance = math.Inf(1)
	for _, d := range descs {
		r, rok := m.Verify(person, d)
		if rok && r.Distance < best.Distance {
			best, ok = r, true
		}
	}
	return best, ok
}
