// Command bench-gate measures the gate's latency from a readable code to
// the relay: simulated attempts through the real pipeline (the simulated
// face camera rendering a face and a QR code, vision/scan with the live QR
// decoder and YuNet as the daemon wires them, the simulated thermal camera
// with the face's heat, vision/fusion's meter, the gate's Controller and
// Decide) and a fake relay that notes when it is released. For each
// attempt it prints the time from the face-camera frame in which the code is
// first in view (the sim renders it readable) to the release, and last
//
//	attempts=N p50_ms=P p99_ms=Q frame_ms=F
//
// where F is the slower of the two cameras' frame periods: the physical
// floor, as the gate cannot decide before it has both pictures. Every
// attempt must be admitted; one that is not fails the run. A first attempt,
// not counted, warms the pipeline up (the detectors' first runs allocate).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/skip2/go-qrcode"
	"gocv.io/x/gocv"

	"github.com/gateguard/gateguard/device/sim"
	"github.com/gateguard/gateguard/device/thermal"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/gatetest"
	"github.com/gateguard/gateguard/vision"
	"github.com/gateguard/gateguard/vision/face"
	"github.com/gateguard/gateguard/vision/fusion"
	"github.com/gateguard/gateguard/vision/qr"
	"github.com/gateguard/gateguard/vision/scan"
	vsim "github.com/gateguard/gateguard/vision/sim"
)

func main() {
	data := flag.String("data", "../shared/testdata", "the shared test data folder (faces/, models/yunet/)")
	attempts := flag.Int("attempts", 40, "attempts")
	fps := flag.Int("fps", 30, "face camera frames per second")
	tfps := flag.Int("thermal-fps", 30, "thermal camera frames per second")
	flag.Parse()
	if err := run(os.Stdout, *data, max(*attempts, 1), *fps, *tfps); err != nil {
		fmt.Fprintln(os.Stderr, "bench-gate:", err)
		os.Exit(1)
	}
}

// relay is the fake turnstile: it notes each release.
type relay struct{ released chan time.Time }

func (r *relay) Release() error {
	select {
	case r.released <- time.Now():
	default:
	}
	return nil
}
func (r *relay) Free() error   { return nil }
func (r *relay) Secure() error { return nil }

// stage is the face camera with what it shows numbered: a scene change and
// a frame read never overlap, so every frame is known to show one scene,
// and the read time of each scene's first frame is kept.
type stage struct {
	cam *vsim.Camera
	th  *sim.Thermal

	mu     sync.Mutex // guards the fields below and orders scene changes and reads
	scene  int
	first  map[int]time.Time // scene → when its first frame was read
	frames map[int]int       // scene → frames read
}

func (s *stage) Read(ctx context.Context, m *gocv.Mat) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.cam.Read(ctx, m)
	if err == nil {
		s.frames[s.scene]++
		if _, ok := s.first[s.scene]; !ok {
			s.first[s.scene] = time.Now()
		}
	}
	return err
}
func (s *stage) Close() error   { return nil }
func (s *stage) String() string { return s.cam.String() }

// show puts a person with a code in front of both cameras and returns the
// new scene's number.
func (s *stage) show(facePath string, code image.Image, skinC float64) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rect, err := s.cam.Show(facePath, code)
	if err != nil {
		return 0, err
	}
	truth := fusion.Scale(s.cam.Size(), s.th.Size())
	s.th.SetFace(truth.MapRect(rect, image.Rectangle{Max: s.th.Size()}), skinC, skinC+0.2)
	s.scene++
	return s.scene, nil
}

// leave empties both cameras' scenes.
func (s *stage) leave() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cam.Clear()
	s.th.SetFace(image.Rectangle{}, 0, 0)
	s.scene++
}

// firstFrame returns when scene's first frame was read, and how many of its
// frames have been read.
func (s *stage) firstFrame(scene int) (time.Time, int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.first[scene]
	return t, s.frames[scene], ok
}

func run(w io.Writer, data string, attempts, fps, tfps int) error {
	cam, err := vsim.New(640, 480, fps)
	if err != nil {
		return err
	}
	defer cam.Close()
	th, err := sim.NewThermal(32, 24, tfps)
	if err != nil {
		return err
	}
	defer th.Halt()
	b := &bench{st: &stage{cam: cam, th: th, first: map[int]time.Time{}, frames: map[int]int{}},
		rel: &relay{released: make(chan time.Time, 1)}, lanes: make(chan string, 64), rec: &gatetest.Recorder{}}
	ctrl, sc, closeAll, err := b.build(data)
	defer closeAll()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); th.Halt(); wg.Wait() }()
	wg.Go(func() { _ = ctrl.Run(ctx) })
	wg.Go(func() { sc.Run(ctx, ctrl.Observe) })
	wg.Go(func() { thermal.Run(ctx, th, thermal.RunOpts{}, ctrl.Thermal) })

	var lat []time.Duration
	for i := -1; i < attempts; i++ { // -1: the warm-up
		d, frames, err := b.attempt(data+"/faces/face-detect.jpg", i, min(fps, tfps))
		if err != nil {
			return fmt.Errorf("attempt %d: %w", i, err)
		}
		if i >= 0 {
			lat = append(lat, d)
		}
		fmt.Fprintf(w, "attempt %2d: %6.1f ms (%d face frames read by then)\n", i, ms(d), frames)
	}
	slices.Sort(lat)
	frame := time.Second / time.Duration(min(fps, tfps))
	fmt.Fprintf(w, "attempts=%d p50_ms=%.1f p99_ms=%.1f frame_ms=%.1f\n",
		len(lat), ms(pct(lat, 0.50)), ms(pct(lat, 0.99)), ms(frame))
	return nil
}

// bench is the cameras' stage, the fake relay and what the gate reports.
type bench struct {
	st    *stage
	rel   *relay
	lanes chan string
	rec   *gatetest.Recorder
}

// build wires the pipeline as cmd/gateguard does (live QR decoder, YuNet at
// 320 pixels, the fusion meter on a shared field of view) and the gate;
// closeAll frees the detectors.
func (b *bench) build(data string) (*gate.Controller, *scan.Scanner, func(), error) {
	var closers []func() error
	closeAll := func() {
		for _, c := range closers {
			c()
		}
	}
	visible, tsize := b.st.cam.Size(), b.st.th.Size()
	meter, err := fusion.NewMeter(fusion.Options{
		Homography: fusion.Scale(visible, tsize), VisibleSize: visible, ThermalSize: tsize,
		CalibrationID: "scaled-fov", MinSkinC: 30, MinSkinFraction: 0.25,
		FaceWidthMin: 0.12, FaceWidthMax: 0.8, MaxYawDeg: vision.DefaultQuality.MaxYawDeg,
	})
	if err != nil {
		return nil, nil, closeAll, err
	}
	dec, err := qr.NewWithOpts(qr.Opts{Live: true})
	if err != nil {
		return nil, nil, closeAll, err
	}
	closers = append(closers, dec.Close)
	fo := face.DefaultYuNetOpts
	fo.DetectWidth = 320
	faces, err := face.NewYuNet(data+"/models/yunet/yunet_120x160.onnx", &fo)
	if err != nil {
		return nil, nil, closeAll, err
	}
	closers = append(closers, faces.Close)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sc := &scan.Scanner{Source: b.st, Codes: dec, Faces: faces, Log: log, CodeGap: 2}
	ctrl, err := gate.New(gate.Options{
		Site: "bench", Gate: "bench",
		Policy:       gate.Policy{FeverC: 37.3, ColdC: 34.5, MinSkinC: 30, RequireFace: true, RequireTemperature: true},
		CheckTimeout: 3 * time.Second, PassageTimeout: 200 * time.Millisecond, RepeatSuppress: time.Second,
		Turnstile: b.rel, Recorder: b.rec, Verifier: gate.PresenceVerifier, Thermometer: meter, Log: log,
		OnLane: func(l string) {
			select {
			case b.lanes <- l:
			default:
			}
		},
	})
	return ctrl, sc, closeAll, err
}

// attempt empties the cameras for a few frames, shows a person with a
// fresh code and waits for the release; it returns the time from the first
// frame showing the code to the release and how many frames had been read.
func (b *bench) attempt(facePath string, i, fps int) (time.Duration, int, error) {
	q, err := qrcode.New(fmt.Sprintf("bench-gate attempt %d", i), qrcode.Medium)
	if err != nil {
		return 0, 0, err
	}
	b.st.leave()
	time.Sleep(6 * time.Second / time.Duration(fps))
	drain(b.rel.released)
	scene, err := b.st.show(facePath, q.Image(256), 36.4)
	if err != nil {
		return 0, 0, err
	}
	var at time.Time
	select {
	case at = <-b.rel.released:
	case <-time.After(4 * time.Second):
		return 0, 0, fmt.Errorf("not admitted within 4 s (last message: %s)", last(b.rec))
	}
	first, frames, ok := b.st.firstFrame(scene)
	if !ok {
		return 0, 0, errors.New("released before the code was in view")
	}
	if err := waitLane(b.lanes, gate.LaneIdle, 3*time.Second); err != nil {
		return 0, 0, err
	}
	return at.Sub(first), frames, nil
}

// pct is the q-quantile of sorted d (nearest rank).
func pct(d []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(d))+0.999999) - 1
	return d[min(max(i, 0), len(d)-1)]
}

func drain(c chan time.Time) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}

func waitLane(lanes chan string, want string, timeout time.Duration) error {
	deadline := time.After(timeout)
	for {
		select {
		case l := <-lanes:
			if l == want {
				return nil
			}
		case <-deadline:
			return errors.New("the lane did not return to " + want)
		}
	}
}

// last describes the recorder's last message, for a failed attempt.
func last(r *gatetest.Recorder) string {
	ms := r.Messages()
	if len(ms) == 0 {
		return "none"
	}
	return fmt.Sprintf("%+v", ms[len(ms)-1])
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
