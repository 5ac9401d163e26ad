package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/device/thermal"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/vision"
)

func cmdRun(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	path := fs.String("c", "/etc/gateguard/gateguard.yaml", "config file")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{"run: unexpected arguments"}
	}
	cfg, err := configs.Load(*path)
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log)
	log.Info("starting", "version", version, "site", cfg.Site, "gate", cfg.Gate, "config", cfg.Hash[:12])
	wd, err := newWatchdog(log)
	if err != nil {
		return err
	}
	var p parts
	if cfg.Metrics.Listen != "" {
		p.metrics = newGateMetrics(cfg)
	}
	d, err := build(cfg, log, p)
	if err != nil {
		return err
	}
	if p.metrics != nil {
		srv, err := serveMetrics(cfg.Metrics.Listen, p.metrics, log)
		if err != nil {
			d.close()
			return err
		}
		d.services = append(d.services, srv)
	}
	wd.plug(d) // systemd: READY once the gate decides, watchdog while its loops live
	// A durable outbox keeps what is not yet published across the restart;
	// an in-memory one gets a few seconds to publish it before the process
	// ends (the systemd unit allows 15 s to stop).
	var drain time.Duration
	if cfg.MQTT.Enabled && cfg.Outbox.Path == "" {
		drain = 5 * time.Second
	}
	return d.run(ctx, drain)
}

// run starts every goroutine and, after ctx ends, stops them in order: the
// device loops and services first, then the decision loop (which finishes
// its attempt and records it), then — after drain, when set, bounds a wait
// for the outbox to empty — the publisher. When all have returned it halts
// the relay in its safe state and closes what build opened.
func (d *daemon) run(ctx context.Context, drain time.Duration) error {
	devs := newGroup(ctx, d.log)                           // stopped as ctx ends
	decide := newGroup(context.WithoutCancel(ctx), d.log)  // stopped after the devices
	publish := newGroup(context.WithoutCancel(ctx), d.log) // stopped last
	decide.Go("controller", d.ctrl.Run)
	if d.pub != nil {
		publish.Go("publisher", d.pub.Run)
	}
	d.start(devs)

	<-ctx.Done()
	d.log.Info("shutting down")
	devs.stop()
	decide.stop()
	decide.wait()
	if d.pub != nil && drain > 0 {
		d.drain(drain)
	}
	publish.stop()
	devs.wait()
	publish.wait()
	err := d.dev.relay.Halt()
	d.close()
	if err != nil {
		return fmt.Errorf("halt relay: %w", err)
	}
	d.log.Info("stopped; relay in its safe state", "safe_state", d.cfg.GPIO.Relay.SafeState)
	return nil
}

// start starts the loops that feed the controller — the camera, the thermal
// camera, each input, the outbox's health, remote commands — and the
// services plugged in through parts, all in g.
func (d *daemon) start(g *group) {
	d.remote.start(g)
	if w, ok := d.outbox.(outboxHealth); ok {
		g.Go("outbox health", func(ctx context.Context) error { watchOutbox(ctx, w, d.ctrl, d.log); return nil })
	}
	g.Go("camera", func(ctx context.Context) error { d.scanner.Run(ctx, d.observe); return nil })
	g.Go("thermal", func(ctx context.Context) error {
		sink := d.ctrl.Thermal
		if d.metrics != nil {
			sink = d.metrics.thermalSink(sink)
		}
		thermal.Run(ctx, d.dev.thermal, thermalRunOpts(ctx, d.ctrl, d.meter), sink)
		return nil
	})
	for kind, in := range d.dev.inputs {
		g.Go("input "+kind.String(), func(ctx context.Context) error {
			in.Watch(ctx, func(active bool) { d.ctrl.Input(ctx, gate.InputEvent{Kind: kind, Active: active}) })
			return nil
		})
	}
	for _, s := range d.services {
		g.Go(s.name, s.run)
	}
}

// observe hands a camera observation to the controller and the onFrame
// observers.
func (d *daemon) observe(o vision.Observation) {
	d.ctrl.Observe(o)
	for _, fn := range d.onFrame {
		fn(o)
	}
}

// drain waits up to limit for the outbox to empty before the publisher stops.
func (d *daemon) drain(limit time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	if err := d.outbox.WaitEmpty(ctx); err != nil {
		d.log.Warn("outbox not drained before exit", "depth", d.outbox.Depth())
	}
}
