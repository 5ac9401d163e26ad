// Package thermal holds the contract every thermal camera driver fills: a frame
// of per-pixel temperatures in degrees Celsius and the Sensor interface. Drivers
// (mlx90640, lepton, amg8833, uvc, the simulator) live in packages below it; the
// fusion and the gate use only this package.
package thermal

import (
	"errors"
	"fmt"
	"image"
	"math"
	"time"
)

// Frame is one thermal image. The caller owns it and passes it to
// Sensor.NextFrame to be filled, so a loop reuses one allocation.
type Frame struct {
	// W and H are the frame's width and height in pixels.
	W, H int
	// C holds W*H temperatures in °C, row by row.
	C []float32
	// Time is when the frame was read.
	Time time.Time
	// Seq counts frames from the sensor, starting at 1.
	Seq uint64
}

// ErrBadFrame reports a frame with no usable temperature reading.
var ErrBadFrame = errors.New("thermal: bad frame")

// At returns the temperature at (x, y); the point must be inside the frame.
func (f *Frame) At(x, y int) float32 { return f.C[y*f.W+x] }

// Resize makes C hold w*h values, reusing its storage when it can.
func (f *Frame) Resize(w, h int) {
	f.W, f.H = w, h
	if cap(f.C) >= w*h {
		f.C = f.C[:w*h]
	} else {
		f.C = make([]float32, w*h)
	}
}

// CopyFrom makes f a deep copy of src, reusing f's storage.
func (f *Frame) CopyFrom(src *Frame) {
	f.Resize(src.W, src.H)
	copy(f.C, src.C)
	f.Time, f.Seq = src.Time, src.Seq
}

// Bounds returns the frame's rectangle.
func (f *Frame) Bounds() image.Rectangle { return image.Rect(0, 0, f.W, f.H) }

// Check returns ErrBadFrame, wrapped with the reason, when the frame's shape is
// wrong or any pixel is NaN, infinite or outside -40–300 °C: such a frame must
// never yield a temperature.
func (f *Frame) Check() error {
	if f.W <= 0 || f.H <= 0 || len(f.C) != f.W*f.H {
		return fmt.Errorf("%w: size %dx%d with %d pixels", ErrBadFrame, f.W, f.H, len(f.C))
	}
	for i, c := range f.C {
		if math.IsNaN(float64(c)) || math.IsInf(float64(c), 0) || c < -40 || c > 300 {
			return fmt.Errorf("%w: pixel (%d,%d) reads %v °C", ErrBadFrame, i%f.W, i/f.W, c)
		}
	}
	return nil
}

// Sensor is a thermal camera. NextFrame blocks until the next frame is ready
// and fills f; Size is the frame size it gives (the zero Point while not
// known, for a camera that says only with its first frame); Halt stops the
// sensor and leaves it inert.
type Sensor interface {
	NextFrame(f *Frame) error
	Size() image.Point
	Halt() error
	String() string
}

// Reading is a skin-temperature measurement of the subject's face, with what
// it was compared with and how it was calibrated.
type Reading struct {
	// SkinC is the measured skin temperature (inner canthus or face maximum).
	SkinC float64 `json:"skin_c"`
	// CoreC is the core estimate: skin plus the calibrated offset.
	CoreC float64 `json:"core_c"`
	// ThresholdC is the fever threshold the core estimate was compared with.
	ThresholdC float64 `json:"threshold_c"`
	// Region names where it was measured (canthus, face).
	Region string `json:"region,omitempty"`
	// BlackbodyC is the blackbody reference read in the same frame, if any.
	BlackbodyC *float64 `json:"blackbody_c,omitempty"`
	// CalibrationID identifies the camera registration used.
	CalibrationID string `json:"calibration_id,omitempty"`
	// DriftC is the blackbody drift correction applied to every pixel
	// (setpoint − blackbody reading), when a blackbody is configured.
	DriftC *float64 `json:"drift_correction_c,omitempty"`
	// AmbientC is the ambient temperature used for compensation.
	AmbientC *float64 `json:"ambient_c,omitempty"`
	// NotSkin, when set, says why the region behind the face is not skin
	// (no warm region, too small a warm region, a uniform warm surface):
	// a photo or a screen.
	NotSkin string `json:"not_skin,omitempty"`
	// Measurements is how many thermal frames the reading combines: 2 when
	// a borderline first reading was measured again.
	Measurements int `json:"measurements,omitempty"`
	// Snapshot is the SHA-256 (hex) of the colourised thermal snapshot kept
	// on the gate, when one was taken.
	Snapshot string `json:"snapshot,omitempty"`
}
