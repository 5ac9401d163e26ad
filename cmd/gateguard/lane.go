package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/device/sim"
	"github.com/gateguard/gateguard/device/tower"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/display"
	"github.com/gateguard/gateguard/gate/lane"
)

// laneParts are what faces the people at the lane: the lane state stream
// and what follows it, the display and the tower. All are nil when the
// config enables neither.
type laneParts struct {
	stream    *lane.Stream
	display   *display.Server
	displayLn net.Listener
	tower     *tower.Dev
}

// observer is the controller's lane observer: the stream, or none.
func (l *laneParts) observer() gate.LaneObserver {
	if l.stream == nil {
		return nil // not a typed nil: the controller checks for none
	}
	return l.stream
}

// buildLane wires display.* and tower.* (after buildGPIO: the tower's pins
// come from the same driver as the relay's).
func (d *daemon) buildLane() error {
	dc, tc := d.cfg.Display, d.cfg.Tower
	if !dc.Enabled && !tc.Enabled {
		return nil
	}
	d.lane.stream = lane.New(lane.Options{Hold: dc.Hold, Log: d.log})
	if dc.Enabled {
		var mute []lane.Kind
		for _, k := range dc.Sound.Mute {
			mute = append(mute, lane.Kind(k))
		}
		s, err := display.New(d.lane.stream, display.Options{
			Language: dc.Language, Lane: d.cfg.Gate,
			Privacy: display.Privacy{HideNames: dc.Privacy.HideNames, HideTemperatures: dc.Privacy.HideTemperatures},
			Sound:   display.Sound{Enabled: dc.Sound.Enabled, Speech: dc.Sound.Speech, Mute: mute},
			Log:     d.log,
		})
		if err != nil {
			return fmt.Errorf("display: %w", err)
		}
		ln, err := net.Listen("tcp", dc.Listen)
		if err != nil {
			return fmt.Errorf("display.listen: %w", err)
		}
		d.closers = append(d.closers, func() error { _ = ln.Close(); return nil })
		d.lane.display, d.lane.displayLn = s, ln
	}
	if tc.Enabled {
		return d.buildTower(dc.Enabled && dc.Sound.Enabled)
	}
	return nil
}

// buildTower wires the tower's outputs; displaySound says whether the page
// plays the prompts, which makes the buzzer's beeps a fallback only.
func (d *daemon) buildTower(displaySound bool) error {
	tc := d.cfg.Tower
	o := &tower.Opts{Blink: tc.Blink, Beep: tc.Beep, SafeRed: tc.SafeState == "red",
		Silent: tc.BuzzerMode == "off" || (tc.BuzzerMode == "fallback" && displaySound)}
	for key, out := range map[string]*tower.Output{"tower.green": &o.Green, "tower.red": &o.Red, "tower.amber": &o.Amber, "tower.buzzer": &o.Buzzer} {
		c := tc.Outputs()[key]
		if c == nil || (key == "tower.buzzer" && tc.BuzzerMode == "off") {
			continue
		}
		pin, err := d.outputPin(key+".pin", c.Pin, gpio.Level(c.ActiveLow))
		if err != nil {
			return err
		}
		*out = tower.Output{Pin: pin, ActiveLow: c.ActiveLow}
	}
	t, err := tower.New(o)
	if err != nil {
		return fmt.Errorf("tower: %w", err)
	}
	d.lane.tower = t
	return nil
}

// outputPin finds an output pin through the configured GPIO driver.
func (d *daemon) outputPin(key, name string, off gpio.Level) (gpio.PinOut, error) {
	if d.cfg.GPIO.Driver == "simulated" {
		p := sim.NewPin(name, len(d.simPins), off)
		d.simPins[name] = p
		return p, nil
	}
	p := gpioreg.ByName(name) // host.Init ran in buildGPIO
	if p == nil {
		return nil, fmt.Errorf("%s: pin %q not found on this machine", key, name)
	}
	return p, nil
}

// startLane starts the stream (until laneCtx ends: it must see the
// controller's last signals), the tower that follows it and the display
// (until devCtx ends).
func (d *daemon) startLane(wg *sync.WaitGroup, laneCtx, devCtx context.Context) {
	l := d.lane
	if l.stream == nil {
		return
	}
	wg.Go(func() { l.stream.Run(laneCtx) })
	if l.tower != nil {
		wg.Go(func() { lane.DriveTower(laneCtx, l.stream, l.tower, d.log) })
	}
	if l.display != nil {
		wg.Go(func() {
			if err := l.display.Run(devCtx, l.displayLn); err != nil {
				d.log.Error("lane display stopped", "err", err)
			}
		})
	}
}

// haltTower leaves the tower in its safe state.
func (d *daemon) haltTower() {
	if d.lane.tower == nil {
		return
	}
	if err := d.lane.tower.Halt(); err != nil {
		d.log.Warn("halt tower", "err", err)
	}
}

// simLaneFlags are simulate's lane display options, for watching a
// scenario on the lane page (and for make test-display).
type simLaneFlags struct {
	display  *string
	language *string
	wait     *time.Duration
	pace     *time.Duration
}

func laneFlags(fs *flag.FlagSet) *simLaneFlags {
	return &simLaneFlags{
		display:  fs.String("display", "", "serve the lane display on this host:port (overrides display.enabled and display.listen)"),
		language: fs.String("language", "", "the display's language (overrides display.language)"),
		wait:     fs.Duration("wait-display", 0, "wait up to this long for a browser to open the lane display before playing"),
		pace:     fs.Duration("pace", 0, "pause after each step, to follow the scenario on the display"),
	}
}

// apply sets the flags' overrides on cfg.
func (f *simLaneFlags) apply(cfg *configs.Config) {
	if *f.display != "" {
		cfg.Display.Enabled, cfg.Display.Listen = true, *f.display
	}
	if *f.language != "" {
		cfg.Display.Language = *f.language
	}
}

// waitBrowser prints the display's address and, with -wait-display, waits
// for a page to connect.
func (f *simLaneFlags) waitBrowser(ctx context.Context, d *daemon) error {
	s := d.lane.display
	if s == nil {
		return nil
	}
	fmt.Printf("display: http://%s/\n", d.lane.displayLn.Addr())
	if *f.wait <= 0 {
		return nil
	}
	t := time.NewTimer(*f.wait)
	defer t.Stop()
	select {
	case <-s.Connected():
		return nil
	case <-t.C:
		return fmt.Errorf("simulate: no browser opened the lane display within %v", *f.wait)
	case <-ctx.Done():
		return ctx.Err()
	}
}
