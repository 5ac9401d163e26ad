package fusion

import (
	"errors"
	"image"
	"math"
	"testing"

	"github.com/gateguard/gateguard/device/thermal"
	"github.com/gateguard/gateguard/vision"
)

func frame(w, h int, ambient float32) *thermal.Frame {
	f := &thermal.Frame{}
	f.Resize(w, h)
	for i := range f.C {
		f.C[i] = ambient
	}
	return f
}

func TestMeasure(t *testing.T) {
	face := vision.Face{Box: image.Rect(200, 120, 360, 320)} // in a 640x480 frame
	size := image.Pt(640, 480)
	tests := []struct {
		name    string
		setup   func(f *thermal.Frame)
		want    float64
		wantErr error
	}{
		{"ambient only", func(*thermal.Frame) {}, 24, nil},
		{"warm face", func(f *thermal.Frame) {
			for y := 6; y < 16; y++ {
				for x := 10; x < 18; x++ {
					f.C[y*32+x] = 36.4
				}
			}
		}, 36.4, nil},
		{"one hot pixel is rejected", func(f *thermal.Frame) {
			for y := 6; y < 16; y++ {
				for x := 10; x < 18; x++ {
					f.C[y*32+x] = 36.4
				}
			}
			f.C[10*32+12] = 45
		}, 36.4, nil},
		{"hot pixel outside the face is ignored", func(f *thermal.Frame) { f.C[0] = 40 }, 24, nil},
		{"NaN pixel is a bad frame", func(f *thermal.Frame) { f.C[5] = float32(math.NaN()) }, 0, thermal.ErrBadFrame},
	}
	s := &Scaled{HotPixels: 4, CoreOffsetC: 0.5}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := frame(32, 24, 24)
			tt.setup(f)
			r, err := s.Measure(f, face, size)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if math.Abs(r.SkinC-tt.want) > 0.01 || math.Abs(r.CoreC-r.SkinC-0.5) > 0.011 {
				t.Errorf("reading %+v, want skin %v", r, tt.want)
			}
		})
	}
}

func TestMeasureOutside(t *testing.T) {
	s := &Scaled{}
	_, err := s.Measure(frame(32, 24, 24), vision.Face{Box: image.Rect(700, 500, 800, 600)}, image.Pt(640, 480))
	if !errors.Is(err, ErrNoRegion) {
		t.Fatalf("err = %v", err)
	}
}

func TestMapRect(t *testing.T) {
	got := MapRect(image.Rect(0, 96, 384, 384), image.Pt(640, 480), image.Pt(32, 24))
	if want := image.Rect(0, 4, 20, 20); got != want {
		t.Errorf("MapRect = %v, want %v", got, want)
	}
}
