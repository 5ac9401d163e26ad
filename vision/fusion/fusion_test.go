package fusion

import (
	"image"
	"testing"

	"github.com/gateguard/gateguard/device/thermal"
)

func frame(w, h int, ambient float32) *thermal.Frame {
	f := &thermal.Frame{}
	f.Resize(w, h)
	for i := range f.C {
		f.C[i] = ambient
	}
	return f
}

func TestMapRect(t *testing.T) {
	got := MapRect(image.Rect(0, 96, 384, 384), image.Pt(640, 480), image.Pt(32, 24))
	if want := image.Rect(0, 4, 20, 20); got != want {
		t.Errorf("MapRect = %v, want %v", got, want)
	}
}
