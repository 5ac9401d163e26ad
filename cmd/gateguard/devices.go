package main

import (
	"fmt"
	"log/slog"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/device/input"
	"github.com/gateguard/gateguard/device/relay"
	"github.com/gateguard/gateguard/device/thermal"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/vision/camera"
	"github.com/gateguard/gateguard/vision/scan"
)

// devices are the hardware the gate drives and reads, real or simulated as
// the config says: the rest of the wiring sees only these interfaces and
// driver types.
type devices struct {
	relay   *relay.Dev
	inputs  map[gate.InputKind]*input.Dev
	camera  scan.Source
	thermal thermal.Sensor
}

// closers is what a wiring step opened, closed in reverse order.
type closers []func() error

// add registers c to be closed.
func (cl *closers) add(c func() error) { *cl = append(*cl, c) }

// close runs every closer, newest first, logging failures.
func (cl *closers) close(log *slog.Logger) {
	for i := len(*cl) - 1; i >= 0; i-- {
		if err := (*cl)[i](); err != nil {
			log.Warn("close", "err", err)
		}
	}
	*cl = nil
}

// pinFunc finds the GPIO pin name for the config key key; rest is the level
// its contact reads at rest (for a simulated pin to start at).
type pinFunc func(key, name string, rest gpio.Level) (gpio.PinIO, error)

// openDevices opens the relay, the inputs, the face camera and the thermal
// camera. What it opens is handed to cl; the relay is the caller's to halt.
func openDevices(cfg *configs.Config, log *slog.Logger, s *simHardware, cl *closers) (*devices, error) {
	pins, err := pinsFor(cfg.GPIO, s)
	if err != nil {
		return nil, err
	}
	d := &devices{}
	if d.relay, err = openRelay(cfg.GPIO.Relay, pins); err != nil {
		return nil, err
	}
	if d.inputs, err = openInputs(cfg.GPIO, pins); err != nil {
		return d, err
	}
	if d.camera, err = openLiveCamera(cfg.Camera, log, s); err != nil {
		return d, err
	}
	cl.add(d.camera.Close)
	if d.thermal, err = openThermalSensor(cfg.Thermal, s, cl); err != nil {
		return d, err
	}
	s.placeBlackbody(cfg.Thermal.Blackbody)
	return d, nil
}

// pinsFor returns the simulated pins or, after initialising periph's host
// drivers, the machine's own.
func pinsFor(g configs.GPIO, s *simHardware) (pinFunc, error) {
	if g.Driver == "simulated" {
		return s.pin, nil
	}
	if _, err := host.Init(); err != nil {
		return nil, fmt.Errorf("gpio: periph host init: %w", err)
	}
	return func(key, name string, _ gpio.Level) (gpio.PinIO, error) {
		p := gpioreg.ByName(name)
		if p == nil {
			return nil, fmt.Errorf("%s: pin %q not found on this machine", key, name)
		}
		return p, nil
	}, nil
}

// openRelay opens the turnstile relay on its pin.
func openRelay(r configs.Relay, pins pinFunc) (*relay.Dev, error) {
	pin, err := pins("gpio.relay.pin", r.Pin, gpio.Low)
	if err != nil {
		return nil, err
	}
	return relay.New(pin, &relay.Opts{
		ActiveLow: r.ActiveLow, Hold: r.Mode == "hold",
		Pulse: r.Pulse, HoldFor: r.Hold, SafeOpen: r.SafeState == "open",
	})
}

// openInputs opens every input the config wires (gate.Inputs).
func openInputs(g configs.GPIO, pins pinFunc) (map[gate.InputKind]*input.Dev, error) {
	inputs := map[gate.InputKind]*input.Dev{}
	for _, kind := range gate.Inputs {
		key, c := "gpio."+kind.String(), g.Input(kind.String())
		if c == nil {
			continue
		}
		// A contact at rest is open, or closed for a normally-closed loop.
		rest := gpio.Level(c.ActiveLow) // open contact level
		if c.NormallyClosed {
			rest = !rest
		}
		p, err := pins(key+".pin", c.Pin, rest)
		if err != nil {
			return nil, err
		}
		pull := map[string]gpio.Pull{"up": gpio.PullUp, "down": gpio.PullDown, "none": gpio.Float}[c.Pull]
		dev, err := input.New(p, &input.Opts{ActiveLow: c.ActiveLow, Pull: pull,
			Debounce: c.Debounce, NormallyClosed: c.NormallyClosed})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		inputs[kind] = dev
	}
	return inputs, nil
}

// openLiveCamera opens the face camera for the daemon: the capture
// goroutine opens the camera and keeps reopening it, so a camera missing at
// start is a device fault, not a failed start.
func openLiveCamera(c configs.Camera, log *slog.Logger, s *simHardware) (scan.Source, error) {
	if c.Source == "simulated" {
		return s.openCamera(c)
	}
	cam, err := camera.OpenLive(c.Source, c.Width, c.Height, c.FPS, c.StallTimeout, log)
	if err != nil {
		return nil, fmt.Errorf("camera.source: %w", err)
	}
	return cam, nil
}

// openThermalSensor opens the thermal camera the config names, simulated or
// real (openThermal, wire_thermal.go). Its halt, and the buses it opened,
// are handed to cl.
func openThermalSensor(t configs.Thermal, s *simHardware, cl *closers) (thermal.Sensor, error) {
	var sensor thermal.Sensor
	if t.Sensor == "simulated" {
		st, err := s.openThermal()
		if err != nil {
			return nil, err
		}
		sensor = st
	} else {
		hs, err := openThermal(t, cl.add)
		if err != nil {
			return nil, err
		}
		sensor = hs
	}
	cl.add(sensor.Halt)
	return sensor, nil
}
