package vision

import (
	"fmt"
	"math"
)

// Quality is a face's quality verdict. The zero value means "not assessed".
type Quality struct {
	// Assessed is true once Assess has run.
	Assessed bool
	// Good is true when the face passed every test.
	Good bool
	// Reasons name each failed test, e.g. "yaw 24° > 15°".
	Reasons []string
}

// QualityOpts are the limits a face must meet to be good.
type QualityOpts struct {
	// MinEyeDistance is the least distance between the eyes, in pixels.
	MinEyeDistance float64
	// MinSharpness is the least variance of the Laplacian over the face.
	MinSharpness float64
	// MaxYawDeg and MaxRollDeg bound the head's turn and tilt. Fever
	// screening standards reject faces turned more than 15°.
	MaxYawDeg, MaxRollDeg float64
	// MinScore is the least detector confidence.
	MinScore float32
}

// DefaultQuality are limits for a 640×480 gate camera: eyes at least 30
// pixels apart (the inner eye corners then cover a few thermal pixels), a
// head turned at most 15° (IEC 80601-2-59 practice) and tilted at most 20°.
var DefaultQuality = QualityOpts{MinEyeDistance: 30, MinSharpness: 20, MaxYawDeg: 15, MaxRollDeg: 20, MinScore: 0.6}

// noseDepth is the nose tip's depth in front of the eyes as a fraction of
// half the distance between the eyes, for an average adult head; it turns
// the nose's sideways shift into a yaw angle.
const noseDepth = 0.65

// Pose estimates the head's yaw and roll in degrees and the eye distance in
// pixels from the five landmarks. Roll is the eye line's angle; yaw comes from
// how far the nose tip sits off the eyes' midpoint along that line, compared
// with half the eye distance: a turned head shows its nose off-centre by
// depth × sin(yaw) while the eyes close up by cos(yaw). ok is false without
// landmarks or with the eyes on one point.
func Pose(f Face) (eyeDist, yawDeg, rollDeg float64, ok bool) {
	if !f.HasLandmarks {
		return 0, 0, 0, false
	}
	re, le, nose := f.Landmarks[RightEye], f.Landmarks[LeftEye], f.Landmarks[NoseTip]
	dx, dy := float64(le.X-re.X), float64(le.Y-re.Y)
	eyeDist = math.Hypot(dx, dy)
	if eyeDist < 1 {
		return 0, 0, 0, false
	}
	rollDeg = math.Atan2(dy, dx) * 180 / math.Pi
	mx, my := float64(re.X+le.X)/2, float64(re.Y+le.Y)/2
	// The nose's offset along the eye line, as a fraction of half the eye
	// distance.
	off := ((float64(nose.X)-mx)*dx + (float64(nose.Y)-my)*dy) / eyeDist / (eyeDist / 2)
	yawDeg = math.Atan2(off, noseDepth) * 180 / math.Pi
	return eyeDist, yawDeg, rollDeg, true
}

// Assess measures the face's pose from its landmarks, fills EyeDistance,
// YawDeg and RollDeg, and returns the face with its Quality verdict. A face
// without landmarks (Haar) is judged on size (its box width standing in for
// 2.5 eye distances) and sharpness only.
func Assess(f Face, o QualityOpts) Face {
	q := Quality{Assessed: true}
	if d, yaw, roll, ok := Pose(f); ok {
		f.EyeDistance, f.YawDeg, f.RollDeg = d, yaw, roll
		if d < o.MinEyeDistance {
			q.Reasons = append(q.Reasons, fmt.Sprintf("eyes %.0f px apart < %.0f", d, o.MinEyeDistance))
		}
		if o.MaxYawDeg > 0 && math.Abs(yaw) > o.MaxYawDeg {
			q.Reasons = append(q.Reasons, fmt.Sprintf("yaw %.0f° > %.0f°", math.Abs(yaw), o.MaxYawDeg))
		}
		if o.MaxRollDeg > 0 && math.Abs(roll) > o.MaxRollDeg {
			q.Reasons = append(q.Reasons, fmt.Sprintf("roll %.0f° > %.0f°", math.Abs(roll), o.MaxRollDeg))
		}
	} else if w := float64(f.Box.Dx()); w < 2.5*o.MinEyeDistance {
		q.Reasons = append(q.Reasons, fmt.Sprintf("face %.0f px wide < %.0f", w, 2.5*o.MinEyeDistance))
	}
	if !(f.Sharpness >= o.MinSharpness) { // NaN fails too
		q.Reasons = append(q.Reasons, fmt.Sprintf("blur: sharpness %.0f < %.0f", f.Sharpness, o.MinSharpness))
	}
	if !(f.Score >= o.MinScore) {
		q.Reasons = append(q.Reasons, fmt.Sprintf("score %.2f < %.2f", f.Score, o.MinScore))
	}
	q.Good = len(q.Reasons) == 0
	f.Quality = q
	return f
}
