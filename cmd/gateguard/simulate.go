package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/scenario"
)

func cmdSimulate(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	path := fs.String("c", "configs/demo.yaml", "config file (simulated gpio, camera and thermal)")
	lf := laneFlags(fs)
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() != 1 {
		return usageError{"simulate: want -c FILE SCENARIO"}
	}
	cfg, err := configs.Load(*path)
	if err != nil {
		return err
	}
	if cfg.GPIO.Driver != "simulated" || cfg.Camera.Source != "simulated" || cfg.Thermal.Sensor != "simulated" {
		return errors.New("simulate: the config must set gpio.driver, camera.source and thermal.sensor to simulated")
	}
	sc, err := scenario.Load(fs.Arg(0))
	if err != nil {
		return err
	}
	lf.apply(cfg)
	log := newLogger(cfg.Log)
	events := make(chan gate.Event, 4096)
	sims := &simHardware{}
	d, err := build(cfg, log, parts{sim: sims, onRecord: []func(gate.Message){accessEvents(events, log)}})
	if err != nil {
		return err
	}
	w, err := newWorld(cfg, sims)
	if err != nil {
		d.close()
		return err
	}
	w.faces = d.faces
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- d.run(runCtx, 10*time.Second) }()

	if err := lf.waitBrowser(runCtx, d); err != nil {
		stop()
		return errors.Join(err, <-done)
	}
	r := &scenario.Runner{World: w, Events: events, Log: log, Pause: *lf.pace}
	results, serr := r.Run(runCtx, sc)
	stop()
	derr := <-done
	passed := 0
	for _, res := range results {
		if res.Mismatch == "" {
			passed++
		}
	}
	fmt.Printf("scenario %q: %d passed, %d failed\n", sc.Name, passed, len(results)-passed)
	return errors.Join(serr, derr)
}

// accessEvents returns an observer that sends every recorded access event
// to events without blocking: a simulator that falls behind is logged.
func accessEvents(events chan<- gate.Event, log *slog.Logger) func(gate.Message) {
	return func(m gate.Message) {
		if m.Topic != gate.TopicAccess {
			return
		}
		var ev gate.Event
		if json.Unmarshal(m.Payload, &ev) == nil {
			select {
			case events <- ev:
			default:
				log.Warn("simulator fell behind the gate's events")
			}
		}
	}
}
