package qr

import (
	"image"

	"gocv.io/x/gocv"

	"github.com/gateguard/gateguard/vision"
)

// colourSide is the side of the square a code is rectified into to read its
// colour.
const colourSide = 96

// colourOf rectifies the code inside corners (img is BGR or BGRA), splits its
// pixels into dark and light with Otsu's threshold on the darkest channel,
// and classifies the mean colour of the dark modules.
func colourOf(img gocv.Mat, corners [4]image.Point) vision.Colour {
	src := make([]gocv.Point2f, 4)
	for i, p := range corners {
		src[i] = gocv.Point2f{X: float32(p.X), Y: float32(p.Y)}
	}
	b := image.Rectangle{Min: corners[0], Max: corners[0]}
	for _, p := range corners[1:] {
		b = b.Union(image.Rectangle{Min: p, Max: p.Add(image.Pt(1, 1))})
	}
	if b.Dx() < 4 || b.Dy() < 4 {
		return vision.ColourUnknown
	}
	s := float32(colourSide)
	dst := []gocv.Point2f{{X: 0, Y: 0}, {X: s, Y: 0}, {X: s, Y: s}, {X: 0, Y: s}}
	sv, dv := gocv.NewPoint2fVectorFromPoints(src), gocv.NewPoint2fVectorFromPoints(dst)
	defer sv.Close()
	defer dv.Close()
	h := gocv.GetPerspectiveTransform2f(sv, dv)
	defer h.Close()
	crop := gocv.NewMat()
	defer crop.Close()
	gocv.WarpPerspective(img, &crop, h, image.Pt(colourSide, colourSide))
	grey, err := darkest(crop)
	if err != nil {
		return vision.ColourUnknown
	}
	defer grey.Close()
	mask := gocv.NewMat()
	defer mask.Close()
	gocv.Threshold(grey, &mask, 0, 255, gocv.ThresholdBinaryInv|gocv.ThresholdOtsu)
	if gocv.CountNonZero(mask) == 0 {
		return vision.ColourUnknown
	}
	m := crop.MeanWithMask(mask)
	return Classify(m.Val3, m.Val2, m.Val1)
}
