package main

import (
	"fmt"
	"math"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/i2c/i2creg"
	"periph.io/x/host/v3"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/device/input"
	"github.com/gateguard/gateguard/device/relay"
	"github.com/gateguard/gateguard/device/sim"
	"github.com/gateguard/gateguard/device/thermal"
	"github.com/gateguard/gateguard/device/thermal/amg8833"
	"github.com/gateguard/gateguard/device/thermal/lepton"
	"github.com/gateguard/gateguard/device/thermal/mlx90640"
	"github.com/gateguard/gateguard/vision/fusion"
)

// pinFinder returns how pins are found for the GPIO driver: simulated pins,
// or periph's by name.
func pinFinder(driver string) (func(key, name string, initial gpio.Level) (gpio.PinIO, error), error) {
	if driver == "simulated" {
		n := 0
		return func(_, name string, initial gpio.Level) (gpio.PinIO, error) {
			n++
			return sim.NewPin(name, n, initial), nil
		}, nil
	}
	if _, err := host.Init(); err != nil {
		return nil, fmt.Errorf("gpio: periph host init: %w", err)
	}
	return func(key, name string, _ gpio.Level) (gpio.PinIO, error) {
		p := gpioreg.ByName(name)
		if p == nil {
			return nil, fmt.Errorf("%s: pin %q %w", key, name, errNotFound)
		}
		return p, nil
	}, nil
}

// relayOpts are the relay driver's options from the config.
func relayOpts(r configs.Relay) *relay.Opts {
	return &relay.Opts{ActiveLow: r.ActiveLow, Hold: r.Mode == "hold",
		Pulse: r.Pulse, HoldFor: r.Hold, SafeOpen: r.SafeState == "open"}
}

// inputOpts are an input driver's options from the config.
func inputOpts(in *configs.Input) *input.Opts {
	pull := map[string]gpio.Pull{"up": gpio.PullUp, "down": gpio.PullDown, "none": gpio.Float}[in.Pull]
	return &input.Opts{ActiveLow: in.ActiveLow, Pull: pull, Debounce: in.Debounce, NormallyClosed: in.NormallyClosed}
}

// inputRest is an input's level at rest: contact open, or closed for a
// normally-closed loop.
func inputRest(in *configs.Input) gpio.Level {
	rest := gpio.Level(in.ActiveLow)
	if in.NormallyClosed {
		rest = !rest
	}
	return rest
}

// thermalHint is what to check when the thermal camera does not answer.
func thermalHint(t configs.Thermal) string {
	switch t.Sensor {
	case "lepton":
		return fmt.Sprintf("the Lepton's breakout: I2C (SDA, SCL) on %s and SPI (MOSI, MISO, SCLK, CS) on %s, 3.3 V and GND; "+
			"dtparam=i2c_arm=on and dtparam=spi=on in /boot/firmware/config.txt; groups i2c and spi", t.I2CBus, t.SPIPort)
	case "uvc":
		return "thermal.uvc_device: the PureThermal board is plugged in (ls /dev/video*) and the gateguard user is in group video"
	}
	return fmt.Sprintf("the sensor's wiring (SDA, SCL, 3.3 V, GND) on %s, its address (i2cdetect -y 1), "+
		"dtparam=i2c_arm=on in /boot/firmware/config.txt, and group i2c", t.I2CBus)
}

// thermalDevice names the configured thermal camera and where it is.
func thermalDevice(t configs.Thermal) string {
	addr := func(def int) string {
		if t.I2CAddr != 0 {
			def = t.I2CAddr
		}
		return fmt.Sprintf("%#x on %s", def, t.I2CBus)
	}
	switch t.Sensor {
	case "mlx90640":
		return "MLX90640 at " + addr(0x33)
	case "amg8833":
		return "AMG8833 at " + addr(0x69)
	case "lepton":
		return fmt.Sprintf("Lepton CCI 0x2a on %s, VoSPI %s", t.I2CBus, t.SPIPort)
	case "uvc":
		return "UVC " + t.UVCDevice
	}
	return t.Sensor
}

// checkThermal checks that the thermal camera answers as itself, delivers
// valid frames, and that the blackbody is in view.
func (st *selftest) checkThermal() {
	t := st.cfg.Thermal
	dev := thermalDevice(t)
	if err := st.identify(t); err != nil {
		st.fail("thermal.sensor", dev, err, thermalHint(t))
		st.add(checkResult{name: "thermal.frame", device: dev, status: statusSkip, detail: "the sensor did not answer"})
		st.add(checkResult{name: "thermal.blackbody", device: dev, status: statusSkip, detail: "the sensor did not answer"})
		return
	}
	var closers []func() error
	defer func() {
		for i := len(closers) - 1; i >= 0; i-- {
			_ = closers[i]()
		}
	}()
	s, err := openCheckedSensor(t, func(c func() error) { closers = append(closers, c) })
	if err != nil {
		st.fail("thermal.frame", dev, err, thermalHint(t))
		st.add(checkResult{name: "thermal.blackbody", device: dev, status: statusSkip, detail: "no frame"})
		return
	}
	defer s.Halt()
	var f thermal.Frame
	const frames = 3
	for i := range frames {
		err := s.NextFrame(&f)
		if err == nil {
			err = f.Check()
		}
		if err != nil {
			st.fail("thermal.frame", s.String(), fmt.Errorf("frame %d of %d: %w", i+1, frames, err), thermalHint(t)+
				"; a stuck bus or a too-fast I2C clock (dtparam=i2c_arm_baudrate=400000 at most for the MLX90640) corrupts frames")
			st.add(checkResult{name: "thermal.blackbody", device: dev, status: statusSkip, detail: "no valid frame"})
			return
		}
	}
	lo, hi := frameRange(&f)
	st.add(checkResult{name: "thermal.frame", device: s.String(),
		detail: fmt.Sprintf("%d valid frames of %dx%d, %.1f–%.1f °C", frames, f.W, f.H, lo, hi)})
	st.checkBlackbody(t.Blackbody, &f)
}

// openCheckedSensor opens the thermal camera for the checks: the simulated
// one with the configured blackbody in view, or the hardware one.
func openCheckedSensor(t configs.Thermal, closer func(func() error)) (thermal.Sensor, error) {
	if t.Sensor != "simulated" {
		return openThermal(t, closer)
	}
	ts, err := sim.NewThermal(simThermalW, simThermalH, simThermalFPS)
	if err != nil {
		return nil, err
	}
	if b := t.Blackbody; b != nil {
		ts.SetBlackbody(b.Region(), b.SetpointC)
	}
	return ts, nil
}

// checkBlackbody finds the configured blackbody in frame f.
func (st *selftest) checkBlackbody(b *configs.Blackbody, f *thermal.Frame) {
	if b == nil {
		st.add(checkResult{name: "thermal.blackbody", device: "-", status: statusSkip, detail: "no thermal.blackbody configured"})
		return
	}
	rect := b.Region()
	c, err := fusion.CheckBlackbody(fusion.BlackbodyOptions{Rect: rect, SetpointC: b.SetpointC, MaxVariationC: b.Variation(),
		Window: b.WindowOrDefault(), MaxOffsetC: b.Offset(), MaxSpreadC: b.Spread()}, f)
	name := fmt.Sprintf("region %v", []int{rect.Min.X, rect.Min.Y, rect.Max.X, rect.Max.Y})
	if err != nil {
		st.fail("thermal.blackbody", name, err, fmt.Sprintf("the blackbody is switched on, at its set point (%.1f °C), "+
			"uncovered and where thermal.blackbody.rect says; `gateguard calibrate` shows the thermal view", b.SetpointC))
		return
	}
	st.add(checkResult{name: "thermal.blackbody", device: name,
		detail: fmt.Sprintf("in view: reads %.2f °C, set point %.2f °C", c, b.SetpointC)})
}

// identify asks the thermal sensor to answer as itself, without starting it.
func (st *selftest) identify(t configs.Thermal) error {
	switch t.Sensor {
	case "simulated":
		st.add(checkResult{name: "thermal.sensor", device: "simulated", detail: "simulated thermal camera (no bus)"})
		return nil
	case "uvc":
		st.add(checkResult{name: "thermal.sensor", device: thermalDevice(t), status: statusSkip,
			detail: "a UVC camera answers by opening it (thermal.frame)"})
		return nil
	}
	if _, err := host.Init(); err != nil {
		return fmt.Errorf("periph host init: %w", err)
	}
	bus, err := i2creg.Open(t.I2CBus)
	if err != nil {
		return fmt.Errorf("thermal.i2c_bus: open %q: %w", t.I2CBus, err)
	}
	defer bus.Close()
	switch t.Sensor {
	case "mlx90640":
		p, err := mlx90640.Probe(bus, uint16(t.I2CAddr))
		if err != nil {
			return err
		}
		st.add(checkResult{name: "thermal.sensor", device: thermalDevice(t),
			detail: fmt.Sprintf("MLX90640 EEPROM read and plausible, %d defective pixels", len(p.Defective()))})
	case "amg8833":
		c, err := amg8833.Probe(bus, uint16(t.I2CAddr))
		if err != nil {
			return err
		}
		st.add(checkResult{name: "thermal.sensor", device: thermalDevice(t),
			detail: fmt.Sprintf("AMG8833 status clear, thermistor %.2f °C", c)})
	case "lepton":
		if err := lepton.Ping(bus); err != nil {
			return err
		}
		st.add(checkResult{name: "thermal.sensor", device: thermalDevice(t), detail: "Lepton CCI ping answered"})
	default:
		return fmt.Errorf("thermal.sensor: unknown sensor %q", t.Sensor)
	}
	return nil
}

// frameRange returns a frame's coolest and warmest pixel.
func frameRange(f *thermal.Frame) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, c := range f.C {
		lo, hi = min(lo, float64(c)), max(hi, float64(c))
	}
	return lo, hi
}
