package facerec

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"

	"gocv.io/x/gocv"

	"github.com/gateguard/gateguard/vision"
)

// ChipPadding is the margin around dlib's mean face on a chip, as a fraction
// of the face (dlib's get_face_chip_details padding; 0.25 is what dlib's own
// face recognition example uses for this network, and on ORL s1–s12 it
// separates genuine from impostor distances better than 0.10).
const ChipPadding = 0.25

// meanFace places YuNet's five landmarks (right eye, left eye, nose tip,
// right and left mouth corner, in vision.Landmark order) on dlib's mean face
// shape, in units of the face (0–1): the eyes are the centres of dlib's six
// eye points (36–41, 42–47), the nose the bottom of dlib's nose (33, as
// the common five-point face template does: on ORL s1–s12 it leaves a wider
// gap between genuine and impostor distances than the tip, 30), the mouth
// its corners (48, 54).
var meanFace = [5][2]float64{
	{0.225492, 0.215990},
	{0.754761, 0.215990},
	{0.490127, 0.628106},
	{0.254149, 0.780233},
	{0.726104, 0.780233},
}

// chipPoint is where landmark k lands on a ChipSize chip.
func chipPoint(k int) (x, y float64) {
	f := func(m float64) float64 { return (ChipPadding + m) / (1 + 2*ChipPadding) * ChipSize }
	return f(meanFace[k][0]), f(meanFace[k][1])
}

// Similarity is the 2×3 matrix of x' = a·x − b·y + tx, y' = b·x + a·y + ty:
// rotation, uniform scale and translation.
type Similarity [2][3]float64

// FitSimilarity returns the least-squares similarity transform (no
// reflection) taking src onto dst (Umeyama's closed form in 2-D). It fails
// when the source points coincide.
func FitSimilarity(src, dst [][2]float64) (Similarity, error) {
	if len(src) != len(dst) || len(src) < 2 {
		return Similarity{}, fmt.Errorf("facerec: fit: %d source and %d target points", len(src), len(dst))
	}
	n := float64(len(src))
	var sx, sy, dx, dy float64
	for i := range src {
		sx += src[i][0]
		sy += src[i][1]
		dx += dst[i][0]
		dy += dst[i][1]
	}
	sx, sy, dx, dy = sx/n, sy/n, dx/n, dy/n
	var a, b, norm float64
	for i := range src {
		px, py := src[i][0]-sx, src[i][1]-sy
		qx, qy := dst[i][0]-dx, dst[i][1]-dy
		a += px*qx + py*qy
		b += px*qy - py*qx
		norm += px*px + py*py
	}
	if norm < 1e-9 || math.IsNaN(norm) || math.IsInf(norm, 0) {
		return Similarity{}, errors.New("facerec: fit: the landmarks coincide")
	}
	a, b = a/norm, b/norm
	return Similarity{
		{a, -b, dx - (a*sx - b*sy)},
		{b, a, dy - (b*sx + a*sy)},
	}, nil
}

// Apply maps a point.
func (s Similarity) Apply(x, y float64) (float64, float64) {
	return s[0][0]*x + s[0][1]*y + s[0][2], s[1][0]*x + s[1][1]*y + s[1][2]
}

// ChipTransform is the similarity transform taking a face's five landmarks
// (frame pixels, vision.Landmark order) onto their places on the chip.
func ChipTransform(lm [5]image.Point) (Similarity, error) {
	src := make([][2]float64, 5)
	dst := make([][2]float64, 5)
	for k := range 5 {
		src[k] = [2]float64{float64(lm[k].X), float64(lm[k].Y)}
		dst[k][0], dst[k][1] = chipPoint(k)
	}
	s, err := FitSimilarity(src, dst)
	if err != nil {
		return s, err
	}
	// A face's right eye is left of its left eye in the image; a transform
	// that turns the face over (|angle| > 90°) means swapped landmarks.
	if s[0][0] <= 0 {
		return Similarity{}, fmt.Errorf("facerec: landmarks %v are not an upright face (turned %.0f°)", lm, math.Atan2(s[1][0], s[0][0])*180/math.Pi)
	}
	return s, nil
}

// Align warps the face with landmarks lm in frame (8-bit BGR, or grey, which
// is copied to three channels) onto a ChipSize×ChipSize BGR chip by the
// similarity transform from its five landmarks onto dlib's mean face (with
// ChipPadding), written into chip, which the caller owns (and may reuse
// from frame to frame). Pixels outside the frame repeat its border.
func Align(frame gocv.Mat, lm [5]image.Point, chip *gocv.Mat) error {
	if frame.Empty() || (frame.Type() != gocv.MatTypeCV8UC3 && frame.Type() != gocv.MatTypeCV8UC1) {
		return fmt.Errorf("facerec: align: want an 8-bit BGR or grey frame, got %dx%d with %d channels", frame.Cols(), frame.Rows(), frame.Channels())
	}
	s, err := ChipTransform(lm)
	if err != nil {
		return err
	}
	m := gocv.NewMatWithSize(2, 3, gocv.MatTypeCV64F)
	defer m.Close()
	for r := range 2 {
		for c := range 3 {
			m.SetDoubleAt(r, c, s[r][c])
		}
	}
	gocv.WarpAffineWithParams(frame, chip, m, image.Pt(ChipSize, ChipSize), gocv.InterpolationLinear, gocv.BorderReplicate, color.RGBA{})
	if chip.Channels() == 1 {
		gocv.CvtColor(*chip, chip, gocv.ColorGrayToBGR)
	}
	return nil
}

// AlignFace is Align for a detected face; it fails for a face without
// landmarks (a Haar cascade's).
func AlignFace(frame gocv.Mat, f vision.Face, chip *gocv.Mat) error {
	if !f.HasLandmarks {
		return errors.New("facerec: align: the face has no landmarks (use the YuNet detector)")
	}
	return Align(frame, f.Landmarks, chip)
}
