package face

import (
	"fmt"
	"image"
	"os"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"github.com/gateguard/gateguard/vision"
)

const (
	faces = "../../../shared/testdata/faces/"
	model = "../../../shared/testdata/models/yunet/yunet_120x160.onnx"
)

func newYuNet(t testing.TB) *YuNet {
	t.Helper()
	y, err := NewYuNet(model, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { y.Close() })
	return y
}

// checkFace asserts the geometry of a detected face: box in the frame and
// at least minFrac of its width, landmarks inside the box, eyes above the
// nose above the mouth, the subject's right eye and mouth corner on the
// image's left.
func checkFace(f vision.Face, size image.Point, minFrac float64) error {
	frame := image.Rect(0, 0, size.X, size.Y)
	b := f.Box
	switch {
	case !b.In(frame) || b.Empty():
		return fmt.Errorf("box %v outside frame %v", b, frame)
	case float64(b.Dx()) < minFrac*float64(size.X):
		return fmt.Errorf("box %v narrower than %.0f%% of the frame", b, 100*minFrac)
	case !f.HasLandmarks:
		return fmt.Errorf("no landmarks")
	}
	l := f.Landmarks
	for i, p := range l {
		if !p.In(b.Inset(-b.Dx() / 10)) {
			return fmt.Errorf("landmark %d %v outside box %v", i, p, b)
		}
	}
	eyeY := (l[vision.RightEye].Y + l[vision.LeftEye].Y) / 2
	mouthY := (l[vision.MouthRight].Y + l[vision.MouthLeft].Y) / 2
	switch {
	case l[vision.RightEye].X >= l[vision.LeftEye].X || l[vision.MouthRight].X >= l[vision.MouthLeft].X:
		return fmt.Errorf("right/left landmarks swapped: %v", l)
	case !(eyeY < l[vision.NoseTip].Y && l[vision.NoseTip].Y < mouthY):
		return fmt.Errorf("eyes, nose, mouth not top to bottom: %v", l)
	case f.EyeDistance < 0.2*float64(b.Dx()) || f.EyeDistance > 0.7*float64(b.Dx()):
		return fmt.Errorf("eye distance %.0f for a box %d wide", f.EyeDistance, b.Dx())
	case f.Score < 0.6 || f.Score > 1:
		return fmt.Errorf("score %.2f", f.Score)
	}
	return nil
}

func TestYuNetPhotos(t *testing.T) {
	y := newYuNet(t)
	tests := []struct {
		file string
		box  image.Rectangle // where the face is, measured once and checked by eye
		good bool            // quality verdict
	}{
		{"face.jpg", image.Rect(263, 153, 447, 398), true},
		{"face-detect.jpg", image.Rect(151, 75, 271, 237), true},
		// A small face among players, turned aside: found, but not good.
		{"messi5.jpg", image.Rect(224, 91, 256, 133), false},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			img := gocv.IMRead(faces+tt.file, gocv.IMReadColor)
			defer img.Close()
			if img.Empty() {
				t.Fatalf("cannot read %s", tt.file)
			}
			got, err := y.Detect(img)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("found %d faces, want 1: %+v", len(got), got)
			}
			t.Logf("%s: %+v", tt.file, got[0])
			f := got[0]
			if err := checkFace(f, image.Pt(img.Cols(), img.Rows()), 0.05); err != nil {
				t.Error(err)
			}
			tol := tt.box.Dx() / 10
			if d := f.Box.Min.Sub(tt.box.Min); abs(d.X) > tol || abs(d.Y) > tol || abs(f.Box.Dx()-tt.box.Dx()) > tol {
				t.Errorf("box %v, want %v ± %d px", f.Box, tt.box, tol)
			}
			if f.Quality.Good != tt.good || !f.Quality.Assessed {
				t.Errorf("quality %+v, want good=%v", f.Quality, tt.good)
			}
		})
	}
}

// TestYuNetORL runs on every ORL subject's image (25 subjects × 10, 92×112
// grey, one face each, some turned): exactly one face each.
func TestYuNetORL(t *testing.T) {
	y := newYuNet(t)
	files, err := filepath.Glob(faces + "orl/s*/*.pgm")
	if err != nil || len(files) != 250 {
		t.Fatalf("want 250 ORL images, found %d (%v)", len(files), err)
	}
	good := 0
	for _, f := range files {
		img := gocv.IMRead(f, gocv.IMReadColor)
		got, err := y.Detect(img)
		size := image.Pt(img.Cols(), img.Rows())
		img.Close()
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if len(got) != 1 {
			t.Errorf("%s: %d faces, want 1", f, len(got))
			continue
		}
		if err := checkFace(got[0], size, 0.35); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		if got[0].Quality.Good {
			good++
		}
	}
	t.Logf("ORL: %d images, %d good quality", len(files), good)
}

func abs(x int) int { return max(x, -x) }

// TestYuNetDetectWidth runs the network on a 320-pixel-wide copy of the
// 640×480 face photo: the box and landmarks come back in frame pixels.
func TestYuNetDetectWidth(t *testing.T) {
	o := DefaultYuNetOpts
	o.DetectWidth = 320
	y, err := NewYuNet(model, &o)
	if err != nil {
		t.Fatal(err)
	}
	defer y.Close()
	img := gocv.IMRead(faces+"face.jpg", gocv.IMReadColor)
	defer img.Close()
	got, err := y.Detect(img)
	if err != nil || len(got) != 1 {
		t.Fatalf("found %v, %v; want one face", got, err)
	}
	want := image.Rect(263, 153, 447, 398) // as found at full size
	tol := want.Dx() / 10
	if d := got[0].Box.Min.Sub(want.Min); abs(d.X) > tol || abs(d.Y) > tol || abs(got[0].Box.Dx()-want.Dx()) > tol {
		t.Errorf("box %v, want %v ± %d", got[0].Box, want, tol)
	}
	if err := checkFace(got[0], image.Pt(img.Cols(), img.Rows()), 0.05); err != nil {
		t.Error(err)
	}
}

func TestYuNetBadInput(t *testing.T) {
	if _, err := NewYuNet("/nonexistent.onnx", nil); err == nil {
		t.Error("loaded a missing model")
	}
	bad := t.TempDir() + "/bad.onnx"
	if err := os.WriteFile(bad, []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	if y, err := NewYuNet(bad, nil); err == nil {
		y.Close()
		t.Error("loaded a corrupt model")
	}
	y := newYuNet(t)
	blank := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(128, 128, 128, 0), 480, 640, gocv.MatTypeCV8UC3)
	defer blank.Close()
	if got, err := y.Detect(blank); err != nil || len(got) != 0 {
		t.Errorf("blank frame: %v, %v", got, err)
	}
	for name, m := range map[string]gocv.Mat{
		"empty": gocv.NewMat(),
		"grey":  gocv.NewMatWithSize(100, 100, gocv.MatTypeCV8U),
		"huge":  gocv.NewMatWithSize(MaxSide+1, 8, gocv.MatTypeCV8UC3),
	} {
		if _, err := y.Detect(m); err == nil {
			t.Errorf("%s: no error", name)
		}
		m.Close()
	}
	tiny := gocv.NewMatWithSize(8, 8, gocv.MatTypeCV8UC3)
	defer tiny.Close()
	if got, err := y.Detect(tiny); err != nil || len(got) != 0 {
		t.Errorf("tiny frame: %v, %v", got, err)
	}
}

// TestYuNetManyFaces tiles the face photo 2×2: four faces, the subject the
// largest.
func TestYuNetManyFaces(t *testing.T) {
	y := newYuNet(t)
	img := gocv.IMRead(faces+"face-detect.jpg", gocv.IMReadColor)
	defer img.Close()
	grid := gocv.NewMatWithSize(2*img.Rows(), 2*img.Cols(), gocv.MatTypeCV8UC3)
	defer grid.Close()
	for i := range 4 {
		r := image.Rect(0, 0, img.Cols(), img.Rows()).Add(image.Pt(i%2*img.Cols(), i/2*img.Rows()))
		roi := grid.Region(r)
		img.CopyTo(&roi)
		roi.Close()
	}
	got, err := y.Detect(grid)
	if err != nil || len(got) != 4 {
		t.Fatalf("found %d faces, %v; want 4", len(got), err)
	}
	o := vision.Observation{Size: image.Pt(grid.Cols(), grid.Rows()), Faces: got}
	if _, ok := o.Subject(); !ok {
		t.Error("no subject among four faces")
	}
}

// FuzzYuNetFace feeds arbitrary network output rows (NaN, infinities, huge
// or negative boxes) through the conversion to a face: a face inside the
// frame or none, never a crash.
func FuzzYuNetFace(f *testing.F) {
	f.Add(float32(10), float32(10), float32(50), float32(60), float32(20), float32(30), float32(0.9))
	f.Add(float32(-100), float32(1e9), float32(-5), float32(0), float32(0), float32(0), float32(2))
	frame := image.Rect(0, 0, 640, 480)
	f.Fuzz(func(t *testing.T, x, y, w, h, lx, ly, score float32) {
		row := []float32{x, y, w, h, lx, ly, lx + 10, ly, lx + 5, ly + 10, lx, ly + 20, lx + 10, ly + 20, score}
		face, ok := yunetFace(row, frame)
		if ok && (!face.Box.In(frame) || face.Box.Empty()) {
			t.Fatalf("box %v outside %v", face.Box, frame)
		}
		if ok {
			vision.Assess(face, vision.DefaultQuality)
		}
	})
}
