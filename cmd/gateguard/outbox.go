package main

import (
	"context"
	"log/slog"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/mqtt"
	"github.com/gateguard/gateguard/gate/outbox"
	"github.com/gateguard/gateguard/vision/fusion"
)

// eventLog is the outbox the gate records into and the publisher drains:
// outbox.Durable when outbox.path is set, outbox.Memory otherwise.
type eventLog interface {
	gate.Recorder
	mqtt.WindowSource
	WaitEmpty(ctx context.Context) error
}

var (
	_ eventLog             = (*outbox.Durable)(nil)
	_ eventLog             = (*outbox.Memory)(nil)
	_ fusion.SnapshotStore = (*outbox.Durable)(nil)
	_ fusion.SnapshotStore = (*outbox.Memory)(nil)
)

// openOutbox opens the durable outbox the config names (handed to cl, to
// be closed after the publisher has stopped), or makes a memory one.
func openOutbox(cfg *configs.Config, log *slog.Logger, cl *closers) (eventLog, error) {
	c := cfg.Outbox
	if c.Path == "" && !cfg.MQTT.Enabled {
		// Nothing would ever drain a memory outbox: once full it would
		// refuse records and the gate would deny everyone.
		log.Warn("mqtt.enabled is false and outbox.path is empty: events are logged only, not kept")
		return unkeptLog{outbox.NewMemory(c.MaxEvents)}, nil
	}
	if c.Path == "" {
		log.Warn("outbox.path is empty: events are kept in memory and lost if the daemon stops before publishing them")
		return outbox.NewMemory(c.MaxEvents), nil
	}
	ob, err := outbox.Open(c.Path, &outbox.Opts{MaxBytes: c.MaxBytes, MaxEvents: c.MaxEvents})
	if err != nil {
		return nil, err
	}
	cl.add(ob.Close)
	st := ob.Stats()
	log.Info("outbox opened", "path", c.Path, "depth", st.Depth, "last_seq", st.LastSeq,
		"used_mib", st.LiveBytes>>20, "max_mib", st.MaxBytes>>20)
	return ob, nil
}

// outboxHealth is an outbox that reports pressure and write failures.
type outboxHealth interface {
	Health() error
	Changed() <-chan struct{}
}

// watchOutbox reports the outbox's health to the controller as the "outbox"
// device (raising and ending outbox alerts) whenever it changes: the only
// route by which the outbox's health reaches the gate.
func watchOutbox(ctx context.Context, ob outboxHealth, ctrl *gate.Controller, log *slog.Logger) {
	var last error
	report := func() {
		h := ob.Health()
		if (h == nil) == (last == nil) && (h == nil || h.Error() == last.Error()) {
			return
		}
		if h != nil {
			log.Warn("outbox", "health", h)
		} else {
			log.Info("outbox healthy again")
		}
		last = h
		ctrl.DeviceHealth(ctx, gate.DeviceOutbox, h)
	}
	report()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ob.Changed():
			report()
		}
	}
}

// unkeptLog is the event log of a gate with neither a broker nor an outbox
// file: it numbers events like an outbox and forgets them at once.
type unkeptLog struct{ *outbox.Memory }

// Record takes m and removes it again.
func (u unkeptLog) Record(m gate.Message) error {
	if err := u.Memory.Record(m); err != nil {
		return err
	}
	return u.Memory.AckThrough(m.Seq)
}
