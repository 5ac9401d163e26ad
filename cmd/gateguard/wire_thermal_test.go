package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gateguard/gateguard/configs"
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
