package facerec

import (
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"github.com/gateguard/gateguard/vision"
	"github.com/gateguard/gateguard/vision/face"
)

const testFaces = "../../../shared/testdata/faces/"

func enroller(t *testing.T) *Enroller {
	t.Helper()
	y, err := face.NewYuNet("../../../shared/testdata/models/yunet/yunet_120x160.onnx", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { y.Close() })
	l, err := NewLBPH()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return &Enroller{Detector: y, Descriptor: l, Quality: DefaultEnrolQuality}
}

// writeImage composes an image with f and writes it to dir/name.
func writeImage(t *testing.T, dir, name string, f func(m *gocv.Mat)) string {
	t.Helper()
	m := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(120, 120, 120, 0), 480, 640, gocv.MatTypeCV8UC3)
	defer m.Close()
	f(&m)
	p := filepath.Join(dir, name)
	if !gocv.IMWrite(p, m) {
		t.Fatalf("cannot write %s", p)
	}
	return p
}

func pasteFace(t *testing.T, m *gocv.Mat, r image.Rectangle) {
	t.Helper()
	src := gocv.IMRead(testFaces+"face-detect.jpg", gocv.IMReadColor)
	defer src.Close()
	if src.Empty() {
		t.Fatal("no test face")
	}
	scaled := gocv.NewMat()
	defer scaled.Close()
	gocv.Resize(src, &scaled, r.Size(), 0, 0, gocv.InterpolationArea)
	roi := m.Region(r)
	defer roi.Close()
	scaled.CopyTo(&roi)
}

// TestEnrolPhotos: a good photo gives a descriptor; every bad photo is
// refused with its reason.
func TestEnrolPhotos(t *testing.T) {
	e := enroller(t)
	dir := t.TempDir()
	notImage := filepath.Join(dir, "notes.jpg")
	if err := os.WriteFile(notImage, []byte("this is not a JPEG"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		want PhotoReason // "" for accepted
	}{
		{"a good photo", testFaces + "face.jpg", ""},
		{"an ORL photo", testFaces + "orl/s1/1.pgm", ""},
		{"not an image", notImage, PhotoUnreadable},
		{"missing file", filepath.Join(dir, "missing.jpg"), PhotoUnreadable},
		{"no face", writeImage(t, dir, "empty.png", func(*gocv.Mat) {}), PhotoNoFace},
		{"two faces", writeImage(t, dir, "two.png", func(m *gocv.Mat) {
			pasteFace(t, m, image.Rect(0, 80, 320, 336))
			pasteFace(t, m, image.Rect(320, 80, 640, 336))
		}), PhotoTwoFaces},
		{"too small", writeImage(t, dir, "small.png", func(m *gocv.Mat) {
			pasteFace(t, m, image.Rect(300, 200, 370, 256))
		}), PhotoTooSmall},
		{"blurred", writeImage(t, dir, "blur.png", func(m *gocv.Mat) {
			pasteFace(t, m, image.Rect(120, 80, 520, 400))
			gocv.GaussianBlur(*m, m, image.Pt(0, 0), 9, 9, gocv.BorderDefault)
		}), PhotoBlurred},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := e.Photo(tt.path)
			if tt.want == "" {
				if err != nil || len(d) == 0 {
					t.Fatalf("Photo = %d values, %v", len(d), err)
				}
				return
			}
			pe, ok := IsPhotoError(err)
			if !ok || pe.Reason != tt.want || pe.Path != tt.path || !strings.Contains(err.Error(), string(tt.want)) {
				t.Errorf("Photo = %v; want a %s refusal naming the file", err, tt.want)
			}
		})
	}
}

// TestCheckEnrolFace: pose limits (a turned or tilted head) on detected
// landmarks, which photos cannot easily be made to show.
func TestCheckEnrolFace(t *testing.T) {
	upright := vision.Face{HasLandmarks: true, Sharpness: 100,
		Landmarks: [5]image.Point{{100, 100}, {160, 100}, {130, 130}, {110, 160}, {150, 160}}}
	turned := upright
	turned.Landmarks[vision.NoseTip] = image.Pt(150, 130) // nose well off the eyes' midline
	tilted := upright
	tilted.Landmarks[vision.LeftEye] = image.Pt(155, 135)
	blurred := upright
	blurred.Sharpness = 3
	for _, tt := range []struct {
		name string
		f    vision.Face
		want PhotoReason
	}{{"upright", upright, ""}, {"turned", turned, PhotoTurned}, {"tilted", tilted, PhotoTurned}, {"blurred", blurred, PhotoBlurred}} {
		err := CheckEnrolFace("p.jpg", tt.f, DefaultEnrolQuality)
		pe, _ := IsPhotoError(err)
		if (tt.want == "" && err != nil) || (tt.want != "" && (pe == nil || pe.Reason != tt.want)) {
			t.Errorf("%s: %v; want %q", tt.name, err, tt.want)
		}
	}
}
