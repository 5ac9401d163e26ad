// Package tower drives a lane's signal tower through periph.io GPIO outputs:
// green, red and amber lights and a buzzer, each on its own output pin
// (active high or low), showing one Pattern at a time.
//
// A pattern sets each light steady on, off or blinking, and may sound the
// buzzer a number of short beeps or keep it pulsing (an alarm). Timing uses
// time.AfterFunc, like device/relay: the driver has no goroutine of its own.
// Halt stops every timer and leaves the tower in its safe state (everything
// off, or the red light on, as configured); the buzzer is always silent.
//
// gate/lane maps the lane state stream onto patterns; this package knows
// nothing of the gate.
package tower

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// Pattern is what the tower shows.
type Pattern int

// Patterns, one per kind of lane state.
const (
	Off         Pattern = iota // nothing lit: idle
	Checking                   // amber steady: a code was seen, checking
	Remeasure                  // amber blinking: step closer, face the camera, wait
	Admitted                   // green steady, one short beep
	Denied                     // red steady, two short beeps
	Fever                      // red steady and amber blinking, three short beeps
	Alarm                      // red and amber blinking, buzzer pulsing: fire alarm
	Open                       // green steady: the lane is held open (exit, free mode)
	Locked                     // red steady: nobody is admitted
	Maintenance                // amber steady and red steady: out of service
)

var patternNames = [...]string{"off", "checking", "remeasure", "admitted", "denied", "fever", "alarm", "open", "locked", "maintenance"}

// String names the pattern.
func (p Pattern) String() string {
	if p < 0 || int(p) >= len(patternNames) {
		return fmt.Sprintf("pattern(%d)", int(p))
	}
	return patternNames[p]
}

// light is one light's behaviour in a pattern.
type light int

const (
	dark light = iota
	steady
	blink
)

// look is a pattern's lights and buzzer.
type look struct {
	green, red, amber light
	beeps             int  // short beeps, once
	pulse             bool // buzzer pulsing with the blink until the next pattern
}

var looks = [...]look{
	Off:         {},
	Checking:    {amber: steady},
	Remeasure:   {amber: blink},
	Admitted:    {green: steady, beeps: 1},
	Denied:      {red: steady, beeps: 2},
	Fever:       {red: steady, amber: blink, beeps: 3},
	Alarm:       {red: blink, amber: blink, pulse: true},
	Open:        {green: steady},
	Locked:      {red: steady},
	Maintenance: {red: steady, amber: steady},
}

// Output is one output pin and its polarity.
type Output struct {
	Pin gpio.PinOut
	// ActiveLow lights the lamp (sounds the buzzer) with a low level.
	ActiveLow bool
}

// Opts configures a Dev. Every output is optional, but at least one must be
// set.
type Opts struct {
	Green, Red, Amber, Buzzer Output
	// Blink is the half period of a blinking light (and of the alarm's
	// buzzer pulse); 100 ms–2 s.
	Blink time.Duration
	// Beep is the length of a short beep and of the gap after it; 50–500 ms.
	Beep time.Duration
	// Silent keeps the buzzer off in every pattern but Alarm: a lane with a
	// display speaks its prompts there, and the buzzer is the fallback.
	Silent bool
	// SafeRed leaves the red light on at Halt; the default is everything off.
	SafeRed bool
}

// DefaultOpts blinks at 1 Hz with 120 ms beeps.
var DefaultOpts = Opts{Blink: 500 * time.Millisecond, Beep: 120 * time.Millisecond}

// Dev is a signal tower. It is safe for concurrent use.
type Dev struct {
	opts Opts
	outs []*Output // green, red, amber, buzzer; nil when not wired

	mu      sync.Mutex // guards the fields below
	pattern Pattern
	gen     uint64 // bumped on every Show and on Halt: stale timers do nothing
	timer   *time.Timer
	phase   bool // blink phase: lit in the first half period
	beeps   int  // beep half-steps left (on, off, on, off …)
	halted  bool
	err     error // the first output error since the last Show
}

const (
	green = iota
	red
	amber
	buzzer
)

// New configures the wired outputs, everything off.
func New(o *Opts) (*Dev, error) {
	if o == nil {
		return nil, errors.New("tower: no options")
	}
	if o.Blink < 100*time.Millisecond || o.Blink > 2*time.Second {
		return nil, fmt.Errorf("tower: blink %v is outside 100ms–2s", o.Blink)
	}
	if o.Beep < 50*time.Millisecond || o.Beep > 500*time.Millisecond {
		return nil, fmt.Errorf("tower: beep %v is outside 50ms–500ms", o.Beep)
	}
	d := &Dev{opts: *o, outs: make([]*Output, 4)}
	wired := false
	for i, out := range []*Output{&d.opts.Green, &d.opts.Red, &d.opts.Amber, &d.opts.Buzzer} {
		if out.Pin != nil {
			d.outs[i], wired = out, true
		}
	}
	if !wired {
		return nil, errors.New("tower: no output pin")
	}
	for i := range d.outs {
		if err := d.drive(i, false); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// String names the tower's pins.
func (d *Dev) String() string {
	s := "tower("
	for i, out := range d.outs {
		if out == nil {
			continue
		}
		if len(s) > len("tower(") {
			s += ","
		}
		s += [...]string{"green", "red", "amber", "buzzer"}[i] + "=" + out.Pin.String()
	}
	return s + ")"
}

// Pattern returns the pattern shown.
func (d *Dev) Pattern() Pattern {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.pattern
}

// Show replaces the pattern shown; showing the same pattern again restarts
// it (its beeps sound again). It returns the first output error.
func (d *Dev) Show(p Pattern) error {
	if p < 0 || int(p) >= len(looks) {
		return fmt.Errorf("tower: unknown pattern %d", int(p))
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.halted {
		return errors.New("tower: halted")
	}
	d.stop()
	d.pattern, d.phase, d.err = p, true, nil
	l := looks[p]
	d.beeps = 0
	if !d.opts.Silent || l.pulse {
		d.beeps = 2 * l.beeps
	}
	d.apply()
	if l.green == blink || l.red == blink || l.amber == blink || l.pulse || d.beeps > 0 {
		d.schedule()
	}
	return d.err
}

// Halt stops the pattern and leaves the tower in its safe state; later
// calls to Show fail.
func (d *Dev) Halt() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stop()
	d.halted = true
	var errs []error
	for i := range d.outs {
		errs = append(errs, d.drive(i, i == red && d.opts.SafeRed))
	}
	return errors.Join(errs...)
}

// stop cancels the pending timer; d.mu is held.
func (d *Dev) stop() {
	d.gen++
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
}

// schedule arms the next step: a beep edge while beeps remain, else a blink
// edge; d.mu is held.
func (d *Dev) schedule() {
	gen := d.gen
	wait := d.opts.Blink
	if d.beeps > 0 {
		wait = d.opts.Beep
	}
	d.timer = time.AfterFunc(wait, func() { d.step(gen, wait) })
}

// step advances the pattern by one timer edge.
func (d *Dev) step(gen uint64, waited time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if gen != d.gen || d.halted {
		return
	}
	l := looks[d.pattern]
	if d.beeps > 0 {
		d.beeps--
	}
	// The blink phase advances by whole half periods; beeps are shorter,
	// so it turns only when their total reaches one.
	d.phase = d.phaseAfter(waited)
	d.apply()
	if d.beeps > 0 || l.green == blink || l.red == blink || l.amber == blink || l.pulse {
		d.schedule()
	}
}

// phaseAfter is the blink phase after waiting w; d.mu is held.
func (d *Dev) phaseAfter(w time.Duration) bool {
	if w == d.opts.Blink {
		return !d.phase
	}
	return d.phase
}

// apply drives every output for the current pattern, phase and beeps;
// d.mu is held.
func (d *Dev) apply() {
	l := looks[d.pattern]
	lit := func(x light) bool { return x == steady || (x == blink && d.phase) }
	d.set(green, lit(l.green))
	d.set(red, lit(l.red))
	d.set(amber, lit(l.amber))
	// Beeps sound on the even half-steps counted down: on, off, on, off.
	buzz := d.beeps > 0 && d.beeps%2 == 0
	if l.pulse && d.beeps == 0 {
		buzz = d.phase
	}
	d.set(buzzer, buzz)
}

// set drives one output, keeping the first error; d.mu is held.
func (d *Dev) set(i int, on bool) {
	if err := d.drive(i, on); err != nil && d.err == nil {
		d.err = err
	}
}

func (d *Dev) drive(i int, on bool) error {
	out := d.outs[i]
	if out == nil {
		return nil
	}
	if err := out.Pin.Out(gpio.Level(on != out.ActiveLow)); err != nil {
		return fmt.Errorf("tower: %s: %w", out.Pin, err)
	}
	return nil
}
