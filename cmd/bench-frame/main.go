// Command bench-frame measures the face camera's per-frame cost as the
// daemon wires it (vision/scan with a live QR decoder and YuNet on a
// 320-pixel-wide copy) on 640×480 frames: one with a face and a code, the
// same scene without the code, and face detection alone on the first (the
// floor); then QR decoding alone on the first two. Each kind is its own stream of frames through its own scanner, so
// that a live decoder's state across frames counts as it does at a gate.
// The streams are interleaved frame by frame. The cost of a frame is the
// CPU time the process spends on it (all threads: OpenCV's too), which a
// shared, loaded machine changes far less than wall time (and the
// interleaving puts the load on every stream alike); each result is the
// mean over a stream's frames, a live decoder's costlier frames included.
// The last line is
//
//	frame_ms_code=C frame_ms_empty=E frame_ms_face_only=F
//
// in CPU milliseconds per frame; the lines before give wall time too.
package main

import (
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"io"
	"log/slog"
	"math"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"gocv.io/x/gocv"

	"github.com/gateguard/gateguard/vision/face"
	"github.com/gateguard/gateguard/vision/qr"
	"github.com/gateguard/gateguard/vision/scan"
)

func main() {
	data := flag.String("data", "../shared/testdata", "the shared test data folder (faces/, qr-gocv/, models/yunet/)")
	frames := flag.Int("frames", 300, "frames of each kind")
	flag.Parse()
	if err := run(os.Stdout, *data, max(*frames, 1)); err != nil {
		fmt.Fprintln(os.Stderr, "bench-frame:", err)
		os.Exit(1)
	}
}

// stream is one kind of frame through its own scanner.
type stream struct {
	name       string
	s          *scan.Scanner
	m          gocv.Mat
	best, wall time.Duration // mean per-frame cost: CPU, wall
}

func run(w io.Writer, data string, frames int) error {
	code, err := gateFrame(data, true)
	if err != nil {
		return err
	}
	defer code.Close()
	empty, err := gateFrame(data, false)
	if err != nil {
		return err
	}
	defer empty.Close()
	fo := face.DefaultYuNetOpts
	fo.DetectWidth = 320 // as cmd/gateguard wires it
	y, err := face.NewYuNet(data+"/models/yunet/yunet_120x160.onnx", &fo)
	if err != nil {
		return err
	}
	defer y.Close()
	streams, closeAll, err := newStreams(y, code, empty)
	defer closeAll()
	if err != nil {
		return err
	}
	if err := measure(streams, frames); err != nil {
		return err
	}
	for _, st := range streams {
		fmt.Fprintf(w, "%-10s cpu %6.2f ms/frame  wall %6.2f ms/frame\n", st.name, ms(st.best), ms(st.wall))
	}
	fmt.Fprintf(w, "frame_ms_code=%.2f frame_ms_empty=%.2f frame_ms_face_only=%.2f\n",
		ms(streams[0].best), ms(streams[1].best), ms(streams[2].best))
	return nil
}

// newStreams builds the streams, each scanner with its own live decoder;
// closeAll closes the decoders.
func newStreams(y *face.YuNet, code, empty gocv.Mat) (streams []*stream, closeAll func(), err error) {
	var decs []*qr.Decoder
	closeAll = func() {
		for _, d := range decs {
			d.Close()
		}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, k := range []struct {
		name     string
		m        gocv.Mat
		qr, face bool
	}{{"code", code, true, true}, {"empty", empty, true, true}, {"face_only", code, false, true},
		{"qr_code", code, true, false}, {"qr_empty", empty, true, false}} {
		s := &scan.Scanner{Log: log}
		if k.face {
			s.Faces = y
		}
		if k.qr {
			dec, err := qr.NewWithOpts(qr.Opts{Live: true})
			if err != nil {
				return nil, closeAll, err
			}
			decs = append(decs, dec)
			s.Codes = dec
		}
		streams = append(streams, &stream{name: k.name, s: s, m: k.m,
			best: time.Duration(math.MaxInt64), wall: time.Duration(math.MaxInt64)})
	}
	return streams, closeAll, nil
}

// measure runs frames frames of every stream, interleaved frame by frame so that the machine's load falls on all alike, keeps each
// stream's median per-frame cost, and checks what each frame gave.
func measure(streams []*stream, frames int) error {
	cpu := make([][]time.Duration, len(streams))
	wall := make([][]time.Duration, len(streams))
	var seq uint64
	for range frames {
		for i, st := range streams {
			seq++
			start, cpu0 := time.Now(), cpuTime()
			o := st.s.Process(st.m, seq)
			cpu[i] = append(cpu[i], cpuTime()-cpu0)
			wall[i] = append(wall[i], time.Since(start))
			if (st.name == "code" || st.name == "qr_code") && len(o.Codes) != 1 {
				return fmt.Errorf("frame %d: the code frame gave %d codes", seq, len(o.Codes))
			}
			if len(o.Codes) != 0 && (st.name == "empty" || st.name == "qr_empty") {
				return errors.New("the frame without a code gave a code")
			}
		}
	}
	for i, st := range streams {
		st.best, st.wall = mean(cpu[i]), mean(wall[i])
	}
	return nil
}

func mean(d []time.Duration) time.Duration {
	var sum time.Duration
	for _, x := range d {
		sum += x
	}
	return sum / time.Duration(len(d))
}

// gateFrame composes the 640×480 gate frame of vision/scan's tests: the
// face photo on the left, a QR code (or, without code, nothing) on a white
// card on the right.
func gateFrame(data string, withCode bool) (gocv.Mat, error) {
	frame := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(90, 90, 90, 0), 480, 640, gocv.MatTypeCV8UC3)
	faceImg := gocv.IMRead(data+"/faces/face-detect.jpg", gocv.IMReadColor)
	defer faceImg.Close()
	code := gocv.IMRead(data+"/qr-gocv/qrcode.png", gocv.IMReadColor)
	defer code.Close()
	if faceImg.Empty() || code.Empty() {
		frame.Close()
		return gocv.Mat{}, fmt.Errorf("cannot read %s/faces/face-detect.jpg or %s/qr-gocv/qrcode.png", data, data)
	}
	paste(frame, faceImg, image.Rect(0, 80, 400, 400))
	gocv.Rectangle(&frame, image.Rect(420, 120, 620, 320), color.RGBA{255, 255, 255, 0}, -1)
	if withCode {
		paste(frame, code, image.Rect(430, 130, 610, 310))
	}
	return frame, nil
}

func paste(dst, src gocv.Mat, r image.Rectangle) {
	scaled := gocv.NewMat()
	defer scaled.Close()
	gocv.Resize(src, &scaled, r.Size(), 0, 0, gocv.InterpolationArea)
	roi := dst.Region(r)
	defer roi.Close()
	scaled.CopyTo(&roi)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// cpuTime is the CPU time the process has used, all threads, to the
// nanosecond (CLOCK_PROCESS_CPUTIME_ID; getrusage counts in scheduler
// ticks).
func cpuTime() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}
