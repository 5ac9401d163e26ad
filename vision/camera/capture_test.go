package camera

import (
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

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

// TestLiveReplaysSequence runs a Live camera on a real image sequence: it
// reaches the end, reopens the source and plays it again, so a replay loops.
func TestLiveReplaysSequence(t *testing.T) {
	dir := t.TempDir()
	for i := range 3 {
		m := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(float64(50*i), 0, 0, 0), 48, 64, gocv.MatTypeCV8UC3)
		gocv.IMWrite(filepath.Join(dir, fmt.Sprintf("%03d.png", i)), m)
		m.Close()
	}
	l, err := OpenLive(filepath.Join(dir, "%03d.png"), 640, 480, 15, 5*time.Second, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Start(t.Context())
	m := gocv.NewMat()
	defer m.Close()
	for l.Frames() <= 3 { // past the end of the first pass
		if err := l.Read(t.Context(), &m); err != nil {
			t.Fatalf("after %d frames: %v", l.Frames(), err)
		}
		if m.Cols() != 64 || m.Rows() != 48 {
			t.Fatalf("frame %dx%d", m.Cols(), m.Rows())
		}
	}
}
