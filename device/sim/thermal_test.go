package sim

import (
	"context"
	"image"
	"math"
	"testing"

	"github.com/gateguard/gateguard/device/thermal"
)

func TestThermalScene(t *testing.T) {
	cam, err := NewThermal(32, 24, 200)
	if err != nil {
		t.Fatal(err)
	}
	defer cam.Halt()
	cam.SetNoise(0)
	cam.SetFace(image.Rect(4, 4, 16, 20), 36.0, 36.8)
	cam.SetBlackbody(image.Rect(28, 1, 31, 4), 35)
	cam.SetScreen(image.Rect(20, 10, 26, 20), 32)
	cam.SetHotPixels([]image.Point{{0, 23}}, 60)
	cam.SetDrift(1)
	var f thermal.Frame
	if err := cam.NextFrame(&f); err != nil {
		t.Fatal(err)
	}
	if err := f.Check(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		x, y int
		want float64
	}{
		{"ambient", 0, 0, 25},
		{"blackbody", 29, 2, 36},
		{"screen", 22, 15, 33},
		{"hot pixel, no drift on it", 0, 23, 60},
		{"inner canthus", 10, 9, 37.8},
		{"outline", 4, 4, 34.5},
		{"nose", 10, 16, 35.5},
	}
	for _, tt := range tests {
		if got := float64(f.At(tt.x, tt.y)); math.Abs(got-tt.want) > 1e-4 {
			t.Errorf("%s at (%d,%d) = %v, want %v", tt.name, tt.x, tt.y, got, tt.want)
		}
	}
	// Removing the blackbody leaves ambient; WaitFrames counts frames.
	cam.SetBlackbody(image.Rectangle{}, 0)
	done := make(chan error)
	go func() { done <- cam.WaitFrames(context.Background(), 2) }()
	for range 2 {
		if err := cam.NextFrame(&f); err != nil {
			t.Fatal(err)
		}
	}
	// WaitFrames may have started after the first frame; one more always ends it.
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			if got := f.At(29, 2); math.Abs(float64(got)-25) > 1e-4 {
				t.Errorf("removed blackbody reads %v", got)
			}
			return
		default:
			if err := cam.NextFrame(&f); err != nil {
				t.Fatal(err)
			}
		}
	}
}
