// Package input reads debounced digital inputs through periph.io: a turnstile's
// passage sensor, a request-to-exit button, a fire-alarm loop and its reset key.
//
// Inputs are sampled at a fixed period and a change counts once the new level
// has held for the debounce time. Sampling works the same on every GPIO driver
// (the Raspberry Pi 5's character device included) and needs no edge interrupts.
// A normally-closed, supervised contact is active when it opens, so a cut wire
// raises the alarm too.
package input

import (
	"context"
	"fmt"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// Opts configures a Dev.
type Opts struct {
	// ActiveLow: a closed contact reads low (contact to ground, pull-up).
	ActiveLow bool
	// Pull is the pin's bias.
	Pull gpio.Pull
	// Debounce is how long a new level must hold.
	Debounce time.Duration
	// Period is the sampling period; it defaults to Debounce/4, at least 1 ms.
	Period time.Duration
	// NormallyClosed makes the input active when the contact is open.
	NormallyClosed bool
}

// DefaultOpts is an active-low contact with a pull-up and 30 ms debounce.
var DefaultOpts = Opts{ActiveLow: true, Pull: gpio.PullUp, Debounce: 30 * time.Millisecond}

// Dev is one debounced input.
type Dev struct {
	pin  gpio.PinIn
	opts Opts
}

// New configures pin as an input.
func New(pin gpio.PinIn, o *Opts) (*Dev, error) {
	if o == nil {
		o = &DefaultOpts
	}
	opts := *o
	if opts.Debounce <= 0 {
		return nil, fmt.Errorf("input: %s: debounce %v must be positive", pin, opts.Debounce)
	}
	if opts.Period <= 0 {
		opts.Period = max(opts.Debounce/4, time.Millisecond)
	}
	if err := pin.In(opts.Pull, gpio.NoEdge); err != nil {
		return nil, fmt.Errorf("input: %s: %w", pin, err)
	}
	return &Dev{pin: pin, opts: opts}, nil
}

// String names the input's pin.
func (d *Dev) String() string { return "input(" + d.pin.String() + ")" }

// Active reads the input once, without debouncing.
func (d *Dev) Active() bool {
	closed := d.pin.Read() == gpio.Level(!d.opts.ActiveLow)
	return closed != d.opts.NormallyClosed
}

// Watch samples the input until ctx ends and calls fn with every debounced
// change, first with the state found at start once it has held for the
// debounce time. fn is called from Watch's goroutine.
func (d *Dev) Watch(ctx context.Context, fn func(active bool)) {
	t := time.NewTicker(d.opts.Period)
	defer t.Stop()
	stable := d.Active()
	reported := false
	candidate, since := stable, time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			cur := d.Active()
			if cur != candidate {
				candidate, since = cur, now
				continue
			}
			if now.Sub(since) < d.opts.Debounce {
				continue
			}
			if candidate != stable || !reported {
				stable, reported = candidate, true
				fn(stable)
			}
		}
	}
}
