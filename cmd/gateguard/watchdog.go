package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/gateguard/gateguard/systemd"
	"github.com/gateguard/gateguard/vision"
)

// watchdog tells systemd (Type=notify) when the gate can decide (READY=1,
// once the decision loop answers a ping) and, with WatchdogSec set, pings
// the watchdog only while the decision loop and the camera loop are both
// alive: the decision loop proves it by answering Controller.Ping, the
// camera loop by handing over a frame or a read error (the scanner does so
// at least every 5 s, its longest retry wait). A hung loop stops the pings,
// and systemd restarts the daemon. Not started by systemd, it does nothing.
type watchdog struct {
	notify *systemd.Notifier
	log    *slog.Logger
	// timeout is the watchdog timeout (WATCHDOG_USEC); 0 without one.
	timeout time.Duration
	sup     *systemd.Supervisor
	camera  *systemd.Heartbeat
}

// newWatchdog returns the daemon's watchdog, or nil when NOTIFY_SOCKET is
// not set.
func newWatchdog(log *slog.Logger) (*watchdog, error) {
	n := systemd.NotifierFromEnv()
	if n == nil {
		return nil, nil
	}
	w := &watchdog{notify: n, log: log}
	t, err := systemd.WatchdogInterval()
	switch {
	case errors.Is(err, systemd.ErrNoWatchdog):
		return w, nil
	case err != nil:
		return nil, err
	}
	w.timeout = t
	w.sup = &systemd.Supervisor{Notify: n.Notify, Interval: t / 4, MaxAge: t / 2, Log: log}
	w.camera = w.sup.Heartbeat("camera")
	return w, nil
}

// plug adds the watchdog to a built daemon: a frame observer for the
// camera loop's heartbeat, and a service that announces readiness and
// supervises the loops.
func (w *watchdog) plug(d *daemon) {
	if w == nil {
		return
	}
	if w.camera != nil {
		d.onFrame = append(d.onFrame, func(vision.Observation) { w.camera.Beat() })
	}
	d.services = append(d.services, service{name: "systemd watchdog", run: func(ctx context.Context) error {
		return w.run(ctx, d.ctrl)
	}})
}

// run waits for the decision loop to answer, sends READY=1, supervises the
// loops until ctx ends, then sends STOPPING=1.
func (w *watchdog) run(ctx context.Context, ctrl systemd.Pinger) error {
	defer w.notify.Close()
	for {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := ctrl.Ping(pctx)
		cancel()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		w.log.Warn("decision loop not answering yet; not ready", "err", err)
	}
	if err := w.notify.Notify("READY=1\nSTATUS=deciding"); err != nil {
		w.log.Warn("systemd notify", "err", err)
	}
	w.log.Info("ready", "watchdog", w.timeout)
	if w.sup != nil {
		decision := w.sup.Heartbeat("decision")
		w.camera.Beat() // its age counts from now, not from build
		sub, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			systemd.PingLoop(sub, ctrl, decision, w.timeout/8, w.timeout/8)
		}()
		w.sup.Run(ctx)
		stop()
		<-done
	} else {
		<-ctx.Done()
	}
	_ = w.notify.Notify("STOPPING=1")
	return nil
}
