package main

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2creg"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi/spireg"
	"periph.io/x/host/v3"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/device/thermal"
	"github.com/gateguard/gateguard/device/thermal/amg8833"
	"github.com/gateguard/gateguard/device/thermal/lepton"
	"github.com/gateguard/gateguard/device/thermal/mlx90640"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/vision/fusion"
	"github.com/gateguard/gateguard/vision/uvc"
)

// openThermal opens the hardware thermal camera the config names. Buses it
// opens are handed to closer, to be closed after the sensor is halted. Errors
// name the config key and the device.
func openThermal(t configs.Thermal, closer func(func() error)) (thermal.Sensor, error) {
	if t.Sensor == "uvc" {
		d, err := uvc.Open(t.UVCDevice, nil)
		if err != nil {
			return nil, fmt.Errorf("thermal.uvc_device: %w", err)
		}
		return d, nil
	}
	if _, err := host.Init(); err != nil {
		return nil, fmt.Errorf("thermal.sensor: %s: periph host init: %w", t.Sensor, err)
	}
	var open func(configs.Thermal, i2c.Bus, func(func() error)) (thermal.Sensor, error)
	switch t.Sensor {
	case "mlx90640":
		open = openMLX90640
	case "amg8833":
		open = openAMG8833
	case "lepton":
		open = openLepton
	default:
		return nil, fmt.Errorf("thermal.sensor: unknown sensor %q", t.Sensor) // configs validates it
	}
	bus, err := i2creg.Open(t.I2CBus)
	if err != nil {
		return nil, fmt.Errorf("thermal.i2c_bus: open %q for the %s: %w", t.I2CBus, t.Sensor, err)
	}
	closer(bus.Close)
	return open(t, bus, closer)
}

// openMLX90640 opens an MLX90640 on bus.
func openMLX90640(t configs.Thermal, bus i2c.Bus, _ func(func() error)) (thermal.Sensor, error) {
	o := mlx90640.DefaultOpts
	o.Emissivity, o.ReflectedC = t.Emissivity, math.NaN()
	if t.I2CAddr != 0 {
		o.Addr = uint16(t.I2CAddr)
	}
	if t.RefreshHz != 0 {
		o.Refresh = physic.Frequency(t.RefreshHz * float64(physic.Hertz))
	}
	d, err := mlx90640.New(bus, &o)
	if errors.Is(err, mlx90640.ErrEEPROM) {
		// The sensor answers but its calibration is corrupt: run
		// with the fault reported, never a temperature.
		return faulted{name: fmt.Sprintf("MLX90640{%s, %#x}", bus, o.Addr), size: image.Pt(mlx90640.Width, mlx90640.Height), err: err}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("thermal.sensor: mlx90640 at %#x on %s: %w", o.Addr, bus, err)
	}
	return d, nil
}

// openAMG8833 opens an AMG8833 on bus.
func openAMG8833(t configs.Thermal, bus i2c.Bus, _ func(func() error)) (thermal.Sensor, error) {
	o := amg8833.DefaultOpts
	if t.I2CAddr != 0 {
		o.Addr = uint16(t.I2CAddr)
	}
	o.SlowRate = t.RefreshHz == 1
	d, err := amg8833.New(bus, &o)
	if err != nil {
		return nil, fmt.Errorf("thermal.sensor: amg8833 at %#x on %s: %w", o.Addr, bus, err)
	}
	return d, nil
}

// openLepton opens a Lepton: its control interface on bus, its video on
// the SPI port (handed to closer).
func openLepton(t configs.Thermal, bus i2c.Bus, closer func(func() error)) (thermal.Sensor, error) {
	port, err := spireg.Open(t.SPIPort)
	if err != nil {
		return nil, fmt.Errorf("thermal.spi_port: open %q for the lepton: %w", t.SPIPort, err)
	}
	closer(port.Close)
	d, err := lepton.New(port, bus, nil)
	if err != nil {
		return nil, fmt.Errorf("thermal.sensor: lepton on %s and %s: %w", port, bus, err)
	}
	return d, nil
}

// thermalRunOpts is how the thermal loop (thermal.Run) reports to the gate:
// its health as DeviceThermal, and frames of another size than the
// registration's refused (Meter.CheckSize) where they are received.
func thermalRunOpts(ctx context.Context, ctrl *gate.Controller, meter *fusion.Meter) thermal.RunOpts {
	o := thermal.RunOpts{Health: func(err error) { ctrl.DeviceHealth(ctx, gate.DeviceThermal, err) }}
	if meter != nil {
		o.Check = meter.CheckSize
	}
	return o
}

// faulted stands in for a sensor that answered but is faulty (a corrupted
// EEPROM): every read returns the fault, so the thermal loop reports it as
// device health (the gate goes to its fail mode and alerts) and no
// temperature is ever produced. A bus or config error stops the daemon
// instead.
type faulted struct {
	name string
	size image.Point
	err  error
}

func (f faulted) NextFrame(*thermal.Frame) error { return f.err }
func (f faulted) Size() image.Point              { return f.size }
func (f faulted) Halt() error                    { return nil }
func (f faulted) String() string                 { return f.name }
