package main

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/device/thermal"
	"github.com/gateguard/gateguard/device/thermal/mlx90640"
)

// TestOpenThermalErrors checks that a sensor that cannot be opened names its
// config key and the device.
func TestOpenThermalErrors(t *testing.T) {
	for _, tt := range []struct {
		cfg  configs.Thermal
		want []string
	}{
		{configs.Thermal{Sensor: "mlx90640", I2CBus: "/dev/i2c-gateguard-none", Emissivity: 0.98},
			[]string{"thermal.i2c_bus: open \"/dev/i2c-gateguard-none\" for the mlx90640"}},
		{configs.Thermal{Sensor: "amg8833", I2CBus: "/dev/i2c-gateguard-none", Emissivity: 0.98},
			[]string{"thermal.i2c_bus:", "for the amg8833"}},
		{configs.Thermal{Sensor: "lepton", I2CBus: "/dev/i2c-gateguard-none", Emissivity: 0.98},
			[]string{"thermal.i2c_bus:", "for the lepton"}},
		{configs.Thermal{Sensor: "uvc", UVCDevice: filepath.Join(t.TempDir(), "none%03d.png")},
			[]string{"thermal.uvc_device: uvc: open"}},
	} {
		t.Run(tt.cfg.Sensor, func(t *testing.T) {
			var closers []func() error
			s, err := openThermal(tt.cfg, func(c func() error) { closers = append(closers, c) })
			for _, c := range closers {
				c()
			}
			if err == nil {
				s.Halt()
				t.Fatal("opened")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestOpenThermalUVC opens a recorded Y16 sequence as sensor uvc and reads a
// frame through the thermal.Sensor interface.
func TestOpenThermalUVC(t *testing.T) {
	dir := t.TempDir()
	m := gocv.NewMatWithSize(120, 160, gocv.MatTypeCV16UC1)
	defer m.Close()
	m.SetTo(gocv.NewScalar(27315+3650, 0, 0, 0)) // 36.50 °C
	if !gocv.IMWrite(filepath.Join(dir, "f000.png"), m) {
		t.Fatal("IMWrite")
	}
	s, err := openThermal(configs.Thermal{Sensor: "uvc", UVCDevice: filepath.Join(dir, "f%03d.png")}, func(func() error) {})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Halt()
	var f thermal.Frame
	if err := s.NextFrame(&f); err != nil {
		t.Fatal(err)
	}
	if f.W != 160 || f.H != 120 || f.At(80, 60) != float32(36.5) {
		t.Errorf("frame %dx%d centre %v", f.W, f.H, f.At(80, 60))
	}
}

func TestFaultedSensor(t *testing.T) {
	err := fmt.Errorf("%w: every word reads 0xffff", mlx90640.ErrEEPROM)
	var s thermal.Sensor = faulted{name: "MLX90640{x, 0x33}", err: err}
	var f thermal.Frame
	for range 2 {
		if got := s.NextFrame(&f); !errors.Is(got, mlx90640.ErrEEPROM) {
			t.Fatalf("NextFrame = %v", got)
		}
	}
	if len(f.C) != 0 || s.String() != "MLX90640{x, 0x33}" || s.Halt() != nil {
		t.Errorf("frame %v, name %q", f.C, s)
	}
}

// TestMeterWithoutCalibrationFile: a fixed-size hardware sensor without
// thermal.calibration_file runs on the shared field of view (scaled-fov), as
// raspberrypi.yaml and the README say; only a UVC camera, whose size is
// known from its frames alone, needs the file.
func TestMeterWithoutCalibrationFile(t *testing.T) {
	for _, tt := range []struct {
		sensor, wantErr string
	}{
		{"mlx90640", ""},
		{"amg8833", ""},
		{"lepton", ""},
		{"uvc", "thermal.calibration_file: required for the uvc sensor"},
	} {
		t.Run(tt.sensor, func(t *testing.T) {
			cfg := configs.Default()
			cfg.Thermal.Sensor = tt.sensor
			m, err := newMeter(cfg, nil, slog.New(slog.DiscardHandler))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("newMeter: %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("newMeter: %v", err)
			}
			if id := m.CalibrationID(); id != scaledFOV {
				t.Errorf("calibration id %q, want %q", id, scaledFOV)
			}
		})
	}
}

// TestBlackbodyOutsideFrame: a blackbody region beyond the sensor's frame
// would read as missing in every frame, pausing screening for good; the
// daemon refuses it at start and check reports it.
func TestBlackbodyOutsideFrame(t *testing.T) {
	bb := &configs.Blackbody{Rect: [4]int{28, 1, 31, 4}, SetpointC: 35}
	for _, tt := range []struct {
		sensor, wantErr string
	}{
		{"mlx90640", ""},
		{"simulated", ""},
		{"lepton", ""},
		{"amg8833", "thermal.blackbody.rect: (28,1)-(31,4) is not inside the 8x8 thermal frame"},
	} {
		t.Run(tt.sensor, func(t *testing.T) {
			cfg := configs.Default()
			cfg.Thermal.Sensor, cfg.Thermal.Blackbody = tt.sensor, bb
			_, err := newMeter(cfg, nil, slog.New(slog.DiscardHandler))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("newMeter: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("newMeter: %v, want %q", err, tt.wantErr)
			}
			p := filepath.Join(t.TempDir(), "gate.yaml")
			yaml := "site: s\ngate: g\ncredentials: {mode: presence}\nthermal: {sensor: " + tt.sensor +
				", blackbody: {rect: [28, 1, 31, 4], setpoint_c: 35}}\n"
			if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := cmdCheck([]string{"-c", p}, &out); !errors.Is(err, errInvalidConfig) || !strings.Contains(out.String(), tt.wantErr) {
				t.Errorf("check: %v, output %q; want %q", err, out.String(), tt.wantErr)
			}
		})
	}
}

// TestMeterKnowsTheThermalFrameSize: the thermal loop refuses frames of
// another size than the registration's (thermalLoop calls CheckSize).
func TestMeterKnowsTheThermalFrameSize(t *testing.T) {
	cfg := configs.Default()
	cfg.Thermal.Sensor = "mlx90640"
	m, err := newMeter(cfg, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	var f thermal.Frame
	f.Resize(mlx90640.Width, mlx90640.Height)
	if err := m.CheckSize(&f); err != nil {
		t.Errorf("%dx%d frame: %v", f.W, f.H, err)
	}
	f.Resize(160, 120)
	if err := m.CheckSize(&f); !errors.Is(err, thermal.ErrUnavailable) {
		t.Errorf("160x120 frame from a 32x24 sensor: %v", err)
	}
}
