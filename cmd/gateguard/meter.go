package main

import (
	"fmt"
	"image"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/device/thermal/amg8833"
	"github.com/gateguard/gateguard/device/thermal/lepton"
	"github.com/gateguard/gateguard/device/thermal/mlx90640"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/vision/fusion"
)

// scaledFOV is the calibration id of the uncalibrated registration that
// assumes both cameras share one field of view.
const scaledFOV = "scaled-fov"

// buildMeter builds the thermometer from the thermal config: the
// registration from thermal.calibration_file (or the shared field of view
// when none is set), the blackbody, liveness, distance gate and core estimate.
func (d *daemon) buildMeter() error {
	t := d.cfg.Thermal
	visible := image.Pt(d.cfg.Camera.Width, d.cfg.Camera.Height)
	o := fusion.Options{
		VisibleSize: visible, CoreOffsetC: t.CoreOffsetC, AmbientK: t.AmbientK,
		MinSkinC: t.MinSkinC, MinSkinFraction: t.MinSkinFraction, MinSkinSpreadC: t.MinSkinSpreadC,
		FaceWidthMin: t.FaceWidthMin, FaceWidthMax: t.FaceWidthMax, MaxYawDeg: d.cfg.Vision.Quality.MaxYawDeg,
	}
	var frame image.Point // the thermal frame size the meter works in
	if t.CalibrationFile != "" {
		cal, err := fusion.LoadCalibration(t.CalibrationFile)
		if err != nil {
			return fmt.Errorf("thermal.calibration_file: %w", err)
		}
		if size := d.thermalSize(); size != (image.Point{}) && size != cal.Thermal() {
			return fmt.Errorf("thermal.calibration_file: calibration %s is for a %v thermal frame, the camera gives %v",
				cal.ID, cal.Thermal(), size)
		}
		o.Homography, o.VisibleSize, o.CalibrationID = cal.Homography, cal.Visible(), cal.ID
		frame = cal.Thermal()
	} else {
		size := d.thermalSize()
		if size == (image.Point{}) {
			return fmt.Errorf("thermal.calibration_file: required for the %s sensor", t.Sensor)
		}
		o.Homography, o.CalibrationID = fusion.Scale(visible, size), scaledFOV
		frame = size
		if t.Sensor != "simulated" {
			d.log.Warn("thermal camera not calibrated: assuming a shared field of view; run gateguard calibrate",
				"key", "thermal.calibration_file")
		}
	}
	if err := blackbodyFits(t.Blackbody, frame); err != nil {
		return err
	}
	o.ThermalSize = frame
	if b := t.Blackbody; b != nil {
		if d.simThermal != nil {
			d.simThermal.SetBlackbody(b.Region(), b.SetpointC)
		}
		o.Blackbody = &fusion.BlackbodyOptions{Rect: b.Region(), SetpointC: b.SetpointC,
			MaxVariationC: b.Variation(), Window: b.WindowOrDefault(), MaxOffsetC: b.Offset(), MaxSpreadC: b.Spread()}
	}
	m, err := fusion.NewMeter(o)
	if err != nil {
		return fmt.Errorf("thermal: %w", err)
	}
	d.meter = m
	return nil
}

// thermalSize returns the thermal camera's frame size when it is known
// before the first frame: the open sensor's own (Sensor.Size), or, before
// any sensor is opened (gateguard check), the fixed size of the sensor the
// config names. A UVC camera's is known only once opened.
func (d *daemon) thermalSize() image.Point {
	if d.thermal != nil {
		return d.thermal.Size()
	}
	switch d.cfg.Thermal.Sensor {
	case "simulated":
		return image.Pt(simThermalW, simThermalH)
	case "mlx90640":
		return image.Pt(mlx90640.Width, mlx90640.Height)
	case "amg8833":
		return image.Pt(amg8833.Width, amg8833.Height)
	case "lepton":
		return image.Pt(lepton.Width, lepton.Height)
	}
	return image.Point{}
}

// blackbodyFits reports a blackbody region that is not wholly inside the
// thermal frame: the meter would find the blackbody missing in every frame
// and screening would never start.
func blackbodyFits(b *configs.Blackbody, frame image.Point) error {
	if b == nil || frame == (image.Point{}) {
		return nil
	}
	if r := b.Region(); !r.In(image.Rect(0, 0, frame.X, frame.Y)) {
		return fmt.Errorf("thermal.blackbody.rect: %v is not inside the %dx%d thermal frame", r, frame.X, frame.Y)
	}
	return nil
}

// snapshots returns where fever and spoof snapshots are kept (see
// snapshotSink): the outbox, when they are published, and
// thermal.snapshot_dir, when set.
func (d *daemon) snapshots() gate.Snapshotter {
	s := &snapshotSink{render: &fusion.Snapshots{Dir: d.cfg.Thermal.SnapshotDir, MaxBytes: d.cfg.Thermal.SnapshotMaxBytes},
		log: d.log.With("component", "snapshots")}
	if src := d.snapshotSource(); src != nil {
		s.outbox, _ = src.(snapshotStore)
	}
	return s
}

// simThermalW and simThermalH are the simulated thermal camera's frame
// size (an MLX90640's).
const simThermalW, simThermalH = 32, 24

// simThermalFPS is the simulated thermal camera's frame rate (an MLX90640 at 8 Hz).
const simThermalFPS = 8
