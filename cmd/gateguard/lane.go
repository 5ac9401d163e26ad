package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/device/tower"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/display"
	"github.com/gateguard/gateguard/gate/lane"
)

// laneParts are what faces the people at the lane: the lane state stream
// and what follows it, the display and the tower. The stream is nil when
// the config enables neither.
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

// newLane builds display.* and tower.*: the stream, the display's server
// and listener, the tower on its pins (through the gpio driver, like the
// relay). The tower is halted to its safe state, and the listener closed,
// by cl.
func newLane(cfg *configs.Config, log *slog.Logger, s *simHardware, cl *closers) (*laneParts, error) {
	l := &laneParts{}
	dc, tc := cfg.Display, cfg.Tower
	if !dc.Enabled && !tc.Enabled {
		return l, nil
	}
	l.stream = lane.New(lane.Options{Hold: dc.Hold, Log: log})
	if dc.Enabled {
		var mute []lane.Kind
		for _, k := range dc.Sound.Mute {
			mute = append(mute, lane.Kind(k))
		}
		srv, err := display.New(l.stream, display.Options{
			Language: dc.Language, Lane: cfg.Gate,
			Privacy: display.Privacy{HideNames: dc.Privacy.HideNames, HideTemperatures: dc.Privacy.HideTemperatures},
			Sound:   display.Sound{Enabled: dc.Sound.Enabled, Speech: dc.Sound.Speech, Mute: mute},
			Log:     log,
		})
		if err != nil {
			return nil, fmt.Errorf("display.language: %w", err)
		}
		ln, err := net.Listen("tcp", dc.Listen)
		if err != nil {
			return nil, fmt.Errorf("display.listen: %w", err)
		}
		cl.add(func() error { _ = ln.Close(); return nil }) // Run closes it first
		l.display, l.displayLn = srv, ln
	}
	if tc.Enabled {
		pins, err := pinsFor(cfg.GPIO, s)
		if err != nil {
			return nil, err
		}
		if l.tower, err = openTower(tc, pins, dc.Enabled && dc.Sound.Enabled); err != nil {
			return nil, err
		}
		cl.add(l.tower.Halt)
	}
	return l, nil
}

// openTower opens the tower's outputs; displaySound says whether the page
// plays the prompts, which makes the buzzer's beeps a fallback only.
func openTower(tc configs.Tower, pins pinFunc, displaySound bool) (*tower.Dev, error) {
	o := &tower.Opts{Blink: tc.Blink, Beep: tc.Beep, SafeRed: tc.SafeState == "red",
		Silent: tc.BuzzerMode == "off" || (tc.BuzzerMode == "fallback" && displaySound)}
	outs := tc.Outputs()
	for _, w := range []struct {
		key string
		out *tower.Output
	}{{"tower.green", &o.Green}, {"tower.red", &o.Red}, {"tower.amber", &o.Amber}, {"tower.buzzer", &o.Buzzer}} {
		c := outs[w.key]
		if c == nil || (w.key == "tower.buzzer" && tc.BuzzerMode == "off") {
			continue
		}
		pin, err := pins(w.key+".pin", c.Pin, gpio.Level(c.ActiveLow)) // rests off
		if err != nil {
			return nil, err
		}
		*w.out = tower.Output{Pin: pin, ActiveLow: c.ActiveLow}
	}
	t, err := tower.New(o)
	if err != nil {
		return nil, fmt.Errorf("tower: %w", err)
	}
	return t, nil
}

// services are the lane's goroutines: the stream, the tower that follows
// it and the display's server; run stops them with the device loops.
func (l *laneParts) services(log *slog.Logger) []service {
	if l.stream == nil {
		return nil
	}
	svcs := []service{{"lane stream", func(ctx context.Context) error { l.stream.Run(ctx); return nil }}}
	if l.tower != nil {
		svcs = append(svcs, service{"tower", func(ctx context.Context) error {
			lane.DriveTower(ctx, l.stream, l.tower, log)
			return nil
		}})
	}
	if l.display != nil {
		svcs = append(svcs, service{"lane display", func(ctx context.Context) error {
			return l.display.Run(ctx, l.displayLn)
		}})
	}
	return svcs
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
