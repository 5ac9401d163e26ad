// Package fusion measures skin temperature by joining the two cameras: it maps
// a face found in the visible frame into the thermal frame and reads the
// temperature there. It is pure Go and used by the gate through its
// Thermometer port (cmd wires it; fusion does not import the gate).
//
// Registration is a homography from at least four point pairs
// (SolveHomography), stored with an id in a calibration file
// (Calibration). Meter is the thermometer: inner-canthus regions from the eye
// landmarks (or the whole face), a robust maximum, blackbody drift
// correction, thermal liveness, a distance gate and the core estimate.
// Snapshots colourises a thermal frame into a PNG kept by its hash. Scaled is
// the first, simpler thermometer for cameras sharing one field of view.
package fusion

import (
	"errors"
	"fmt"
	"image"
	"slices"

	"github.com/gateguard/gateguard/device/thermal"
	"github.com/gateguard/gateguard/vision"
)

// ErrNoRegion reports a face that maps to no thermal pixels.
var ErrNoRegion = errors.New("fusion: face maps outside the thermal frame")

// Scaled is a Thermometer for cameras that share one field of view.
type Scaled struct {
	// CoreOffsetC is added to the skin temperature for the core estimate.
	CoreOffsetC float64
	// HotPixels is how many of the hottest face pixels are averaged; at
	// least 1. Averaging a few rejects isolated hot pixels.
	HotPixels int
	// CalibrationID names this registration in readings.
	CalibrationID string
}

// Measure reads the face's robust maximum temperature.
func (s *Scaled) Measure(tf *thermal.Frame, face vision.Face, size image.Point) (thermal.Reading, error) {
	if err := tf.Check(); err != nil {
		return thermal.Reading{}, fmt.Errorf("fusion: %w", err)
	}
	if size.X <= 0 || size.Y <= 0 {
		return thermal.Reading{}, fmt.Errorf("fusion: visible frame size %v", size)
	}
	r := MapRect(face.Box, size, image.Pt(tf.W, tf.H))
	if r.Empty() {
		return thermal.Reading{}, ErrNoRegion
	}
	vals := make([]float32, 0, r.Dx()*r.Dy())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		vals = append(vals, tf.C[y*tf.W+r.Min.X:y*tf.W+r.Max.X]...)
	}
	slices.Sort(vals)
	n := min(max(s.HotPixels, 1), len(vals))
	// Drop the single hottest pixel when there are enough to spare: an
	// isolated hot pixel is a defect or a reflection, not skin.
	hot := vals[len(vals)-n:]
	if len(vals) > 2*n {
		hot = vals[len(vals)-n-1 : len(vals)-1]
	}
	var sum float64
	for _, v := range hot {
		sum += float64(v)
	}
	skin := sum / float64(len(hot))
	return thermal.Reading{
		SkinC:         round2(skin),
		CoreC:         round2(skin + s.CoreOffsetC),
		Region:        "face",
		CalibrationID: s.CalibrationID,
	}, nil
}

// MapRect scales a rectangle in a frame of size from to a frame of size to,
// clipped to it.
func MapRect(r image.Rectangle, from, to image.Point) image.Rectangle {
	sx := func(x int) int { return x * to.X / from.X }
	sy := func(y int) int { return y * to.Y / from.Y }
	m := image.Rect(sx(r.Min.X), sy(r.Min.Y), (r.Max.X*to.X+from.X-1)/from.X, (r.Max.Y*to.Y+from.Y-1)/from.Y)
	return m.Intersect(image.Rect(0, 0, to.X, to.Y))
}

func round2(v float64) float64 {
	if v < 0 {
		return -round2(-v)
	}
	return float64(int64(v*100+0.5)) / 100
}
