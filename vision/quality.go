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

// noseDepth is the nose tip's height over the plane of the eyes as a share
// of the distance between the eyes, for an average adult head (about 2 cm
// over 6.3 cm).
const noseDepth = 0.33

// minYawEyeDistance is the least distance between the eyes, in pixels, a yaw
// is estimated from: below it one pixel of landmark error is over 15°.
const minYawEyeDistance = 4

// Yaw estimates how far a face is turned left (negative) or right, in
// degrees, from its landmarks. Turning by θ about a vertical axis moves the
// nose tip sideways from the eyes' midpoint by depth·sin θ while the distance
// between the eyes shrinks by cos θ, so the nose's offset along the eye line,
// over the seen (foreshortened) eye distance, is noseDepth·tan θ. ok is false
// without landmarks or with the eyes under 4 pixels apart.
//
// It is the one yaw estimate: the face quality check (Pose, Assess) and the
// thermometer (fusion) both use it. Of the two that existed it is the one
// kept because it refuses eyes a few pixels apart, where the old quality
// estimate (which accepted eyes 1 pixel apart) read landmark noise as
// turns of tens of degrees, and its constant is the anthropometric ratio
// stated against the full eye distance. It is a screening check, good to a
// few degrees, not a head-pose estimate.
func Yaw(f Face) (deg float64, ok bool) {
	if !f.HasLandmarks {
		return 0, false
	}
	re, le, nose := f.Landmarks[RightEye], f.Landmarks[LeftEye], f.Landmarks[NoseTip]
	dx, dy := float64(le.X-re.X), float64(le.Y-re.Y)
	iod := math.Hypot(dx, dy)
	if iod < minYawEyeDistance {
		return 0, false
	}
	// The nose's offset along the line between the eyes.
	mx, my := float64(re.X+le.X)/2, float64(re.Y+le.Y)/2
	along := ((float64(nose.X)-mx)*dx + (float64(nose.Y)-my)*dy) / iod
	return math.Atan(along/iod/noseDepth) * 180 / math.Pi, true
}

// Pose estimates the head's yaw (Yaw) and roll in degrees and the eye
// distance in pixels from the five landmarks. Roll is the eye line's angle.
// ok is false when Yaw has no estimate.
func Pose(f Face) (eyeDist, yawDeg, rollDeg float64, ok bool) {
	yawDeg, ok = Yaw(f)
	if !ok {
		return 0, 0, 0, false
	}
	re, le := f.Landmarks[RightEye], f.Landmarks[LeftEye]
	dx, dy := float64(le.X-re.X), float64(le.Y-re.Y)
	return math.Hypot(dx, dy), yawDeg, math.Atan2(dy, dx) * 180 / math.Pi, true
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
