package gate

import (
	"fmt"
	"image"
	"time"

	"github.com/gateguard/gateguard/vision"
)

// The controller's side of faces.go: binding the holder's face, counting
// and screening the faces in the zone, matching, and face-only attempts.

// faceAttempt is what one attempt gathered about faces.
type faceAttempt struct {
	bound     bool            // a face is bound as the holder's
	everBound bool            // a face was bound at some point
	box       image.Rectangle // the bound face's box in the last frame it was seen
	missed    int             // frames in a row the bound face was not seen
	descs     [][]float32     // descriptors of the bound face
	multiple  bool            // more than one face was in the zone at once
	companion []*companion    // the other faces in the zone (screen_all)
	match     *FaceMatch      // the holder's match, once compared
}

// companion is another face in the zone, followed like the holder's.
type companion struct {
	box     image.Rectangle
	reading *Reading
}

// bindHolder returns the index in o.Faces of the holder's face: the bound
// face followed from the last frame, or, in a frame showing the attempt's
// code, the face nearest the code. ok is false when this frame shows none.
func (c *Controller) bindHolder(o vision.Observation) (int, bool) {
	a := c.att
	if a.fa.bound {
		if i, ok := vision.Follow(a.fa.box, o.Faces); ok {
			a.fa.box, a.fa.missed = o.Faces[i].Box, 0
			return i, true
		}
		if a.fa.missed++; a.fa.missed <= maxMissedFrames {
			return -1, false
		}
		a.fa.bound = false
		c.log.Info("holder's face lost: only a face presenting the code again counts", "attempt", a.id)
	}
	code, ok := codeIn(o.Codes, a.code.Text)
	if !ok {
		return -1, false
	}
	i, ok := vision.NearestToCode(code, o.Faces)
	if !ok {
		return -1, false
	}
	if a.fa.everBound {
		// Another face now presents the code: what was gathered from the
		// lost one is not this person's.
		c.log.Info("code presented by a new face: checks start again", "attempt", a.id)
		a.faceSeen, a.poorFace, a.reading, a.th, a.fa.descs = false, false, nil, thermalAttempt{}, nil
	}
	a.fa.bound, a.fa.everBound, a.fa.box, a.fa.missed = true, true, o.Faces[i].Box, 0
	return i, true
}

// codeIn returns the code with the given text among codes.
func codeIn(codes []vision.Code, text string) (vision.Code, bool) {
	for _, cd := range codes {
		if cd.Text == text {
			return cd, true
		}
	}
	return vision.Code{}, false
}

// countZone notes more than one face in the checking zone and, under
// MultipleFacesScreenAll, screens the faces other than the holder's
// (index holder, when ok).
func (c *Controller) countZone(o vision.Observation, holder int, ok bool, now time.Time) {
	p := c.o.Policy
	a := c.att
	n := 0
	for j, f := range o.Faces {
		if vision.InZone(f, p.ZoneMinEyePx) || (ok && j == holder) {
			n++
		}
	}
	if n > 1 && !a.fa.multiple {
		a.fa.multiple = true
		c.log.Warn("more than one face in the checking zone", "attempt", a.id, "faces", n)
	}
	if p.MultipleFaces != MultipleFacesScreenAll || !ok {
		return
	}
	used := map[*companion]bool{}
	for j, f := range o.Faces {
		if j == holder || !vision.InZone(f, p.ZoneMinEyePx) {
			continue
		}
		cp := c.followCompanion(f.Box, used)
		used[cp] = true
		if q := f.Quality; (q.Assessed && !q.Good) || c.o.Thermometer == nil || c.thermalFaulty() || !c.freshThermal(now) {
			continue
		}
		r, err := c.o.Thermometer.Measure(c.tframe, f, o.Size)
		if err != nil || !finiteReading(&r) {
			continue
		}
		c.stamp(&r)
		if cp.reading == nil || r.CoreC > cp.reading.CoreC || !live(*cp.reading, p) {
			cp.reading = &r
		}
	}
}

// followCompanion returns the companion last seen at box, or a new one.
func (c *Controller) followCompanion(box image.Rectangle, used map[*companion]bool) *companion {
	a := c.att
	var best *companion
	bestO := 0.0
	for _, cp := range a.fa.companion {
		if o := vision.Overlap(cp.box, box); !used[cp] && o >= vision.FollowOverlap && o > bestO {
			best, bestO = cp, o
		}
	}
	if best == nil {
		best = &companion{}
		a.fa.companion = append(a.fa.companion, best)
	}
	best.box = box
	return best
}

// live reports whether a reading shows living skin.
func live(r Reading, p Policy) bool { return r.NotSkin == "" && r.SkinC >= p.MinSkinC }

// stamp fills a new reading's threshold, calibration and count.
func (c *Controller) stamp(r *Reading) {
	r.ThresholdC = c.o.Policy.FeverC
	if r.CalibrationID == "" {
		r.CalibrationID = c.o.CalibrationID
	}
	r.Measurements = 1
}

// facesComplete reports whether the attempt has what face checks need:
// a descriptor when the holder is enrolled, a reading of every companion
// under screen_all.
func (c *Controller) facesComplete(a *attempt) bool {
	p := c.o.Policy
	if c.needsMatch(a) && len(a.fa.descs) == 0 {
		return false
	}
	if p.MultipleFaces == MultipleFacesScreenAll && a.fa.multiple && p.RequireTemperature &&
		c.o.Thermometer != nil && !a.th.unavailable {
		for _, cp := range a.fa.companion {
			if cp.reading == nil {
				return false
			}
		}
	}
	return true
}

// needsMatch reports whether the attempt's holder must be matched: the
// policy compares faces and the holder is enrolled.
func (c *Controller) needsMatch(a *attempt) bool {
	return c.o.Policy.RequireMatch != MatchOff && c.o.Faces != nil && a.cred.Kind != CredentialFace &&
		a.cred.Status == StatusGreen && a.cred.Holder != "" && c.o.Faces.Enrolled(a.cred.Holder)
}

// applyFaces copies what the faces gave into the decision's input,
// matching the holder's face with the enrolled templates.
func (c *Controller) applyFaces(a *attempt, at *Attempt) {
	at.MultipleFaces = a.fa.multiple
	for _, cp := range a.fa.companion {
		at.Companions = append(at.Companions, Companion{Reading: cp.reading})
	}
	if a.cred.Kind == CredentialFace {
		// Identified when the attempt started (startFaceOnly).
		at.HolderEnrolled, at.FaceMatch = true, &a.fa.match.Match
		return
	}
	if !c.needsMatch(a) {
		return
	}
	at.HolderEnrolled = true
	if m, ok := bestMatch(c.o.Faces, a.cred.Holder, a.fa.descs); ok {
		a.fa.match = &m
		at.FaceMatch = &m.Match
	}
}

// startFaceOnly starts a face-only attempt (Policy.FaceOnly) for an enrolled
// face recognised in a frame without codes: the largest good face in the
// zone with a descriptor. It reports whether an attempt started.
func (c *Controller) startFaceOnly(o vision.Observation, now time.Time) bool {
	p := c.o.Policy
	if !p.FaceOnly || c.o.Faces == nil || len(o.Codes) > 0 {
		return false
	}
	best, area := -1, 0
	for i, f := range o.Faces {
		good := !f.Quality.Assessed || f.Quality.Good
		if a := f.Box.Dx() * f.Box.Dy(); good && len(f.Descriptor) > 0 && vision.InZone(f, p.ZoneMinEyePx) && a > area {
			best, area = i, a
		}
	}
	if best < 0 {
		return false
	}
	m, ok := c.o.Faces.Identify(o.Faces[best].Descriptor)
	if !ok || !m.Match {
		return false
	}
	key := CredentialFace + ":" + m.Person
	if _, seen := c.attempts[key]; seen {
		return false
	}
	a := &attempt{id: newID(), code: vision.Code{Text: key}, started: now,
		cred: Credential{Status: StatusGreen, Verified: true, Kind: CredentialFace, Holder: m.Person, ID: key}}
	a.fa.bound, a.fa.everBound, a.fa.box, a.fa.match = true, true, o.Faces[best].Box, &m
	c.att = a
	c.deadline = now.Add(c.o.CheckTimeout)
	c.log.Debug("enrolled face recognised", "attempt", a.id, "person", m.Person)
	c.setLane(LaneChecking)
	return true
}

// faceAlerts raises the alerts of face checks: a holder mismatch, and a
// tailgating alert for more than one face under MultipleFacesDeny.
func (c *Controller) faceAlerts(a *attempt, ev Event, v Verdict, person string) {
	if m := a.fa.match; m != nil && !m.Match && a.cred.Kind != CredentialFace {
		pass := a.cred.ID
		if pass == "" {
			pass = a.cred.Holder
		}
		c.personalAlert(AlertFaceMismatch, "warning", person, ev,
			fmt.Sprintf("credential holder mismatch: pass %s at gate %s is not presented by its holder's enrolled face", pass, c.o.Gate))
	}
	for _, r := range v.Reasons {
		if r == ReasonMultipleFaces {
			c.personalAlert(AlertTailgating, "warning", laneKey, ev,
				"more than one face in the checking zone for one credential (tailgating), lane "+c.o.Gate)
		}
	}
}

// alertReading returns the reading behind a fever (fever true) or spoof
// verdict: the holder's when it shows it, else a companion's.
func (c *Controller) alertReading(a *attempt, fever bool) *Reading {
	p := c.o.Policy
	shows := func(r *Reading) bool {
		if r == nil {
			return false
		}
		if fever {
			return live(*r, p) && r.CoreC >= p.FeverC-1e-9
		}
		return !live(*r, p)
	}
	if shows(a.reading) {
		return a.reading
	}
	for _, cp := range a.fa.companion {
		if shows(cp.reading) {
			return cp.reading
		}
	}
	return a.reading
}

// withReading returns ev with r as its reading, for an alert about r.
func withReading(ev Event, r *Reading) Event {
	ev.Reading = r
	return ev
}
