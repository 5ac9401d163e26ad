package scan

import (
	"context"
	"errors"
	"image"
	"image/color"
	"io"
	"log/slog"
	"testing"

	"gocv.io/x/gocv"

	"github.com/gateguard/gateguard/vision"
	"github.com/gateguard/gateguard/vision/face"
	"github.com/gateguard/gateguard/vision/qr"
)

const (
	shared = "../../../shared/testdata/"
	model  = shared + "models/yunet/yunet_120x160.onnx"
)

// gateFrame composes a 640×480 frame: the face photo on the left, a QR
// code on a white card on the right.
func gateFrame(t testing.TB) gocv.Mat {
	t.Helper()
	frame := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(90, 90, 90, 0), 480, 640, gocv.MatTypeCV8UC3)
	faceImg := gocv.IMRead(shared+"faces/face-detect.jpg", gocv.IMReadColor)
	code := gocv.IMRead(shared+"qr-gocv/qrcode.png", gocv.IMReadColor)
	defer faceImg.Close()
	defer code.Close()
	if faceImg.Empty() || code.Empty() {
		t.Fatal("cannot read test images")
	}
	paste(frame, faceImg, image.Rect(0, 80, 400, 400))
	gocv.Rectangle(&frame, image.Rect(420, 120, 620, 320), color.RGBA{255, 255, 255, 0}, -1)
	paste(frame, code, image.Rect(430, 130, 610, 310))
	return frame
}

func paste(dst, src gocv.Mat, r image.Rectangle) {
	scaled := gocv.NewMat()
	defer scaled.Close()
	gocv.Resize(src, &scaled, r.Size(), 0, 0, gocv.InterpolationArea)
	roi := dst.Region(r)
	defer roi.Close()
	scaled.CopyTo(&roi)
}

func newScanner(t testing.TB) *Scanner {
	dec, err := qr.New()
	if err != nil {
		t.Fatal(err)
	}
	y, err := face.NewYuNet(model, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dec.Close(); y.Close() })
	return &Scanner{Codes: dec, Faces: y, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func TestProcessGateFrame(t *testing.T) {
	s := newScanner(t)
	frame := gateFrame(t)
	defer frame.Close()
	o := s.Process(frame, 1)
	if len(o.Codes) != 1 || o.Codes[0].Text != "Hello World!" {
		t.Errorf("codes %+v", o.Codes)
	}
	f, ok := o.Subject()
	if len(o.Faces) != 1 || !ok || !f.HasLandmarks || !f.Box.In(image.Rect(0, 80, 400, 400)) {
		t.Errorf("faces %+v", o.Faces)
	}
	if o.Size != image.Pt(640, 480) {
		t.Errorf("size %v", o.Size)
	}
}

// frames replays a fixed list of frames, then fails with errEnd.
type frames struct {
	list []gocv.Mat
	i    int
}

var errEnd = errors.New("no more frames")

func (f *frames) Read(ctx context.Context, m *gocv.Mat) error {
	if f.i >= len(f.list) {
		return errEnd
	}
	f.list[f.i].CopyTo(m)
	f.i++
	return nil
}
func (f *frames) Close() error   { return nil }
func (f *frames) String() string { return "frames" }

// TestRunReportsCodeOnceAndErrors runs the loop over three identical frames
// and then a failing source: the code is first seen once, and the failure
// comes as an Observation with Err set.
func TestRunReportsCodeOnceAndErrors(t *testing.T) {
	s := newScanner(t)
	frame := gateFrame(t)
	defer frame.Close()
	s.Source = &frames{list: []gocv.Mat{frame, frame, frame}}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var first, seen int
	var failed error
	s.Run(ctx, func(o vision.Observation) {
		if o.Err != nil {
			failed = o.Err
			cancel()
			return
		}
		for _, c := range o.Codes {
			seen++
			if c.FirstSeen {
				first++
			}
		}
	})
	if seen != 3 || first != 1 {
		t.Errorf("code in %d frames, first seen %d times; want 3 and 1", seen, first)
	}
	if !errors.Is(failed, errEnd) {
		t.Errorf("failure reported as %v", failed)
	}
}

func TestProcessBadFrames(t *testing.T) {
	s := newScanner(t)
	for name, m := range map[string]gocv.Mat{
		"empty": gocv.NewMat(),
		"grey":  gocv.NewMatWithSize(480, 640, gocv.MatTypeCV8U),
		"tiny":  gocv.NewMatWithSize(2, 2, gocv.MatTypeCV8UC3),
		"huge":  gocv.NewMatWithSize(5000, 5000, gocv.MatTypeCV8UC3),
	} {
		o := s.Process(m, 1)
		if len(o.Codes) != 0 || len(o.Faces) != 0 {
			t.Errorf("%s: %+v", name, o)
		}
		m.Close()
	}
}

// BenchmarkFrame measures the per-frame pipeline (QR decode and YuNet face
// detection with quality) on a 640×480 gate frame with one face and one
// code, and on an empty scene (the decoder's slowest case: every strategy
// runs and fails).
func BenchmarkFrame(b *testing.B) {
	s := newScanner(b)
	frame := gateFrame(b)
	defer frame.Close()
	blank := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(90, 90, 90, 0), 480, 640, gocv.MatTypeCV8UC3)
	defer blank.Close()
	for _, bb := range []struct {
		name string
		m    gocv.Mat
	}{{"face+qr", frame}, {"empty", blank}} {
		b.Run(bb.name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				s.Process(bb.m, uint64(i))
			}
		})
	}
}
