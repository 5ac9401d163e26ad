package facerec

import (
	"image"
	"math"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"github.com/gateguard/gateguard/vision/face"
)

func TestFitSimilarityRecoversTransform(t *testing.T) {
	// dst = 1.5·R(20°)·src + (7, −3)
	a, b := 1.5*math.Cos(20*math.Pi/180), 1.5*math.Sin(20*math.Pi/180)
	src := [][2]float64{{10, 20}, {40, 22}, {25, 40}, {12, 55}, {38, 56}}
	dst := make([][2]float64, len(src))
	for i, p := range src {
		dst[i] = [2]float64{a*p[0] - b*p[1] + 7, b*p[0] + a*p[1] - 3}
	}
	s, err := FitSimilarity(src, dst)
	if err != nil {
		t.Fatal(err)
	}
	want := Similarity{{a, -b, 7}, {b, a, -3}}
	for r := range 2 {
		for c := range 3 {
			if math.Abs(s[r][c]-want[r][c]) > 1e-9 {
				t.Fatalf("got %v, want %v", s, want)
			}
		}
	}
	if _, err := FitSimilarity([][2]float64{{1, 1}, {1, 1}}, [][2]float64{{0, 0}, {1, 1}}); err == nil {
		t.Error("coinciding points: no error")
	}
}

func TestChipTransform(t *testing.T) {
	upright := [5]image.Point{{30, 50}, {62, 50}, {46, 72}, {34, 86}, {60, 86}}
	s, err := ChipTransform(upright)
	if err != nil {
		t.Fatal(err)
	}
	// The eyes land near their template places on the chip.
	for k := range 2 {
		x, y := s.Apply(float64(upright[k].X), float64(upright[k].Y))
		wx, wy := chipPoint(k)
		if math.Hypot(x-wx, y-wy) > 4 {
			t.Errorf("landmark %d at (%.1f, %.1f), template (%.1f, %.1f)", k, x, y, wx, wy)
		}
	}
	// Swapped sides and upside down: the fit turns the face over.
	var flipped [5]image.Point
	for k, p := range upright {
		flipped[k] = image.Pt(100-p.X, 140-p.Y)
	}
	if _, err := ChipTransform(flipped); err == nil || !strings.Contains(err.Error(), "not an upright face") {
		t.Errorf("upside-down landmarks: err = %v", err)
	}
}

func TestAlignChip(t *testing.T) {
	img := gocv.IMRead("../../../shared/testdata/faces/orl/s1/1.pgm", gocv.IMReadGrayScale)
	defer img.Close()
	y, err := face.NewYuNet("../../../shared/testdata/models/yunet/yunet_120x160.onnx", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer y.Close()
	bgr := gocv.NewMat()
	defer bgr.Close()
	gocv.CvtColor(img, &bgr, gocv.ColorGrayToBGR)
	fs, err := y.Detect(bgr)
	if err != nil || len(fs) != 1 {
		t.Fatalf("detect: %d faces, %v", len(fs), err)
	}
	chip := gocv.NewMat()
	defer chip.Close()
	for _, frame := range []gocv.Mat{bgr, img} { // BGR and grey frames
		if err := AlignFace(frame, fs[0], &chip); err != nil {
			t.Fatal(err)
		}
		if err := checkChip(chip); err != nil {
			t.Error(err)
		}
	}
	fs[0].HasLandmarks = false
	if err := AlignFace(bgr, fs[0], &chip); err == nil {
		t.Error("a face without landmarks aligned")
	}
	empty := gocv.NewMat()
	defer empty.Close()
	if err := Align(empty, fs[0].Landmarks, &chip); err == nil {
		t.Error("an empty frame aligned")
	}
}

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b []float32
		want float64
	}{
		{[]float32{0, 0}, []float32{3, 4}, 5},
		{[]float32{1}, []float32{1}, 0},
		{[]float32{1}, []float32{1, 2}, math.Inf(1)},
		{nil, nil, math.Inf(1)},
	}
	for _, tt := range tests {
		if got := Distance(tt.a, tt.b); got != tt.want {
			t.Errorf("Distance(%v, %v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestLBPH(t *testing.T) {
	l, err := NewLBPH()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	a := gocv.IMRead(refDir+"orl-s1-1.png", gocv.IMReadColor)
	defer a.Close()
	b := gocv.IMRead(refDir+"orl-s2-1.png", gocv.IMReadColor)
	defer b.Close()
	ha, err := l.Embed(a)
	if err != nil {
		t.Fatal(err)
	}
	if len(ha) != 256*8*8 {
		t.Errorf("histogram of %d bins, want %d", len(ha), 256*8*8)
	}
	ha2, _ := l.Embed(a)
	hb, _ := l.Embed(b)
	if d := l.Distance(ha, ha2); d != 0 {
		t.Errorf("same chip: distance %v", d)
	}
	if d := l.Distance(ha, hb); !(d > 0) || math.IsInf(d, 0) {
		t.Errorf("different faces: distance %v", d)
	}
	small := gocv.NewMatWithSize(10, 10, gocv.MatTypeCV8UC3)
	defer small.Close()
	if _, err := l.Embed(small); err == nil {
		t.Error("a 10x10 chip was embedded")
	}
	if !strings.Contains(l.Name(), "weak") {
		t.Errorf("LBPH's name %q does not say it is weak", l.Name())
	}
}

func TestNewNetBadModel(t *testing.T) {
	path := t.TempDir() + "/bad.onnx"
	if err := writeBytes(path, []byte("not a model")); err != nil {
		t.Fatal(err)
	}
	if _, err := NewNet(path); err == nil || !strings.Contains(err.Error(), "bad.onnx") {
		t.Fatalf("err = %v, want an error naming the file", err)
	}
}
