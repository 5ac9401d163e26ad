// Package face finds faces in camera frames with OpenCV and measures what the
// gate needs to trust them: eye distance, sharpness and pose (see
// vision.Assess). YuNet runs on OpenCV 4.6's cv::FaceDetectorYN through a
// small project-owned cgo bridge (gocv does not bind it) and gives five
// landmarks; a Haar cascade from Debian's opencv-data is the fallback when no
// model is configured, with boxes only.
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
	// Quality are the limits of a good face; NewHaar sets
	// vision.DefaultQuality.
	Quality vision.QualityOpts

	cc      gocv.CascadeClassifier
	minSize int
	grey    gocv.Mat
	lap     gocv.Mat
	closed  bool
}

// NewHaar loads the cascade at path; faces narrower than minSize pixels are
// ignored.
func NewHaar(path string, minSize int) (*Haar, error) {
	cc := gocv.NewCascadeClassifier()
	if !cc.Load(path) {
		cc.Close()
		return nil, fmt.Errorf("face: load haar cascade %q: not found or not a cascade", path)
	}
	return &Haar{Quality: vision.DefaultQuality, cc: cc, minSize: minSize, grey: gocv.NewMat(), lap: gocv.NewMat()}, nil
}

// Close frees the cascade and buffers; it is idempotent.
func (h *Haar) Close() error {
	if h.closed {
		return nil
	}
	h.closed = true
	return errors.Join(h.cc.Close(), h.grey.Close(), h.lap.Close())
}

// Detect returns the faces in img (8-bit BGR, at most MaxSide a side).
func (h *Haar) Detect(img gocv.Mat) ([]vision.Face, error) {
	if h.closed {
		return nil, errors.New("face: haar: detector closed")
	}
	// The cascade takes 8-bit images only (anything else is an OpenCV
	// exception, which aborts the process).
	if img.Empty() || img.Type() != gocv.MatTypeCV8UC3 {
		return nil, fmt.Errorf("face: want an 8-bit BGR image, got %dx%d of type %v", img.Cols(), img.Rows(), img.Type())
	}
	if img.Cols() > MaxSide || img.Rows() > MaxSide {
		return nil, fmt.Errorf("face: frame %dx%d exceeds %d pixels a side", img.Cols(), img.Rows(), MaxSide)
	}
	gocv.CvtColor(img, &h.grey, gocv.ColorBGRToGray)
	rects := h.cc.DetectMultiScaleWithParams(h.grey, 1.1, 5, 0,
		image.Pt(h.minSize, h.minSize), image.Pt(0, 0))
	faces := make([]vision.Face, 0, len(rects))
	for _, r := range rects {
		f := vision.Face{Box: r, Score: 1, Sharpness: sharpness(h.grey, &h.lap, r)}
		faces = append(faces, vision.Assess(f, h.Quality))
	}
	return faces, nil
}

// sharpness is the variance of the Laplacian of grey over r, using lap as
// a buffer.
func sharpness(grey gocv.Mat, lap *gocv.Mat, r image.Rectangle) float64 {
	r = r.Intersect(image.Rect(0, 0, grey.Cols(), grey.Rows()))
	if r.Dx() < 3 || r.Dy() < 3 {
		return 0
	}
	roi := grey.Region(r)
	defer roi.Close()
	gocv.Laplacian(roi, lap, gocv.MatTypeCV64F, 1, 1, 0, gocv.BorderDefault)
	mean, std := gocv.NewMat(), gocv.NewMat()
	defer mean.Close()
	defer std.Close()
	gocv.MeanStdDev(*lap, &mean, &std)
	s := std.GetDoubleAt(0, 0)
	return s * s
}
