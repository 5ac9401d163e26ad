package fusion

import (
	"errors"
	"image"
	"testing"
	"time"

	"github.com/gateguard/gateguard/device/thermal"
)

func TestCheckBlackbody(t *testing.T) {
	o := BlackbodyOptions{Rect: image.Rect(28, 1, 31, 4), SetpointC: 35, MaxVariationC: 0.1,
		Window: 2 * time.Second, MaxOffsetC: 3, MaxSpreadC: 1}
	frame := func(bb float32) *thermal.Frame {
		f := &thermal.Frame{W: 32, H: 24, C: make([]float32, 32*24)}
		for i := range f.C {
			f.C[i] = 22
		}
		for y := 1; y < 4; y++ {
			for x := 28; x < 31; x++ {
				f.C[y*32+x] = bb
			}
		}
		return f
	}
	for _, tt := range []struct {
		name string
		f    *thermal.Frame
		ok   bool
	}{
		{"in view", frame(34.6), true},
		{"missing", frame(22), false},
		{"frame too small", &thermal.Frame{W: 8, H: 8, C: make([]float32, 64)}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := CheckBlackbody(o, tt.f)
			if tt.ok != (err == nil) {
				t.Fatalf("CheckBlackbody = %v, %v", c, err)
			}
			if err != nil && !errors.Is(err, thermal.ErrUnavailable) {
				t.Errorf("error %v does not wrap ErrUnavailable", err)
			}
			if tt.ok && (c < 34.5 || c > 34.7) {
				t.Errorf("reading %v, want 34.6", c)
			}
		})
	}
}
