package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gocv.io/x/gocv"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/device/sim"
	"github.com/gateguard/gateguard/device/thermal"
	"github.com/gateguard/gateguard/vision/camera"
	"github.com/gateguard/gateguard/vision/fusion"
	"github.com/gateguard/gateguard/vision/scan"
	vsim "github.com/gateguard/gateguard/vision/sim"
)

// calOpts configures one calibration run.
type calOpts struct {
	positions   int           // how many target positions
	steady      int           // consecutive agreeing detections per position
	minContrast float64       // °C the target must be above ambient
	timeout     time.Duration // per position
	exclude     image.Rectangle
	out         io.Writer
	// show puts the target at position i (the simulator) or asks the
	// operator to (real cameras).
	show func(i int) error
	// far reports whether a visible point is far enough from those taken.
	far func(p fusion.Point, taken []fusion.Pair) bool
}

func cmdCalibrate(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("calibrate", flag.ContinueOnError)
	path := fs.String("c", "configs/demo.yaml", "config file")
	outPath := fs.String("o", "", "calibration file to write (default: thermal.calibration_file, else calibration.json)")
	n := fs.Int("n", 9, "target positions (at least 4; spread them over the whole view)")
	contrast := fs.Float64("min-contrast", 5, "°C the heated target must be above ambient")
	timeout := fs.Duration("timeout", time.Minute, "how long to wait for the target at each position")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() != 0 || *n < 4 {
		return usageError{"calibrate: want -c FILE [-o FILE] [-n POSITIONS ≥ 4]"}
	}
	cfg, err := configs.Load(*path)
	if err != nil {
		return err
	}
	out, hint := calibrationOut(cfg, *outPath)
	d := &daemon{cfg: cfg, log: newLogger(cfg.Log)}
	defer d.close()
	cam, err := d.openCalibrationCamera()
	if err != nil {
		return err
	}
	if err := d.buildThermal(); err != nil {
		return err
	}
	o := calOpts{positions: *n, steady: 3, minContrast: *contrast, timeout: *timeout, out: os.Stdout,
		far: farEnough(image.Pt(cfg.Camera.Width, cfg.Camera.Height))}
	if b := cfg.Thermal.Blackbody; b != nil {
		o.exclude = b.Region()
	}
	if d.simCamera != nil && d.simThermal != nil {
		truth := fusion.Scale(d.simCamera.Size(), d.simThermal.Size())
		o.show = simTarget(d.simCamera, d.simThermal, truth, *n)
		o.timeout = 10 * time.Second
	} else {
		o.show = func(i int) error {
			fmt.Fprintf(os.Stdout, "position %d of %d: hold the heated target where it has not been yet and keep it still\n", i+1, *n)
			return nil
		}
	}
	size := image.Pt(cfg.Camera.Width, cfg.Camera.Height)
	pairs, tsize, err := collectPairs(ctx, cam, d.thermal, o)
	if err != nil {
		return err
	}
	cal, err := fusion.NewCalibration(pairs, size, tsize, time.Now())
	if err != nil {
		return fmt.Errorf("calibrate: %w", err)
	}
	if err := fusion.WriteCalibration(out, cal); err != nil {
		return err
	}
	fmt.Printf("calibration %s: %d positions, reprojection error %.3f thermal pixels, written to %s\n",
		cal.ID, len(pairs), cal.RMSErrorPx, out)
	if hint != "" {
		fmt.Printf("set thermal.calibration_file: %s in %s to use it\n", hint, *path)
	}
	return nil
}

// openCalibrationCamera opens the face camera alone (no detectors).
func (d *daemon) openCalibrationCamera() (scan.Source, error) {
	c := d.cfg.Camera
	if c.Source == "simulated" {
		cam, err := vsim.New(c.Width, c.Height, c.FPS)
		if err != nil {
			return nil, err
		}
		d.simCamera = cam
		d.closers = append(d.closers, cam.Close)
		return cam, nil
	}
	cam, err := camera.Open(c.Source, c.Width, c.Height, c.FPS)
	if err != nil {
		return nil, fmt.Errorf("camera.source: %w", err)
	}
	d.closers = append(d.closers, cam.Close)
	return cam, nil
}

// simPositions returns n target centres spread over the middle of a frame:
// a grid as square as n allows, inset so the target's card fits.
func simPositions(size image.Point, n int) []image.Point {
	cols := int(math.Ceil(math.Sqrt(float64(n))))
	rows := (n + cols - 1) / cols
	var out []image.Point
	for i := range n {
		c, r := i%cols, i/cols
		fx := 0.15 + 0.7*float64(c)/float64(max(cols-1, 1))
		fy := 0.2 + 0.6*float64(r)/float64(max(rows-1, 1))
		// Stagger odd rows so that no three points of a short grid line up.
		if r%2 == 1 {
			fx = math.Min(fx+0.05, 0.85)
		}
		out = append(out, image.Pt(int(fx*float64(size.X)), int(fy*float64(size.Y))))
	}
	return out
}

// simTarget shows the calibration target at position i in both simulated
// cameras, the thermal one seeing it where truth says.
func simTarget(cam *vsim.Camera, th *sim.Thermal, truth fusion.Homography, n int) func(int) error {
	pts := simPositions(cam.Size(), n)
	r := max(cam.Size().Y/20, 4)
	return func(i int) error {
		p := pts[i]
		if err := cam.ShowTarget(p, r); err != nil {
			return err
		}
		// The disc is drawn around the centre of pixel p.
		c, _ := truth.Apply(fusion.Point{X: float64(p.X) + 0.5, Y: float64(p.Y) + 0.5})
		e, _ := truth.Apply(fusion.Point{X: float64(p.X+r) + 0.5, Y: float64(p.Y) + 0.5})
		th.SetSpot(c.X, c.Y, math.Hypot(e.X-c.X, e.Y-c.Y), 45)
		return nil
	}
}

// farEnough wants each new position at least a tenth of the frame's width
// from the others, so that the operator spreads them out.
func farEnough(size image.Point) func(fusion.Point, []fusion.Pair) bool {
	lim := float64(size.X) / 10
	return func(p fusion.Point, taken []fusion.Pair) bool {
		for _, q := range taken {
			if math.Hypot(p.X-q.Visible.X, p.Y-q.Visible.Y) < lim {
				return false
			}
		}
		return true
	}
}

// collectPairs finds the target in both cameras at each position: it must be
// found in o.steady consecutive frame pairs that agree (within 2 visible and
// 0.3 thermal pixels) and far enough from the positions taken; the pair is
// the mean of those detections.
func collectPairs(ctx context.Context, cam scan.Source, th thermal.Sensor, o calOpts) ([]fusion.Pair, image.Point, error) {
	m := gocv.NewMat()
	defer m.Close()
	grey := gocv.NewMat()
	defer grey.Close()
	var tf thermal.Frame
	var pairs []fusion.Pair
	for i := range o.positions {
		if err := o.show(i); err != nil {
			return nil, image.Point{}, err
		}
		deadline := time.Now().Add(o.timeout)
		var run []fusion.Pair
		var lastErr error
		for len(run) < o.steady {
			if time.Now().After(deadline) {
				return nil, image.Point{}, fmt.Errorf("calibrate: position %d: target not found steadily within %v: %w",
					i+1, o.timeout, errors.Join(lastErr, ctx.Err()))
			}
			if err := ctx.Err(); err != nil {
				return nil, image.Point{}, err
			}
			if err := cam.Read(ctx, &m); err != nil {
				return nil, image.Point{}, fmt.Errorf("calibrate: camera: %w", err)
			}
			if err := th.NextFrame(&tf); err != nil {
				return nil, image.Point{}, fmt.Errorf("calibrate: thermal: %w", err)
			}
			p, err := detectPair(&m, &grey, &tf, o)
			if err == nil && !o.far(p.Visible, pairs) {
				err = errors.New("too close to a position already taken: move the target elsewhere")
			}
			if err != nil {
				lastErr, run = err, run[:0]
				continue
			}
			if len(run) > 0 {
				q := run[len(run)-1]
				if math.Hypot(p.Visible.X-q.Visible.X, p.Visible.Y-q.Visible.Y) > 2 ||
					math.Hypot(p.Thermal.X-q.Thermal.X, p.Thermal.Y-q.Thermal.Y) > 0.3 {
					run = run[:0] // still moving
				}
			}
			run = append(run, p)
		}
		var mean fusion.Pair
		for _, p := range run {
			mean.Visible.X += p.Visible.X / float64(len(run))
			mean.Visible.Y += p.Visible.Y / float64(len(run))
			mean.Thermal.X += p.Thermal.X / float64(len(run))
			mean.Thermal.Y += p.Thermal.Y / float64(len(run))
		}
		pairs = append(pairs, mean)
		fmt.Fprintf(o.out, "position %d: visible (%.1f, %.1f) → thermal (%.2f, %.2f)\n",
			i+1, mean.Visible.X, mean.Visible.Y, mean.Thermal.X, mean.Thermal.Y)
	}
	return pairs, image.Pt(tf.W, tf.H), nil
}

// detectPair finds the target in one visible and one thermal frame.
func detectPair(m, grey *gocv.Mat, tf *thermal.Frame, o calOpts) (fusion.Pair, error) {
	if m.Channels() == 1 {
		m.CopyTo(grey)
	} else {
		gocv.CvtColor(*m, grey, gocv.ColorBGRToGray)
	}
	img, err := grey.ToImage()
	if err != nil {
		return fusion.Pair{}, fmt.Errorf("calibrate: %w", err)
	}
	g, ok := img.(*image.Gray)
	if !ok {
		return fusion.Pair{}, errors.New("calibrate: grey frame is not 8-bit")
	}
	v, err := fusion.FindDarkDisc(g)
	if err != nil {
		return fusion.Pair{}, fmt.Errorf("visible: %w", err)
	}
	t, err := fusion.FindHotSpot(tf, o.minContrast, o.exclude)
	if err != nil {
		return fusion.Pair{}, fmt.Errorf("thermal: %w", err)
	}
	return fusion.Pair{Visible: v, Thermal: t}, nil
}

// calibrationOut returns the file calibrate writes — -o as given (relative to
// the working directory, like any command-line path), else
// thermal.calibration_file, else calibration.json next to the config file —
// and, when the config does not already use that file, the value to set in
// thermal.calibration_file, which is read relative to the config's folder.
func calibrationOut(cfg *configs.Config, flagOut string) (out, hint string) {
	switch {
	case flagOut != "":
		out = flagOut
	case cfg.Thermal.CalibrationFile != "":
		return cfg.Thermal.CalibrationFile, ""
	default:
		out = cfg.Resolve("calibration.json")
	}
	abs, err := filepath.Abs(out)
	if err != nil {
		abs = out
	}
	if cfg.Thermal.CalibrationFile != "" && filepath.Clean(cfg.Thermal.CalibrationFile) == abs {
		return out, ""
	}
	hint = abs
	if cfg.Path != "" {
		if dir, err := filepath.Abs(filepath.Dir(cfg.Path)); err == nil {
			if rel, err := filepath.Rel(dir, abs); err == nil && !strings.HasPrefix(rel, "..") {
				hint = rel
			}
		}
	}
	return out, hint
}
