package tower

import (
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

// rig is a tower on four gpiotest pins.
type rig struct {
	pins [4]*gpiotest.Pin
	dev  *Dev
}

func newRig(t *testing.T, mutate func(*Opts)) *rig {
	t.Helper()
	r := &rig{}
	for i, name := range []string{"GPIO5", "GPIO6", "GPIO13", "GPIO19"} {
		// Start high: New must drive every output to its off level.
		r.pins[i] = &gpiotest.Pin{N: name, Num: i, L: gpio.High}
	}
	o := DefaultOpts
	o.Green, o.Red, o.Amber, o.Buzzer = Output{Pin: r.pins[0]}, Output{Pin: r.pins[1]}, Output{Pin: r.pins[2]}, Output{Pin: r.pins[3]}
	if mutate != nil {
		mutate(&o)
	}
	d, err := New(&o)
	if err != nil {
		t.Fatal(err)
	}
	r.dev = d
	return r
}

// levels is "GRAB" with each letter upper case when that output is
// electrically high (G green, R red, A amber, B buzzer).
func (r *rig) levels() string {
	b := []byte("grab")
	for i, p := range r.pins {
		if p.Read() == gpio.High {
			b[i] -= 'a' - 'A'
		}
	}
	return string(b)
}

// timeline samples the outputs just after each of the offsets from now.
func (r *rig) timeline(offsets ...time.Duration) []string {
	start := time.Now()
	var out []string
	for _, off := range offsets {
		time.Sleep(time.Until(start.Add(off))) // fake clock (synctest)
		synctest.Wait()
		out = append(out, r.levels())
	}
	return out
}

const ms = time.Millisecond

// Samples at 0, in the first beep's gap, in the second beep, after the
// beeps, after one blink half period and after two (DefaultOpts: 120 ms
// beeps, 500 ms blink).
var samples = []time.Duration{0, 130 * ms, 250 * ms, 800 * ms, 1300 * ms, 1800 * ms}

func TestPatterns(t *testing.T) {
	tests := []struct {
		p    Pattern
		want []string
	}{
		{Off, []string{"grab", "grab", "grab", "grab", "grab", "grab"}},
		{Checking, []string{"grAb", "grAb", "grAb", "grAb", "grAb", "grAb"}},
		{Admitted, []string{"GraB", "Grab", "Grab", "Grab", "Grab", "Grab"}},
		{Denied, []string{"gRaB", "gRab", "gRaB", "gRab", "gRab", "gRab"}},
		// Three beeps (720 ms) with the amber lit, then amber blinking.
		{Fever, []string{"gRAB", "gRAb", "gRAB", "gRAb", "gRab", "gRAb"}},
		// Red and amber blink together with the buzzer pulsing.
		{Alarm, []string{"gRAB", "gRAB", "gRAB", "grab", "gRAB", "grab"}},
		{Remeasure, []string{"grAb", "grAb", "grAb", "grab", "grAb", "grab"}},
		{Open, []string{"Grab", "Grab", "Grab", "Grab", "Grab", "Grab"}},
		{Locked, []string{"gRab", "gRab", "gRab", "gRab", "gRab", "gRab"}},
		{Maintenance, []string{"gRAb", "gRAb", "gRAb", "gRAb", "gRAb", "gRAb"}},
	}
	for _, tt := range tests {
		t.Run(tt.p.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newRig(t, nil)
				if err := r.dev.Show(tt.p); err != nil {
					t.Fatal(err)
				}
				got := r.timeline(samples...)
				if strings.Join(got, " ") != strings.Join(tt.want, " ") {
					t.Errorf("%s:\n got %q\nwant %q", tt.p, got, tt.want)
				}
				if err := r.dev.Halt(); err != nil {
					t.Fatal(err)
				}
				if got := r.levels(); got != "grab" {
					t.Errorf("after Halt: %s, want everything off", got)
				}
			})
		})
	}
}

// TestSequence follows a lane through admitted, denied, fever and a fire
// alarm, and ends in the safe state on shutdown even mid-alarm: no timer
// turns a light or the buzzer back on after Halt.
func TestSequence(t *testing.T) {
	for _, tt := range []struct {
		name    string
		safeRed bool
		activeL bool
		safe    string
	}{
		{"safe off", false, false, "grab"},
		{"safe red", true, false, "gRab"},
		{"active low, safe off", false, true, "grab"}, // inverted below: electrically high = off
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newRig(t, func(o *Opts) {
					o.SafeRed = tt.safeRed
					for _, out := range []*Output{&o.Green, &o.Red, &o.Amber, &o.Buzzer} {
						out.ActiveLow = tt.activeL
					}
				})
				inv := func(s string) string {
					if !tt.activeL {
						return s
					}
					b := []byte(s)
					for i := range b {
						b[i] ^= 'a' - 'A'
					}
					return string(b)
				}
				if got := r.levels(); got != inv("grab") {
					t.Fatalf("after New: %s", got)
				}
				for _, step := range []struct {
					p    Pattern
					want string // at once
				}{{Admitted, "GraB"}, {Off, "grab"}, {Denied, "gRaB"}, {Fever, "gRAB"}, {Alarm, "gRAB"}} {
					if err := r.dev.Show(step.p); err != nil {
						t.Fatal(err)
					}
					if got := r.levels(); got != inv(step.want) {
						t.Errorf("%s: %s, want %s", step.p, got, inv(step.want))
					}
					time.Sleep(300 * ms)
				}
				if err := r.dev.Halt(); err != nil {
					t.Fatal(err)
				}
				for _, got := range r.timeline(0, 600*ms, 1200*ms, 5*time.Second) {
					if got != inv(tt.safe) {
						t.Fatalf("after Halt: %s, want the safe state %s", got, inv(tt.safe))
					}
				}
				if err := r.dev.Show(Admitted); err == nil {
					t.Error("Show after Halt succeeded")
				}
			})
		})
	}
}

// TestSilent: with a display the buzzer stays quiet, except for the alarm.
func TestSilent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, func(o *Opts) { o.Silent = true })
		for _, p := range []Pattern{Admitted, Denied, Fever} {
			_ = r.dev.Show(p)
			for _, got := range r.timeline(samples...) {
				if got[3] == 'B' {
					t.Errorf("%s: buzzer on while silent", p)
				}
			}
		}
		_ = r.dev.Show(Alarm)
		if got := r.levels(); got[3] != 'B' {
			t.Errorf("alarm: %s, buzzer silent", got)
		}
		_ = r.dev.Halt()
	})
}

func TestNew(t *testing.T) {
	p := &gpiotest.Pin{N: "GPIO5"}
	tests := []struct {
		name string
		o    Opts
		want string
	}{
		{"no pins", DefaultOpts, "no output pin"},
		{"fast blink", Opts{Blink: 50 * ms, Beep: 100 * ms, Red: Output{Pin: p}}, "blink 50ms is outside"},
		{"long beep", Opts{Blink: 500 * ms, Beep: time.Second, Red: Output{Pin: p}}, "beep 1s is outside"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(&tt.o); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	// Only some outputs wired: the others are skipped.
	o := DefaultOpts
	o.Red = Output{Pin: p}
	d, err := New(&o)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Show(Fever); err != nil {
		t.Fatal(err)
	}
	if p.Read() != gpio.High {
		t.Error("red not lit")
	}
	if s := d.String(); s != "tower(red=GPIO5(0))" && !strings.Contains(s, "red=GPIO5") {
		t.Errorf("String = %q", s)
	}
	_ = d.Halt()
}

// failPin fails every Out.
type failPin struct{ gpiotest.Pin }

func (p *failPin) Out(gpio.Level) error { return errors.New("gpio write refused") }

func TestOutputError(t *testing.T) {
	o := DefaultOpts
	o.Green = Output{Pin: &failPin{gpiotest.Pin{N: "GPIO5"}}}
	if _, err := New(&o); err == nil || !strings.Contains(err.Error(), "gpio write refused") {
		t.Fatalf("New: %v", err)
	}
}
