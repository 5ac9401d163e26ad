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
}
