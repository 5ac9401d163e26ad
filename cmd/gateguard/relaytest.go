package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/device/input"
	"github.com/gateguard/gateguard/device/relay"
	"github.com/gateguard/gateguard/device/sim"
)

// cmdRelayTest pulses the relay n times and reports, for each pulse, what
// the passage input saw: when it went active and for how long. With a
// simulated GPIO driver a simulated turnstile answers each pulse with one
// passage. It fails when the passage input saw fewer passages than pulses.
func cmdRelayTest(ctx context.Context, args []string, w io.Writer) error {
	fs := flag.NewFlagSet("relay-test", flag.ContinueOnError)
	path := fs.String("c", "/etc/gateguard/gateguard.yaml", "config file")
	n := fs.Int("n", 3, "pulses")
	wait := fs.Duration("wait", 5*time.Second, "how long to wait for a passage after each pulse")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 || *n <= 0 || *wait <= 0 {
		return usageError{"relay-test: want -c FILE [-n N>0] [-wait D>0]"}
	}
	cfg, err := configs.Load(*path)
	if err != nil {
		return err
	}
	rig, err := openRelayRig(cfg.GPIO)
	if err != nil {
		return fmt.Errorf("relay-test: %w", err)
	}
	defer rig.relay.Halt()
	return rig.run(ctx, w, *n, *wait)
}

// relayRig is the relay and the passage input relay-test drives.
type relayRig struct {
	g       configs.GPIO
	pc      *configs.Input
	relay   *relay.Dev
	rpin    gpio.PinIO
	ppin    gpio.PinIO
	passage *input.Dev
}

// openRelayRig claims the relay and the passage input.
func openRelayRig(g configs.GPIO) (*relayRig, error) {
	r := &relayRig{g: g, pc: g.Input("passage")}
	if r.pc == nil {
		return nil, errors.New("gpio.passage is not configured: nothing can see a passage")
	}
	byName, err := pinFinder(g.Driver)
	if err != nil {
		return nil, err
	}
	if r.rpin, err = byName("gpio.relay.pin", g.Relay.Pin, gpio.Low); err != nil {
		return nil, err
	}
	if r.relay, err = relay.New(r.rpin, relayOpts(g.Relay)); err != nil {
		return nil, fmt.Errorf("gpio.relay: %w", err)
	}
	if r.ppin, err = byName("gpio.passage.pin", r.pc.Pin, inputRest(r.pc)); err == nil {
		r.passage, err = input.New(r.ppin, inputOpts(r.pc))
	}
	if err != nil {
		_ = r.relay.Halt()
		return nil, fmt.Errorf("gpio.passage: %w", err)
	}
	return r, nil
}

// run watches the passage input (and, on simulated GPIO, runs the
// simulated turnstile), pulses n times and reports.
func (r *relayRig) run(ctx context.Context, w io.Writer, n int, wait time.Duration) error {
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop()
	if sr, ok := r.rpin.(*sim.Pin); ok {
		sp := r.ppin.(*sim.Pin)
		sp.Set(inputRest(r.pc))
		levels := make(chan gpio.Level, 16)
		sr.Notify(levels)
		wg.Go(func() { simTurnstile(runCtx, levels, gpio.Level(!r.g.Relay.ActiveLow), sp, inputRest(r.pc)) })
	}
	changes := make(chan bool, 64)
	wg.Go(func() {
		r.passage.Watch(runCtx, func(active bool) {
			select {
			case changes <- active:
			case <-runCtx.Done():
			}
		})
	})
	// Watch reports the state found at start first.
	select {
	case a := <-changes:
		fmt.Fprintf(w, "relay-test: relay %s, passage %s reads %s at start\n", r.g.Relay.Pin, r.pc.Pin, activeWord(a))
	case <-time.After(time.Second + r.pc.Debounce):
		return errors.New("relay-test: the passage input gave no reading")
	case <-ctx.Done():
		return ctx.Err()
	}
	seen := 0
	for i := 1; i <= n; i++ {
		ok, err := pulseOnce(ctx, w, r.relay, changes, i, n, wait)
		if err != nil {
			return err
		}
		if ok {
			seen++
		}
	}
	fmt.Fprintf(w, "relay-test: %d pulses, passage seen after %d\n", n, seen)
	if seen < n {
		return fmt.Errorf("relay-test: the passage input saw %d passages for %d pulses: check that the turnstile "+
			"unlocks on the relay (its dry-contact input, gpio.relay.active_low, pulse length), that someone passes "+
			"on each pulse, and the PASS output's wiring to %s and GND", seen, n, r.pc.Pin)
	}
	return nil
}

// pulseOnce releases the relay and waits for the passage input to go
// active and back to rest; it reports whether a passage was seen.
func pulseOnce(ctx context.Context, w io.Writer, r *relay.Dev, changes <-chan bool, i, n int, wait time.Duration) (bool, error) {
	for len(changes) > 0 {
		<-changes
	}
	start := time.Now()
	if err := r.Release(); err != nil {
		return false, fmt.Errorf("relay-test: pulse %d: %w", i, err)
	}
	timeout := time.NewTimer(wait)
	defer timeout.Stop()
	var activeAt time.Time
	for {
		select {
		case a := <-changes:
			switch {
			case a && activeAt.IsZero():
				activeAt = time.Now()
			case !a && !activeAt.IsZero():
				fmt.Fprintf(w, "pulse %d/%d: passage active %v after the pulse, for %v\n", i, n,
					activeAt.Sub(start).Round(time.Millisecond), time.Since(activeAt).Round(time.Millisecond))
				return true, nil
			}
		case <-timeout.C:
			if !activeAt.IsZero() {
				fmt.Fprintf(w, "pulse %d/%d: passage active %v after the pulse and still active after %v\n", i, n,
					activeAt.Sub(start).Round(time.Millisecond), wait)
				return true, nil
			}
			fmt.Fprintf(w, "pulse %d/%d: no passage within %v\n", i, n, wait)
			return false, nil
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
}

// simTurnstile is a simulated turnstile with someone waiting: each time the
// relay pin is driven to its active level, a person passes a moment later
// and the passage contact closes for a moment.
func simTurnstile(ctx context.Context, relayLevels <-chan gpio.Level, active gpio.Level, passage *sim.Pin, rest gpio.Level) {
	const (
		walk = 150 * time.Millisecond // from unlock to the passage contact
		pass = 250 * time.Millisecond // the contact stays closed this long
	)
	for {
		select {
		case <-ctx.Done():
			return
		case l := <-relayLevels:
			if l != active {
				continue
			}
		}
		for _, step := range []struct {
			after time.Duration
			level gpio.Level
		}{{walk, !rest}, {pass, rest}} {
			t := time.NewTimer(step.after)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			passage.Set(step.level)
		}
	}
}
