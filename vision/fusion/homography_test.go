package fusion

import (
	"errors"
	"image"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// known is a realistic face-camera → thermal mapping: a 640x480 camera and a
// 32x24 thermal camera mounted side by side, slightly rotated, with a little
// perspective.
var known = Homography{0.052, 0.003, -1.5, -0.002, 0.049, 0.8, 0.00002, -0.00001, 1}

func pairsFor(h Homography, pts []Point) []Pair {
	out := make([]Pair, len(pts))
	for i, p := range pts {
		q, _ := h.Apply(p)
		out[i] = Pair{Visible: p, Thermal: q}
	}
	return out
}

func TestSolveHomographyRecoversKnown(t *testing.T) {
	grid := []Point{{100, 80}, {540, 90}, {530, 400}, {110, 390}, {320, 240}, {200, 300}, {450, 150}, {320, 100}, {320, 420}}
	rng := rand.New(rand.NewPCG(3, 4))
	tests := []struct {
		name  string
		pts   []Point
		noise float64 // thermal pixels
		tol   float64 // max mapping error over the frame, thermal pixels
	}{
		{"four corners, exact", grid[:4], 0, 1e-6},
		{"nine points, exact", grid, 0, 1e-6},
		{"nine points, 0.05 px noise", grid, 0.05, 0.25},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pairs := pairsFor(known, tt.pts)
			for i := range pairs {
				pairs[i].Thermal.X += rng.NormFloat64() * tt.noise
				pairs[i].Thermal.Y += rng.NormFloat64() * tt.noise
			}
			h, rms, err := SolveHomography(pairs)
			if err != nil {
				t.Fatal(err)
			}
			if tt.noise == 0 && rms > 1e-6 {
				t.Errorf("rms %v on exact pairs", rms)
			}
			for y := 0.0; y <= 480; y += 60 {
				for x := 0.0; x <= 640; x += 80 {
					want, _ := known.Apply(Point{x, y})
					got, _ := h.Apply(Point{x, y})
					if d := math.Hypot(got.X-want.X, got.Y-want.Y); d > tt.tol {
						t.Fatalf("(%v,%v) → %v, want %v (error %.3g px)", x, y, got, want, d)
					}
				}
			}
		})
	}
}

func TestSolveHomographyRejects(t *testing.T) {
	tests := []struct {
		name string
		pts  []Pair
		want error
	}{
		{"three pairs", pairsFor(known, []Point{{0, 0}, {100, 0}, {0, 100}}), ErrTooFewPoints},
		{"all collinear", pairsFor(known, []Point{{0, 0}, {100, 100}, {200, 200}, {300, 300}}), ErrDegenerate},
		{"three of four collinear", pairsFor(known, []Point{{0, 0}, {100, 0}, {200, 0}, {50, 200}}), ErrDegenerate},
		{"repeated point", pairsFor(known, []Point{{0, 0}, {100, 0}, {100, 0}, {0, 100}}), ErrDegenerate},
		{"all the same point", pairsFor(known, []Point{{5, 5}, {5, 5}, {5, 5}, {5, 5}}), ErrDegenerate},
		{"NaN coordinate", []Pair{{Point{math.NaN(), 0}, Point{}}, {}, {}, {}}, ErrDegenerate},
		{"thermal points collinear", []Pair{
			{Point{0, 0}, Point{1, 1}}, {Point{100, 0}, Point{2, 2}},
			{Point{100, 100}, Point{3, 3}}, {Point{0, 100}, Point{4, 4}}}, ErrDegenerate},
		{"folded (a mirror on one pair)", []Pair{
			{Point{0, 0}, Point{0, 0}}, {Point{100, 0}, Point{10, 0}},
			{Point{100, 100}, Point{0, 10}}, {Point{0, 100}, Point{10, 10}}}, ErrDegenerate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := SolveHomography(tt.pts)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestMapRectScale(t *testing.T) {
	h := Scale(image.Pt(640, 480), image.Pt(32, 24))
	got := h.MapRect(image.Rect(0, 96, 384, 384), image.Rect(0, 0, 32, 24))
	if want := image.Rect(0, 4, 20, 20); got != want {
		t.Errorf("MapRect = %v, want %v", got, want)
	}
	if r := h.MapRect(image.Rect(700, 500, 800, 600), image.Rect(0, 0, 32, 24)); !r.Empty() {
		t.Errorf("outside rect maps to %v", r)
	}
}

func TestCalibrationRoundTrip(t *testing.T) {
	pts := []Point{{100, 80}, {540, 90}, {530, 400}, {110, 390}, {320, 240}}
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	c, err := NewCalibration(pairsFor(known, pts), image.Pt(640, 480), image.Pt(32, 24), now)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.ID, "cal-20261127-") || len(c.ID) != len("cal-20261127-")+8 {
		t.Errorf("id %q", c.ID)
	}
	path := filepath.Join(t.TempDir(), "calibration.json")
	if err := WriteCalibration(path, c); err != nil {
		t.Fatal(err)
	}
	got, err := LoadCalibration(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != c.ID || got.Homography != c.Homography || len(got.Pairs) != 5 || !got.Created.Equal(c.Created) {
		t.Errorf("round trip: %+v, want %+v", got, c)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	// A bad calibration is refused before anything is written.
	bad := *c
	bad.ID = "no spaces"
	if err := WriteCalibration(path, &bad); !errors.Is(err, ErrCalibration) {
		t.Errorf("write bad: %v", err)
	}
	if again, _ := LoadCalibration(path); again == nil || again.ID != c.ID {
		t.Error("a refused write changed the file")
	}
}

func TestParseCalibrationErrors(t *testing.T) {
	good, err := os.ReadFile("testdata/calibration.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseCalibration(good); err != nil {
		t.Fatalf("testdata/calibration.json: %v", err)
	}
	s := string(good)
	tests := []struct{ name, data, want string }{
		{"empty", "", "EOF"},
		{"not JSON", "homography: 1", "invalid character"},
		{"unknown field", strings.Replace(s, `"version"`, `"lens": 1, "version"`, 1), `unknown field "lens"`},
		{"trailing data", s + "{}", "data after"},
		{"version", strings.Replace(s, `"version": 1`, `"version": 2`, 1), "version 2"},
		{"id", strings.Replace(s, `"id": "cal-20261127-7ce11c35"`, `"id": ""`, 1), `id ""`},
		{"thermal size", strings.Replace(s, `"thermal_size": [`, `"thermal_size": [0, `, 1), "thermal_size"},
		{"singular", strings.Replace(s, `"homography": [`, `"homography": [0, 0, 0, 0, 0, 0, 0, 0, 1], "x": [`, 1), "unknown field"},
		{"too few pairs", `{"version":1,"id":"a","visible_size":[640,480],"thermal_size":[32,24],"homography":[0.05,0,0,0,0.05,0,0,0,1],"pairs":[]}`, "0 pairs"},
		{"zero homography", `{"version":1,"id":"a","visible_size":[640,480],"thermal_size":[32,24],"homography":[0,0,0,0,0,0,0,0,1]}`, "not finite and invertible"},
		{"maps far away", `{"version":1,"id":"a","visible_size":[640,480],"thermal_size":[32,24],"homography":[1,0,0,0,1,0,0,0,1],"pairs":[{},{},{},{}]}`, "far outside"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCalibration([]byte(tt.data))
			if !errors.Is(err, ErrCalibration) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrCalibration containing %q", err, tt.want)
			}
		})
	}
}

func FuzzParseCalibration(f *testing.F) {
	good, err := os.ReadFile("testdata/calibration.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"version":1,"id":"a","visible_size":[640,480],"thermal_size":[32,24],"homography":[1e308,0,0,0,1,0,0,0,1]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCalibration(data)
		if err != nil {
			if !errors.Is(err, ErrCalibration) {
				t.Fatalf("error %v does not wrap ErrCalibration", err)
			}
			return
		}
		if c.Check() != nil || !c.Homography.Valid() {
			t.Fatalf("accepted a bad calibration %+v", c)
		}
		// Whatever was accepted must be usable without panicking.
		vis := c.Visible()
		c.Homography.MapRect(image.Rect(0, 0, vis.X, vis.Y), image.Rectangle{Max: c.Thermal()})
	})
}
