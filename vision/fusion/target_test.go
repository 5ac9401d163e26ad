package fusion

import (
	"errors"
	"image"
	"image/color"
	"math"
	"testing"

	"github.com/gateguard/gateguard/device/sim"
	"github.com/gateguard/gateguard/device/thermal"
)

func TestFindHotSpot(t *testing.T) {
	cam, err := sim.NewThermal(32, 24, 1000)
	if err != nil {
		t.Fatal(err)
	}
	defer cam.Halt()
	cam.SetBlackbody(bbRect, 35)
	cam.SetNoise(0.05)
	tests := []struct {
		name    string
		x, y, r float64
		setup   func()
		wantErr bool
	}{
		{name: "centred on a pixel", x: 10.5, y: 8.5, r: 1.2},
		{name: "between pixels", x: 20.25, y: 15.7, r: 1.5},
		{name: "near the edge", x: 2.3, y: 21.6, r: 1.2},
		{name: "two warm spots", x: 10.5, y: 8.5, r: 1.2, wantErr: true,
			setup: func() { cam.SetScreen(image.Rect(20, 15, 23, 18), 46) }},
		{name: "a lone hot pixel is not the target", wantErr: true,
			setup: func() { cam.SetHotPixels([]image.Point{{5, 5}}, 60) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cam.SetSpot(tt.x, tt.y, tt.r, 45)
			cam.SetScreen(image.Rectangle{}, 0)
			cam.SetHotPixels(nil, 0)
			if tt.setup != nil {
				tt.setup()
			}
			var f thermal.Frame
			if err := cam.NextFrame(&f); err != nil {
				t.Fatal(err)
			}
			p, err := FindHotSpot(&f, 5, bbRect)
			if tt.wantErr {
				if !errors.Is(err, ErrNoTarget) {
					t.Fatalf("err = %v, want ErrNoTarget (found %v)", err, p)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := math.Hypot(p.X-tt.x, p.Y-tt.y); d > 0.1 {
				t.Errorf("found %v, want (%v, %v): %.3f px off", p, tt.x, tt.y, d)
			}
		})
	}
}

func disc(g *image.Gray, cx, cy, r float64, v uint8) {
	for y := g.Rect.Min.Y; y < g.Rect.Max.Y; y++ {
		for x := g.Rect.Min.X; x < g.Rect.Max.X; x++ {
			if dx, dy := float64(x)+0.5-cx, float64(y)+0.5-cy; dx*dx+dy*dy <= r*r {
				g.SetGray(x, y, color.Gray{v})
			}
		}
	}
}

func TestFindDarkDisc(t *testing.T) {
	fill := func(g *image.Gray, r image.Rectangle, v uint8) {
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				g.SetGray(x, y, color.Gray{v})
			}
		}
	}
	tests := []struct {
		name    string
		draw    func(g *image.Gray)
		x, y    float64
		wantErr bool
	}{
		{"disc on a card", func(g *image.Gray) {
			fill(g, image.Rect(200, 100, 300, 200), 240)
			disc(g, 250.5, 150.5, 24, 15)
		}, 250.5, 150.5, false},
		{"off-centre disc", func(g *image.Gray) {
			fill(g, image.Rect(400, 300, 500, 400), 240)
			disc(g, 451, 352, 20, 15)
		}, 451, 352, false},
		{"no target", func(*image.Gray) {}, 0, 0, true},
		{"a dark bar is not round", func(g *image.Gray) { fill(g, image.Rect(100, 100, 300, 120), 10) }, 0, 0, true},
		{"two discs", func(g *image.Gray) {
			disc(g, 100, 100, 20, 10)
			disc(g, 300, 300, 20, 10)
		}, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := image.NewGray(image.Rect(0, 0, 640, 480))
			fill(g, g.Rect, 90)
			tt.draw(g)
			p, err := FindDarkDisc(g)
			if tt.wantErr {
				if !errors.Is(err, ErrNoTarget) {
					t.Fatalf("err = %v (found %v)", err, p)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := math.Hypot(p.X-tt.x, p.Y-tt.y); d > 0.3 {
				t.Errorf("found %v, want (%v, %v)", p, tt.x, tt.y)
			}
		})
	}
}
