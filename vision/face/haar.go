// Package face finds faces in camera frames with OpenCV and measures what the
// gate needs to trust them: size and sharpness. This version uses a Haar
// cascade from Debian's opencv-data; it gives boxes without landmarks.
package face

import (
	"errors"
	"fmt"
	"image"

	"gocv.io/x/gocv"

	"github.com/gateguard/gateguard/vision"
)

// Haar detects frontal faces with an OpenCV Haar cascade. It is not safe for
// concurrent use.
type Haar struct {
	cc      gocv.CascadeClassifier
	minSize int
	grey    gocv.Mat
	lap     gocv.Mat
}

// NewHaar loads the cascade at path; faces narrower than minSize pixels are
// ignored.
func NewHaar(path string, minSize int) (*Haar, error) {
	cc := gocv.NewCascadeClassifier()
	if !cc.Load(path) {
		cc.Close()
		return nil, fmt.Errorf("face: load haar cascade %q: not found or not a cascade", path)
	}
	return &Haar{cc: cc, minSize: minSize, grey: gocv.NewMat(), lap: gocv.NewMat()}, nil
}

// Close frees the cascade and buffers.
func (h *Haar) Close() error {
	return errors.Join(h.cc.Close(), h.grey.Close(), h.lap.Close())
}

// Detect returns the faces in img (BGR).
func (h *Haar) Detect(img gocv.Mat) ([]vision.Face, error) {
	if img.Empty() || img.Channels() != 3 {
		return nil, fmt.Errorf("face: want a BGR image, got %dx%d with %d channels", img.Cols(), img.Rows(), img.Channels())
	}
	gocv.CvtColor(img, &h.grey, gocv.ColorBGRToGray)
	rects := h.cc.DetectMultiScaleWithParams(h.grey, 1.1, 5, 0,
		image.Pt(h.minSize, h.minSize), image.Pt(0, 0))
	faces := make([]vision.Face, 0, len(rects))
	for _, r := range rects {
		faces = append(faces, vision.Face{Box: r, Score: 1, Sharpness: h.sharpness(r)})
	}
	return faces, nil
}

// sharpness is the variance of the Laplacian over the face region.
func (h *Haar) sharpness(r image.Rectangle) float64 {
	roi := h.grey.Region(r)
	defer roi.Close()
	gocv.Laplacian(roi, &h.lap, gocv.MatTypeCV64F, 1, 1, 0, gocv.BorderDefault)
	mean, std := gocv.NewMat(), gocv.NewMat()
	defer mean.Close()
	defer std.Close()
	gocv.MeanStdDev(h.lap, &mean, &std)
	s := std.GetDoubleAt(0, 0)
	return s * s
}
