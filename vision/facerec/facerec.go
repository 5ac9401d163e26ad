// Package facerec turns a detected face into a descriptor that can be
// compared with an enrolled one: it aligns the face by its five landmarks
// onto a 150×150 chip (Align) and computes a descriptor from the chip
// through a Descriptor.
//
// Two descriptors exist. Net runs face-api's 128-d ResNet (of dlib's design),
// converted to ONNX by vision/facerec/convert, on OpenCV's dnn module; faces
// are compared by euclidean distance. LBPH (OpenCV's local binary pattern
// histograms, from the face module) is the fallback when no model is
// installed: it is much weaker (at 1 % false accepts it rejects several
// times more genuine faces) and says so in its Name.
//
// Descriptors are biometric templates: keep them on the device, never in logs.
package facerec

import (
	"fmt"
	"math"

	"gocv.io/x/gocv"
)

// ChipSize is the side of an aligned face chip, in pixels.
const ChipSize = 150

// Descriptor computes comparable descriptors from aligned face chips.
// Implementations are not safe for concurrent use.
type Descriptor interface {
	// Name says what the descriptor is, e.g. "faceapi-resnet128".
	Name() string
	// ModelID identifies the exact model (name and a hash of the file), so
	// templates enrolled with one model are never compared with another's.
	ModelID() string
	// Embed computes the descriptor of chip, a ChipSize×ChipSize 8-bit BGR
	// image from Align.
	Embed(chip gocv.Mat) ([]float32, error)
	// Distance compares two descriptors: smaller is more alike.
	Distance(a, b []float32) float64
	// Threshold is the default largest distance of a match (see README).
	Threshold() float64
	// Close frees the model; it is idempotent.
	Close() error
}

// Distance is the euclidean distance between a and b; it is +Inf when their
// lengths differ or either is empty, so a malformed template never matches.
func Distance(a, b []float32) float64 {
	if len(a) != len(b) || len(a) == 0 {
		return math.Inf(1)
	}
	var s float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		s += d * d
	}
	return math.Sqrt(s)
}

// checkChip returns an error unless m is a ChipSize×ChipSize 8-bit BGR image.
func checkChip(m gocv.Mat) error {
	if m.Empty() || m.Rows() != ChipSize || m.Cols() != ChipSize || m.Type() != gocv.MatTypeCV8UC3 {
		return fmt.Errorf("facerec: want a %d×%d 8-bit BGR chip, got %dx%d with %d channels", ChipSize, ChipSize, m.Cols(), m.Rows(), m.Channels())
	}
	return nil
}

// Dim returns the length of d's descriptors, by describing a blank chip.
func Dim(d Descriptor) (int, error) {
	chip := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(128, 128, 128, 0), ChipSize, ChipSize, gocv.MatTypeCV8UC3)
	defer chip.Close()
	v, err := d.Embed(chip)
	if err != nil {
		return 0, fmt.Errorf("facerec: descriptor length: %w", err)
	}
	return len(v), nil
}
