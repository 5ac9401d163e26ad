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
// Snapshots colourises a thermal frame into a PNG kept by its hash.
package fusion

import (
	"errors"
	"image"
)

// ErrNoRegion reports a face that maps to no thermal pixels.
var ErrNoRegion = errors.New("fusion: face maps outside the thermal frame")

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
