// Package relay drives a turnstile's open signal on a GPIO output through
// periph.io: a pulse (100–900 ms) or a timed hold, active high or low, and a
// configured safe state on Halt.
//
// Turnstile controllers take a dry contact: a pulse lets one person through,
// a hold keeps the lane open for its duration. A fire alarm holds it open
// (Free) until the alarm is reset.
package relay

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// Opts configures a Dev.
type Opts struct {
	// ActiveLow inverts the output: the relay is energised by a low level.
	ActiveLow bool
	// Hold selects hold mode; the default is pulse mode.
	Hold bool
	// Pulse is the pulse length in pulse mode (100–900 ms).
	Pulse time.Duration
	// HoldFor is the hold length in hold mode (1–10 s).
	HoldFor time.Duration
	// SafeOpen leaves the lane open (energised) on Halt: fail-safe. The
	// default leaves it locked: fail-secure.
	SafeOpen bool
}

// DefaultOpts is a 200 ms active-high pulse, fail-secure.
var DefaultOpts = Opts{Pulse: 200 * time.Millisecond, HoldFor: 3 * time.Second}

// Dev is a relay on one output pin. It is safe for concurrent use.
type Dev struct {
	pin  gpio.PinOut
	opts Opts

	mu     sync.Mutex // guards the fields below
	timer  *time.Timer
	free   bool
	halted bool
}

// New configures pin as an output in its de-energised state.
func New(pin gpio.PinOut, o *Opts) (*Dev, error) {
	if o == nil {
		o = &DefaultOpts
	}
	if pin == nil {
		return nil, errors.New("relay: no pin")
	}
	if !o.Hold && (o.Pulse < 100*time.Millisecond || o.Pulse > 900*time.Millisecond) {
		return nil, fmt.Errorf("relay: pulse %v is outside 100ms–900ms", o.Pulse)
	}
	if o.Hold && (o.HoldFor < time.Second || o.HoldFor > 10*time.Second) {
		return nil, fmt.Errorf("relay: hold %v is outside 1s–10s", o.HoldFor)
	}
	d := &Dev{pin: pin, opts: *o}
	if err := d.drive(false); err != nil {
		return nil, err
	}
	return d, nil
}

// String names the relay's pin.
func (d *Dev) String() string { return "relay(" + d.pin.String() + ")" }

// Release energises the relay for one pulse, or for the hold time.
func (d *Dev) Release() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.halted {
		return errors.New("relay: halted")
	}
	if d.free {
		return nil // already held open
	}
	if err := d.drive(true); err != nil {
		return err
	}
	length := d.opts.Pulse
	if d.opts.Hold {
		length = d.opts.HoldFor
	}
	if d.timer != nil {
		d.timer.Stop()
	}
	d.timer = time.AfterFunc(length, d.endRelease)
	return nil
}

func (d *Dev) endRelease() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.free || d.halted {
		return
	}
	_ = d.drive(false) // a failure here shows on the next Release or Secure
}

// Free energises the relay until Secure.
func (d *Dev) Free() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.halted {
		return errors.New("relay: halted")
	}
	d.stopTimer()
	d.free = true
	return d.drive(true)
}

// Secure de-energises the relay and ends a pulse, a hold or Free.
func (d *Dev) Secure() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.halted {
		return errors.New("relay: halted")
	}
	d.stopTimer()
	d.free = false
	return d.drive(false)
}

// Halt puts the relay in its safe state and ignores later calls.
func (d *Dev) Halt() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stopTimer()
	d.halted = true
	return d.drive(d.opts.SafeOpen)
}

func (d *Dev) stopTimer() {
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
}

func (d *Dev) drive(on bool) error {
	l := gpio.Level(on != d.opts.ActiveLow)
	if err := d.pin.Out(l); err != nil {
		return fmt.Errorf("relay: %s: %w", d.pin, err)
	}
	return nil
}
