package main

import (
	"periph.io/x/conn/v3/gpio"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/device/sim"
	vsim "github.com/gateguard/gateguard/vision/sim"
)

// simHardware is the simulated hardware of one gate: the GPIO pins, the
// face camera and the thermal camera, each made when the config sets its
// driver to "simulated". The wiring sees them only through the interfaces
// the real hardware has (gpio.PinIO, scan.Source, thermal.Sensor); the
// scenario world (world.go) drives them through their concrete types.
type simHardware struct {
	pins    map[string]*sim.Pin
	camera  *vsim.Camera // nil unless camera.source is simulated
	thermal *sim.Thermal // nil unless thermal.sensor is simulated
}

// simThermalW and simThermalH are the simulated thermal camera's frame
// size (an MLX90640's).
const simThermalW, simThermalH = 32, 24

// simThermalFPS is the simulated thermal camera's frame rate (an MLX90640 at 8 Hz).
const simThermalFPS = 8

// pin makes the simulated pin name. It reads rest, the level its contact
// gives at rest, whatever pull the wiring then applies.
func (s *simHardware) pin(_, name string, rest gpio.Level) (gpio.PinIO, error) {
	if s.pins == nil {
		s.pins = map[string]*sim.Pin{}
	}
	p := sim.NewPin(name, len(s.pins), rest)
	s.pins[name] = p
	return restingPin{Pin: p, rest: rest}, nil
}

// restingPin is a simulated pin wired to a contact: setting it as an input
// applies the pull (as gpiotest does), then the contact decides the level.
type restingPin struct {
	*sim.Pin
	rest gpio.Level
}

// In configures the pin as an input and puts the contact's rest level back.
func (p restingPin) In(pull gpio.Pull, edge gpio.Edge) error {
	if err := p.Pin.In(pull, edge); err != nil {
		return err
	}
	p.Set(p.rest)
	return nil
}

// openCamera makes the simulated face camera.
func (s *simHardware) openCamera(c configs.Camera) (*vsim.Camera, error) {
	cam, err := vsim.New(c.Width, c.Height, c.FPS)
	if err != nil {
		return nil, err
	}
	s.camera = cam
	return cam, nil
}

// openThermal makes the simulated thermal camera.
func (s *simHardware) openThermal() (*sim.Thermal, error) {
	t, err := sim.NewThermal(simThermalW, simThermalH, simThermalFPS)
	if err != nil {
		return nil, err
	}
	s.thermal = t
	return t, nil
}

// placeBlackbody puts the configured blackbody into the simulated thermal
// scene, as a real site has it in view. A nil s or blackbody, or a real
// thermal camera, does nothing.
func (s *simHardware) placeBlackbody(b *configs.Blackbody) {
	if s == nil || s.thermal == nil || b == nil {
		return
	}
	s.thermal.SetBlackbody(b.Region(), b.SetpointC)
}
