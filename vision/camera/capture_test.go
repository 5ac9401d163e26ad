package camera

import (
	"fmt"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"
)

// TestImageSequenceReplay writes five PNG frames and replays them through
// OpenCV's VideoCapture (images backend), as a recorded camera.
func TestImageSequenceReplay(t *testing.T) {
	dir := t.TempDir()
	for i := range 5 {
		m := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(float64(40*i), 0, 0, 0), 48, 64, gocv.MatTypeCV8UC3)
		ok := gocv.IMWrite(filepath.Join(dir, fmt.Sprintf("%03d.png", i)), m)
		m.Close()
		if !ok {
			t.Fatal("cannot write frame")
		}
	}
	c, err := Open(filepath.Join(dir, "%03d.png"), 640, 480, 15)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	m := gocv.NewMat()
	defer m.Close()
	for i := range 5 {
		if !c.Grab(&m) {
			t.Fatalf("frame %d missing", i)
		}
		if got := int(m.GetUCharAt(0, 0)); got != 40*i || m.Cols() != 64 {
			t.Errorf("frame %d: level %d size %dx%d", i, got, m.Cols(), m.Rows())
		}
	}
	if c.Grab(&m) {
		t.Error("read past the end of the sequence")
	}
}

func TestOpenErrors(t *testing.T) {
	for _, src := range []string{"/nonexistent/video.mp4", filepath.Join(t.TempDir(), "missing.avi")} {
		if c, err := Open(src, 640, 480, 15); err == nil {
			c.Close()
			t.Errorf("%s: opened", src)
		}
	}
}
