package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
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
	log := newLogger(cfg.Log)
	var cl closers
	defer cl.close(log)
	var sims simHardware
	cam, err := openCalibrationCamera(cfg.Camera, &sims, &cl)
	if err != nil {
		return err
	}
	th, err := openThermalSensor(cfg.Thermal, &sims, &cl)
	if err != nil {
		return err
	}
	o := collectOptions(cfg, &sims, *n, *contrast, *timeout)
	cal, positions, err := calibrateWith(ctx, cam, th, image.Pt(cfg.Camera.Width, cfg.Camera.Height), o)
	if err != nil {
		return err
	}
	if err := fusion.WriteCalibration(out, cal); err != nil {
		return err
	}
	fmt.Printf("calibration %s: %d positions, reprojection error %.3f thermal pixels, written to %s\n",
		cal.ID, positions, cal.RMSErrorPx, out)
	if hint != "" {
		fmt.Printf("set thermal.calibration_file: %s in %s to use it\n", hint, *path)
	}
	return nil
}

// collectOptions is how calibrate collects its n target positions: on the
// simulated cameras, when both are, it shows the target itself; else it
// asks the installer to move it.
func collectOptions(cfg *configs.Config, sims *simHardware, n int, contrast float64, timeout time.Duration) fusion.CollectOptions {
	o := fusion.CollectOptions{Positions: n, Steady: 3, MinContrastC: contrast, Timeout: timeout, Out: os.Stdout,
		Far: fusion.FarEnough(image.Pt(cfg.Camera.Width, cfg.Camera.Height))}
	if b := cfg.Thermal.Blackbody; b != nil {
		o.Exclude = b.Region()
	}
	if sims.camera != nil && sims.thermal != nil {
		truth := fusion.Scale(sims.camera.Size(), sims.thermal.Size())
		o.Show = simTarget(sims.camera, sims.thermal, truth, n)
		o.Timeout = 10 * time.Second
	} else {
		o.Show = func(i int) error {
			fmt.Fprintf(os.Stdout, "position %d of %d: hold the heated target where it has not been yet and keep it still\n", i+1, n)
			return nil
		}
	}
	return o
}

// calibrateWith collects target positions from the face camera cam (frames
// of size) and the thermal camera th, and fits the registration; it returns
// it and the number of positions used.
func calibrateWith(ctx context.Context, cam scan.Source, th thermal.Sensor, size image.Point, o fusion.CollectOptions) (*fusion.Calibration, int, error) {
	read, closeFrames := cameraFrames(cam, th)
	defer closeFrames()
	pairs, tsize, err := fusion.CollectPairs(ctx, read, o)
	if err != nil {
		return nil, 0, err
	}
	cal, err := fusion.NewCalibration(pairs, size, tsize, time.Now())
	if err != nil {
		return nil, 0, fmt.Errorf("calibrate: %w", err)
	}
	return cal, len(pairs), nil
}

// openCalibrationCamera opens the face camera alone (no detectors), handed
// to cl.
func openCalibrationCamera(c configs.Camera, sims *simHardware, cl *closers) (scan.Source, error) {
	if c.Source == "simulated" {
		cam, err := sims.openCamera(c)
		if err != nil {
			return nil, err
		}
		cl.add(cam.Close)
		return cam, nil
	}
	cam, err := camera.Open(c.Source, c.Width, c.Height, c.FPS)
	if err != nil {
		return nil, fmt.Errorf("camera.source: %w", err)
	}
	cl.add(cam.Close)
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

// cameraFrames reads the face camera and the thermal camera in turn for
// fusion.CollectPairs, the visible frame converted to grey.
func cameraFrames(cam scan.Source, th thermal.Sensor) (read fusion.FrameReader, closeFn func()) {
	m := gocv.NewMat()
	grey := gocv.NewMat()
	read = func(ctx context.Context, tf *thermal.Frame) (*image.Gray, error) {
		if err := cam.Read(ctx, &m); err != nil {
			return nil, fmt.Errorf("camera: %w", err)
		}
		if err := th.NextFrame(tf); err != nil {
			return nil, fmt.Errorf("thermal: %w", err)
		}
		if m.Channels() == 1 {
			m.CopyTo(&grey)
		} else {
			gocv.CvtColor(m, &grey, gocv.ColorBGRToGray)
		}
		img, err := grey.ToImage()
		if err != nil {
			return nil, fmt.Errorf("camera: %w", err)
		}
		g, ok := img.(*image.Gray)
		if !ok {
			return nil, errors.New("camera: grey frame is not 8-bit")
		}
		return g, nil
	}
	return read, func() { m.Close(); grey.Close() }
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
