package face

import (
	"testing"

	"gocv.io/x/gocv"
)

const cascade = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"

func TestHaarFindsOneFace(t *testing.T) {
	h, err := NewHaar(cascade, 60)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	img := gocv.IMRead("../../../shared/testdata/faces/face.jpg", gocv.IMReadColor)
	if img.Empty() {
		t.Fatal("cannot read face.jpg")
	}
	defer img.Close()
	faces, err := h.Detect(img)
	if err != nil {
		t.Fatal(err)
	}
	if len(faces) != 1 {
		t.Fatalf("found %d faces, want 1: %v", len(faces), faces)
	}
	f := faces[0]
	if f.Box.Dx() < 100 || f.Sharpness <= 0 || f.HasLandmarks {
		t.Errorf("face %+v", f)
	}
}

func TestHaarErrors(t *testing.T) {
	if _, err := NewHaar("/nonexistent.xml", 60); err == nil {
		t.Error("loaded a missing cascade")
	}
	h, err := NewHaar(cascade, 60)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	grey := gocv.NewMatWithSize(100, 100, gocv.MatTypeCV8U)
	defer grey.Close()
	if _, err := h.Detect(grey); err == nil {
		t.Error("accepted a grey image")
	}
	// Frames YuNet refuses must be errors here too, not an OpenCV
	// exception that aborts the process.
	for name, m := range map[string]gocv.Mat{
		"16-bit BGR": gocv.NewMatWithSize(100, 100, gocv.MatTypeCV16UC3),
		"float BGR":  gocv.NewMatWithSize(100, 100, gocv.MatTypeCV32FC3),
		"huge":       gocv.NewMatWithSize(MaxSide+1, 8, gocv.MatTypeCV8UC3),
	} {
		if _, err := h.Detect(m); err == nil {
			t.Errorf("%s: no error", name)
		}
		m.Close()
	}
	// After Close: an error, not a call into the freed cascade.
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	img := gocv.NewMatWithSize(100, 100, gocv.MatTypeCV8UC3)
	defer img.Close()
	if _, err := h.Detect(img); err == nil {
		t.Error("Detect after Close: no error")
	}
}
