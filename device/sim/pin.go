package sim

import (
	"sync"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

// Pin is a simulated GPIO pin built on periph's gpiotest.Pin that also
// records every level driven on it, so tests can assert relay pulses.
type Pin struct {
	gpiotest.Pin

	hmu     sync.Mutex // guards history and notify
	history []gpio.Level
	notify  chan gpio.Level
}

// NewPin returns a pin named name reading level l.
func NewPin(name string, num int, l gpio.Level) *Pin {
	return &Pin{Pin: gpiotest.Pin{N: name, Num: num, L: l}}
}

// Out drives the pin and records the level.
func (p *Pin) Out(l gpio.Level) error {
	if err := p.Pin.Out(l); err != nil {
		return err
	}
	p.hmu.Lock()
	defer p.hmu.Unlock()
	p.history = append(p.history, l)
	if p.notify != nil {
		select {
		case p.notify <- l:
		default:
		}
	}
	return nil
}

// Set changes the level an input reads, as a switch or sensor would.
func (p *Pin) Set(l gpio.Level) {
	p.Lock()
	defer p.Unlock()
	p.L = l
}

// Level returns the pin's current level.
func (p *Pin) Level() gpio.Level {
	p.Lock()
	defer p.Unlock()
	return p.L
}

// History returns every level driven with Out, oldest first.
func (p *Pin) History() []gpio.Level {
	p.hmu.Lock()
	defer p.hmu.Unlock()
	return append([]gpio.Level(nil), p.history...)
}

// Notify sends every later Out level on ch without blocking (a full channel
// misses levels; History keeps them all).
func (p *Pin) Notify(ch chan gpio.Level) {
	p.hmu.Lock()
	defer p.hmu.Unlock()
	p.notify = ch
}
