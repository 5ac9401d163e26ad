package configs

import (
	"fmt"
	"slices"
)

// thermalDriver checks the thermal driver settings that apply to the chosen
// sensor.
func (v *validator) thermalDriver(t Thermal) {
	if !(t.Emissivity >= 0.1 && t.Emissivity <= 1) {
		v.add("thermal.emissivity", "%v is outside 0.1–1.0", t.Emissivity)
	}
	if t.RefreshHz != 0 {
		rates := map[string][]float64{
			"mlx90640": {0.5, 1, 2, 4, 8, 16, 32, 64},
			"amg8833":  {1, 10},
		}[t.Sensor]
		switch {
		case rates == nil:
			v.add("thermal.refresh_hz", "is not settable for sensor %s; leave it out", t.Sensor)
		case !slices.Contains(rates, t.RefreshHz):
			v.add("thermal.refresh_hz", "%v is not one of the %s rates: %s Hz", t.RefreshHz, t.Sensor, listRates(rates))
		}
	}
	if t.I2CAddr != 0 {
		switch t.Sensor {
		case "mlx90640":
			if t.I2CAddr < 0x08 || t.I2CAddr > 0x77 {
				v.add("thermal.i2c_addr", "%#x is not a 7-bit I²C address", t.I2CAddr)
			}
		case "amg8833":
			if t.I2CAddr != 0x68 && t.I2CAddr != 0x69 {
				v.add("thermal.i2c_addr", "%#x: the AMG8833 answers at 0x68 or 0x69", t.I2CAddr)
			}
		default:
			v.add("thermal.i2c_addr", "is not settable for sensor %s; leave it out", t.Sensor)
		}
	}
	if t.Sensor == "uvc" {
		v.required("thermal.uvc_device", t.UVCDevice)
	}
}

func listRates(r []float64) string {
	s := ""
	for i, x := range r {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprint(x)
	}
	return s
}
