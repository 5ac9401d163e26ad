package main

import (
	"fmt"
	"image"
	"log/slog"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/device/thermal"
	"github.com/gateguard/gateguard/device/thermal/amg8833"
	"github.com/gateguard/gateguard/device/thermal/lepton"
	"github.com/gateguard/gateguard/device/thermal/mlx90640"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/vision/fusion"
)

// scaledFOV is the calibration id of the uncalibrated registration that
// assumes both cameras share one field of view.
const scaledFOV = "scaled-fov"

// newMeter builds the thermometer from the thermal config: the
// registration from thermal.calibration_file (or the shared field of view
// when none is set), the blackbody, liveness, distance gate and core
// estimate. sensor is the open thermal camera, whose frame size the
// registration must fit.
func newMeter(cfg *configs.Config, sensor thermal.Sensor, log *slog.Logger) (*fusion.Meter, error) {
	t := cfg.Thermal
	o := fusion.Options{
		VisibleSize: image.Pt(cfg.Camera.Width, cfg.Camera.Height), CoreOffsetC: t.CoreOffsetC, AmbientK: t.AmbientK,
		MinSkinC: t.MinSkinC, MinSkinFraction: t.MinSkinFraction, MinSkinSpreadC: t.MinSkinSpreadC,
		FaceWidthMin: t.FaceWidthMin, FaceWidthMax: t.FaceWidthMax, MaxYawDeg: cfg.Vision.Quality.MaxYawDeg,
	}
	if err := register(&o, t, thermalSize(t, sensor), log); err != nil {
		return nil, err
	}
	if err := blackbodyFits(t.Blackbody, o.ThermalSize); err != nil {
		return nil, err
	}
	if b := t.Blackbody; b != nil {
		o.Blackbody = &fusion.BlackbodyOptions{Rect: b.Region(), SetpointC: b.SetpointC,
			MaxVariationC: b.Variation(), Window: b.WindowOrDefault(), MaxOffsetC: b.Offset(), MaxSpreadC: b.Spread()}
	}
	m, err := fusion.NewMeter(o)
	if err != nil {
		return nil, fmt.Errorf("thermal: %w", err)
	}
	return m, nil
}

// register sets o's registration (homography, visible and thermal frame
// sizes, calibration id) from thermal.calibration_file, or, without one, to
// the shared field of view of a camera whose frame is size.
func register(o *fusion.Options, t configs.Thermal, size image.Point, log *slog.Logger) error {
	if t.CalibrationFile != "" {
		cal, err := fusion.LoadCalibration(t.CalibrationFile)
		if err != nil {
			return fmt.Errorf("thermal.calibration_file: %w", err)
		}
		if size != (image.Point{}) && size != cal.Thermal() {
			return fmt.Errorf("thermal.calibration_file: calibration %s is for a %v thermal frame, the camera gives %v",
				cal.ID, cal.Thermal(), size)
		}
		o.Homography, o.VisibleSize, o.CalibrationID = cal.Homography, cal.Visible(), cal.ID
		o.ThermalSize = cal.Thermal()
		return nil
	}
	if size == (image.Point{}) {
		return fmt.Errorf("thermal.calibration_file: required for the %s sensor", t.Sensor)
	}
	o.Homography, o.CalibrationID = fusion.Scale(o.VisibleSize, size), scaledFOV
	o.ThermalSize = size
	if t.Sensor != "simulated" {
		log.Warn("thermal camera not calibrated: assuming a shared field of view; run gateguard calibrate",
			"key", "thermal.calibration_file")
	}
	return nil
}

// thermalSize returns the thermal camera's frame size when it is known
// before the first frame: the open sensor's own (Sensor.Size), or, with
// sensor nil (gateguard check opens none), the fixed size of the sensor the
// config names. A UVC camera's is known only once opened.
func thermalSize(t configs.Thermal, sensor thermal.Sensor) image.Point {
	if sensor != nil {
		return sensor.Size()
	}
	switch t.Sensor {
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

// snapshots returns where fever and spoof snapshots are kept: the outbox,
// the one place they are kept on the gate (within outbox.max_bytes, dropped
// oldest first before any event is refused), from which the publisher
// sends them when outbox.publish_snapshots is on (see snapshotSink); nil
// when the outbox cannot keep them.
func snapshots(outbox eventLog, log *slog.Logger) gate.Snapshotter {
	st, ok := outbox.(snapshotStore)
	if !ok {
		return nil
	}
	return &snapshotSink{render: &fusion.Snapshots{}, outbox: st, log: log.With("component", "snapshots")}
}
