package fusion

import (
	"fmt"
	"image"
	"time"

	"github.com/gateguard/gateguard/device/thermal"
)

// BlackbodyOptions describes the blackbody reference: a target held at a
// known temperature, in view at the subject's distance, read in every frame
// to cancel the camera's drift (IEC 80601-2-59).
type BlackbodyOptions struct {
	// Rect is the blackbody's region in thermal pixels.
	Rect image.Rectangle
	// SetpointC is the blackbody's temperature.
	SetpointC float64
	// MaxVariationC is how much its reading may vary over Window before
	// screening pauses (0.1 °C by the standard).
	MaxVariationC float64
	// Window is the time over which the variation is measured.
	Window time.Duration
	// MaxOffsetC is the largest difference between reading and setpoint
	// taken as camera drift; a larger one means the blackbody is not there.
	MaxOffsetC float64
	// MaxSpreadC is the largest difference between pixels inside Rect; a
	// larger one means it is partly covered or out of place.
	MaxSpreadC float64
}

// blackbody tracks the reference's readings over a window.
type blackbody struct {
	o       BlackbodyOptions
	samples []bbSample
	status  error // the last frame's verdict
}

type bbSample struct {
	t time.Time
	c float64
}

func newBlackbody(o BlackbodyOptions) (*blackbody, error) {
	if o.Rect.Empty() || o.Rect.Min.X < 0 || o.Rect.Min.Y < 0 {
		return nil, fmt.Errorf("fusion: blackbody region %v is empty or negative", o.Rect)
	}
	if o.MaxVariationC <= 0 || o.Window <= 0 || o.MaxOffsetC <= 0 || o.MaxSpreadC <= 0 {
		return nil, fmt.Errorf("fusion: blackbody limits must be positive: %+v", o)
	}
	return &blackbody{o: o, status: fmt.Errorf("fusion: blackbody not read yet: %w", thermal.ErrUnavailable)}, nil
}

// read returns the blackbody's temperature in tf: the mean of its region
// without the warmest and coolest pixel (when there are more than 4).
func (b *blackbody) read(tf *thermal.Frame) (float64, error) {
	r := b.o.Rect
	if !r.In(tf.Bounds()) {
		return 0, fmt.Errorf("fusion: blackbody region %v is outside the %dx%d frame: %w", r, tf.W, tf.H, thermal.ErrUnavailable)
	}
	var sum float64
	lo, hi := float64(tf.C[r.Min.Y*tf.W+r.Min.X]), float64(tf.C[r.Min.Y*tf.W+r.Min.X])
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := float64(tf.C[y*tf.W+x])
			sum += c
			lo, hi = min(lo, c), max(hi, c)
			n++
		}
	}
	if n > 4 {
		sum -= lo + hi
		n -= 2
	}
	c := sum / float64(n)
	switch {
	case hi-lo > b.o.MaxSpreadC:
		return c, fmt.Errorf("fusion: blackbody missing: its region is not uniform (%.1f °C apart): %w", hi-lo, thermal.ErrUnavailable)
	case c-b.o.SetpointC > b.o.MaxOffsetC || b.o.SetpointC-c > b.o.MaxOffsetC:
		return c, fmt.Errorf("fusion: blackbody missing: its region reads %.1f °C, set point %.1f °C: %w", c, b.o.SetpointC, thermal.ErrUnavailable)
	}
	return c, nil
}

// observe adds a frame's reading to the window and sets the status. The
// messages do not carry the measured values, so that a persisting fault
// reads the same from frame to frame.
func (b *blackbody) observe(tf *thermal.Frame) error {
	c, err := b.read(tf)
	if err != nil {
		b.samples = b.samples[:0]
		b.status = fmt.Errorf("fusion: blackbody missing or out of place: %w", thermal.ErrUnavailable)
		return b.status
	}
	cut := tf.Time.Add(-b.o.Window)
	i := 0
	for i < len(b.samples) && b.samples[i].t.Before(cut) {
		i++
	}
	if tf.Time.IsZero() {
		// A sensor that does not time its frames: keep the last 16.
		i = max(0, len(b.samples)-15)
	}
	b.samples = append(b.samples[:0], b.samples[i:]...)
	b.samples = append(b.samples, bbSample{tf.Time, c})
	lo, hi := c, c
	for _, s := range b.samples {
		lo, hi = min(lo, s.c), max(hi, s.c)
	}
	if hi-lo > b.o.MaxVariationC {
		b.status = fmt.Errorf("fusion: blackbody unstable: varies more than %.2f °C over %v: %w",
			b.o.MaxVariationC, b.o.Window, thermal.ErrUnavailable)
		return b.status
	}
	b.status = nil
	return nil
}

// current returns the blackbody's reading in tf if the reference is usable:
// present in tf and stable over the window up to the last observed frame.
func (b *blackbody) current(tf *thermal.Frame) (float64, error) {
	c, err := b.read(tf)
	if err != nil {
		return 0, err
	}
	if b.status != nil {
		return 0, b.status
	}
	return c, nil
}

// CheckBlackbody reads the blackbody described by o in one frame and returns
// its reading, or an error wrapping thermal.ErrUnavailable saying why it is
// not in view (region outside the frame, not uniform, too far from the set
// point). It keeps no state: stability over a window is the Meter's
// (CheckFrame). It is for installation checks (gateguard selftest).
func CheckBlackbody(o BlackbodyOptions, tf *thermal.Frame) (float64, error) {
	b, err := newBlackbody(o)
	if err != nil {
		return 0, err
	}
	return b.read(tf)
}
