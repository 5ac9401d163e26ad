package videoio

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"gocv.io/x/gocv"
)

// writeFrames writes n 64×48 frames of level 40·i to dir/%03d.png.
func writeFrames(t *testing.T, dir string, n int) string {
	t.Helper()
	for i := range n {
		m := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(float64(40*i), 0, 0, 0), 48, 64, gocv.MatTypeCV8UC3)
		ok := gocv.IMWrite(filepath.Join(dir, fmt.Sprintf("%03d.png", i)), m)
		m.Close()
		if !ok {
			t.Fatal("cannot write frame")
		}
	}
	return filepath.Join(dir, "%03d.png")
}

// TestImageSequence reads a sequence through the images backend: every frame
// in order with its pixels, the size reported, nothing past the end.
func TestImageSequence(t *testing.T) {
	c, err := OpenFile(writeFrames(t, t.TempDir(), 4), gocv.VideoCaptureImages)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !Loaded() {
		t.Error("Loaded() = false after an open")
	}
	if !c.IsOpened() {
		t.Fatal("not opened")
	}
	m := gocv.NewMat()
	defer m.Close()
	for i := range 4 {
		if !c.Read(&m) {
			t.Fatalf("frame %d missing", i)
		}
		if got := int(m.GetUCharAt(0, 0)); got != 40*i || m.Cols() != 64 || m.Rows() != 48 {
			t.Errorf("frame %d: level %d size %dx%d, want %d 64x48", i, got, m.Cols(), m.Rows(), 40*i)
		}
	}
	if w := c.Get(gocv.VideoCaptureFrameWidth); w != 64 {
		t.Errorf("frame width %v, want 64", w)
	}
	if c.Read(&m) {
		t.Error("read past the end of the sequence")
	}
}

// TestVideoFile writes a Motion-JPEG AVI with OpenCV's own writer and reads it
// back with the FFmpeg backend, as a recorded camera is replayed.
func TestVideoFile(t *testing.T) {
	name := filepath.Join(t.TempDir(), "rec.avi")
	w, err := gocv.VideoWriterFile(name, "MJPG", 10, 64, 48, true)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		m := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(0, float64(30*i+20), 0, 0), 48, 64, gocv.MatTypeCV8UC3)
		if err := w.Write(m); err != nil {
			t.Fatal(err)
		}
		m.Close()
	}
	w.Close()
	c, err := OpenFile(name, gocv.VideoCaptureFFmpeg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	m := gocv.NewMat()
	defer m.Close()
	n := 0
	for c.Read(&m) {
		// JPEG is lossy: the green level within a few steps.
		if g := int(m.GetVecbAt(24, 32)[1]); g < 30*n+20-4 || g > 30*n+20+4 {
			t.Errorf("frame %d: green %d, want about %d", n, g, 30*n+20)
		}
		n++
	}
	if n != 6 {
		t.Errorf("read %d frames, want 6", n)
	}
}

func TestOpenErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func() (*Capture, error)
	}{
		{"missing file", func() (*Capture, error) {
			return OpenFile(filepath.Join(t.TempDir(), "missing.avi"), gocv.VideoCaptureFFmpeg)
		}},
		{"missing sequence", func() (*Capture, error) {
			return OpenFile(filepath.Join(t.TempDir(), "%03d.png"), gocv.VideoCaptureImages)
		}},
		{"no such device", func() (*Capture, error) { return OpenDevice(97, gocv.VideoCaptureV4L2) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tc.open()
			if err == nil {
				c.Close()
				t.Fatal("opened")
			}
			if !strings.HasPrefix(err.Error(), "videoio: open") {
				t.Errorf("error %q does not say what failed", err)
			}
		})
	}
}

// TestClosed: a closed capture reads nothing, reports nothing and closes
// again without harm.
func TestClosed(t *testing.T) {
	c, err := OpenFile(writeFrames(t, t.TempDir(), 1), gocv.VideoCaptureImages)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	m := gocv.NewMat()
	defer m.Close()
	if c.Read(&m) || c.IsOpened() || c.Get(gocv.VideoCaptureFrameWidth) != 0 || c.Set(gocv.VideoCaptureFPS, 5) {
		t.Error("a closed capture still answers")
	}
	c.Close()
}

// TestFourCC packs codes as OpenCV's VideoWriter::fourcc does: first
// letter in the lowest byte ("MJPG" is 0x47504A4D in OpenCV's docs and
// V4L2's V4L2_PIX_FMT_MJPEG).
func TestFourCC(t *testing.T) {
	for _, tc := range []struct {
		code string
		want float64
	}{{"MJPG", 0x47504A4D}, {"Y16 ", 0x20363159}, {"YUYV", 0x56595559}, {"MJP", 0}, {"MJPEG", 0}} {
		if got := FourCC(tc.code); got != tc.want {
			t.Errorf("FourCC(%q) = %#x, want %#x", tc.code, uint32(got), uint32(tc.want))
		}
	}
}
