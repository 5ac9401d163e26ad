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
	"github.com/gateguard/gateguard/vision/facerec"
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

func newScanner(t testing.TB) *Scanner { return newScannerWith(t, qr.Opts{}, face.DefaultYuNetOpts) }

func newScannerWith(t testing.TB, qo qr.Opts, fo face.YuNetOpts) *Scanner {
	dec, err := qr.NewWithOpts(qo)
	if err != nil {
		t.Fatal(err)
	}
	y, err := face.NewYuNet(model, &fo)
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

// BenchmarkFrame measures the per-frame pipeline (QR decode, then YuNet face
// detection with quality) on 640×480 frames: a gate frame with one face and
// one code, and the same scene with no code (most frames at a gate, and the
// decoder's slowest case: every strategy runs and fails). "full" runs every
// QR strategy on every frame and YuNet on the full frame; "live" is as the
// daemon is wired (slow QR strategies on one frame in three, YuNet on a
// 320-pixel-wide copy). The qr-only and face-only runs split the cost.
func BenchmarkFrame(b *testing.B) {
	full := newScanner(b)
	lo := face.DefaultYuNetOpts
	lo.DetectWidth = 320
	live := newScannerWith(b, qr.Opts{SlowEvery: 3}, lo)
	frame := gateFrame(b)
	defer frame.Close()
	noCode := gateFrame(b)
	defer noCode.Close()
	gocv.Rectangle(&noCode, image.Rect(420, 120, 620, 320), color.RGBA{255, 255, 255, 0}, -1)
	for _, bb := range []struct {
		name string
		s    *Scanner
		m    gocv.Mat
	}{
		{"full/face+qr", full, frame},
		{"full/face+no-code", full, noCode},
		{"full/qr-only", &Scanner{Codes: full.Codes, Log: full.Log}, frame},
		{"full/qr-only-no-code", &Scanner{Codes: full.Codes, Log: full.Log}, noCode},
		{"full/face-only", &Scanner{Faces: full.Faces, Log: full.Log}, frame},
		{"live/face+qr", live, frame},
		{"live/face+no-code", live, noCode},
		{"live/face-only", &Scanner{Faces: live.Faces, Log: live.Log}, frame},
	} {
		b.Run(bb.name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				bb.s.Process(bb.m, uint64(i))
			}
		})
	}
}

// TestProcessDescribesGoodFaces: with a Describer, the good face in the
// frame gets the descriptor of its aligned chip, the same as its photo's.
func TestProcessDescribesGoodFaces(t *testing.T) {
	s := newScanner(t)
	l, err := facerec.NewLBPH()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	d := facerec.NewDescriber(l)
	defer d.Close()
	s.Describer = d
	frame := gateFrame(t)
	defer frame.Close()
	o := s.Process(frame, 1)
	if len(o.Faces) != 1 || len(o.Faces[0].Descriptor) == 0 {
		t.Fatalf("faces %+v", o.Faces)
	}
	again := s.Process(frame, 2)
	if dist := l.Distance(o.Faces[0].Descriptor, again.Faces[0].Descriptor); dist != 0 {
		t.Errorf("the same frame described %v apart", dist)
	}
	s.Describer = nil
	if o := s.Process(frame, 3); o.Faces[0].Descriptor != nil {
		t.Error("a descriptor without a Describer")
	}
}
