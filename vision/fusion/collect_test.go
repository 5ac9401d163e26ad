package fusion

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"math"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gateguard/gateguard/device/thermal"
)

// targetScene draws the calibration target for CollectPairs: a dark disc on
// a light card in a 640×480 grey frame and a warm spot in a 32×24 thermal
// frame, at the positions at(n) gives for the n-th read (ok false: no
// target in either camera).
type targetScene struct {
	at    func(n int) (vis, th Point, ok bool)
	reads int
	g     *image.Gray
}

func (s *targetScene) read(ctx context.Context, tf *thermal.Frame) (*image.Gray, error) {
	s.reads++
	time.Sleep(100 * time.Millisecond) // a frame period, on the test's fake clock
	vis, th, ok := s.at(s.reads)
	s.g = image.NewGray(image.Rect(0, 0, 640, 480))
	for i := range s.g.Pix {
		s.g.Pix[i] = 128
	}
	tf.Resize(32, 24)
	for i := range tf.C {
		tf.C[i] = 24
	}
	if ok {
		for y := int(vis.Y) - 50; y < int(vis.Y)+50; y++ {
			for x := int(vis.X) - 50; x < int(vis.X)+50; x++ {
				s.g.SetGray(x, y, color.Gray{240})
			}
		}
		disc(s.g, vis.X, vis.Y, 20, 15)
		for y := range 24 {
			for x := range 32 {
				if d := math.Hypot(float64(x)+0.5-th.X, float64(y)+0.5-th.Y); d <= 1.3 {
					tf.C[y*32+x] = 45
				}
			}
		}
	}
	return s.g, nil
}

func TestCollectPairs(t *testing.T) {
	positions := []Pair{{Visible: Point{X: 160.5, Y: 120.5}, Thermal: Point{X: 8, Y: 6}},
		{Visible: Point{X: 480.5, Y: 360.5}, Thermal: Point{X: 24, Y: 18}}}
	shown := -1
	scene := &targetScene{at: func(n int) (Point, Point, bool) {
		p := positions[shown]
		if n <= 2 { // the first two frames: the target still moving
			p.Visible.X += float64(10 * n)
			p.Thermal.X += float64(n)
		}
		return p.Visible, p.Thermal, true
	}}
	var out bytes.Buffer
	o := CollectOptions{Positions: 2, Steady: 3, MinContrastC: 5, Timeout: 10 * time.Second,
		Show: func(i int) error { shown = i; return nil }, Far: FarEnough(image.Pt(640, 480)), Out: &out}
	pairs, size, err := CollectPairs(context.Background(), scene.read, o)
	if err != nil {
		t.Fatal(err)
	}
	if size != image.Pt(32, 24) || len(pairs) != 2 {
		t.Fatalf("%d pairs, thermal size %v", len(pairs), size)
	}
	for i, p := range pairs {
		w := positions[i]
		if math.Hypot(p.Visible.X-w.Visible.X, p.Visible.Y-w.Visible.Y) > 0.5 ||
			math.Hypot(p.Thermal.X-w.Thermal.X, p.Thermal.Y-w.Thermal.Y) > 0.1 {
			t.Errorf("position %d: %+v, want %+v", i+1, p, w)
		}
	}
	// Position 1: frames 1 and 2 moved, 3–5 steady; position 2: 6–8.
	if scene.reads != 8 {
		t.Errorf("%d frames read, want 8 (a moving target restarts the run)", scene.reads)
	}
	if !strings.Contains(out.String(), "position 2: visible (480.5, 360.5)") {
		t.Errorf("output:\n%s", out.String())
	}
}

func TestCollectPairsFails(t *testing.T) {
	fixed := Pair{Visible: Point{X: 160.5, Y: 120.5}, Thermal: Point{X: 8, Y: 6}}
	for _, tt := range []struct {
		name  string
		found bool
		want  string
	}{
		{"no target", false, "position 1: target not found steadily within 5s: visible:"},
		{"the same place twice", true, "position 2: target not found steadily within 5s: too close to a position already taken"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				scene := &targetScene{at: func(int) (Point, Point, bool) { return fixed.Visible, fixed.Thermal, tt.found }}
				o := CollectOptions{Positions: 2, Steady: 2, MinContrastC: 5, Timeout: 5 * time.Second,
					Show: func(int) error { return nil }, Far: FarEnough(image.Pt(640, 480))}
				start := time.Now()
				_, _, err := CollectPairs(context.Background(), scene.read, o)
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("error %v, want %q", err, tt.want)
				}
				if waited := time.Since(start); waited > 11*time.Second {
					t.Errorf("gave up after %v of fake time", waited)
				}
			})
		})
	}
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		scene := &targetScene{at: func(int) (Point, Point, bool) { cancel(); return fixed.Visible, fixed.Thermal, false }}
		o := CollectOptions{Positions: 1, Steady: 1, Timeout: time.Hour, Show: func(int) error { return nil }}
		synctest.Test(t, func(t *testing.T) {
			if _, _, err := CollectPairs(ctx, scene.read, o); !errors.Is(err, context.Canceled) {
				t.Fatalf("error %v, want context.Canceled", err)
			}
		})
	})
	if _, _, err := CollectPairs(context.Background(), nil, CollectOptions{}); err == nil {
		t.Error("no positions: no error")
	}
}
