package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/gate"
)

// cmdSynth is a hidden tool for delivery soak tests (make soak-mqtt): it
// records synthetic access events into the configured durable outbox at a
// steady rate and publishes them with the daemon's own outbox and publisher
// wiring, until the outbox's last sequence number reaches -until; then it
// waits for the outbox to drain and exits. It prints "recorded N" after each
// Record returns, so that a harness that kills it knows which events the
// outbox acknowledged. Run it again on the same outbox to continue.
//
//	gateguard synth -c FILE -rate 400 -until 10000
func cmdSynth(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("synth", flag.ContinueOnError)
	path := fs.String("c", "", "config file (outbox.path and mqtt are used)")
	rate := fs.Int("rate", 200, "events per second")
	until := fs.Uint64("until", 10000, "stop recording when the last sequence number reaches this")
	drain := fs.Duration("drain", 5*time.Minute, "how long to wait for the outbox to drain at the end")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *path == "" || *rate <= 0 || fs.NArg() > 0 {
		return usageError{"synth: -c FILE and a positive -rate are required"}
	}
	cfg, err := configs.Load(*path)
	if err != nil {
		return err
	}
	if cfg.Outbox.Path == "" || !cfg.MQTT.Enabled {
		return errors.New("synth: the config must set outbox.path and enable mqtt")
	}
	d := &daemon{cfg: cfg, log: newLogger(cfg.Log)}
	defer d.close()
	if d.outbox, err = d.openOutbox(); err != nil {
		return err
	}
	if d.pub, err = d.buildPublisher(); err != nil {
		return err
	}
	pubCtx, stopPub := context.WithCancel(context.WithoutCancel(ctx))
	pubDone := make(chan struct{})
	go func() {
		defer close(pubDone)
		_ = d.pub.Run(pubCtx)
	}()
	defer func() {
		stopPub()
		<-pubDone
	}()
	d.pub.SetState(gate.State{Site: cfg.Site, Gate: cfg.Gate, Time: time.Now(), Mode: gate.ModeNormal,
		Lane: gate.LaneIdle, Devices: map[string]string{gate.DeviceOutbox: "ok"}, OutboxDepth: d.outbox.Depth()}.Payload())

	tick := time.NewTicker(time.Second / time.Duration(*rate))
	defer tick.Stop()
	for d.outbox.LastSeq() < *until {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		seq := d.outbox.LastSeq() + 1
		ev := gate.Event{V: gate.PayloadVersion, ID: uuid.Must(uuid.NewV7()).String(), Seq: seq,
			Site: cfg.Site, Gate: cfg.Gate, Time: time.Now().UTC(), Kind: gate.KindEntry,
			Decision: "admitted", Reasons: []gate.Reason{gate.ReasonInsecure},
			Holder: fmt.Sprintf("synthetic-%d", seq), FaceSeen: true, Mode: gate.ModeNormal}
		if err := d.outbox.Record(gate.Message{Seq: seq, ID: ev.ID, Topic: gate.TopicAccess, Payload: synthJSON(ev)}); err != nil {
			d.log.Error("record failed", "seq", seq, "err", err)
			continue
		}
		fmt.Fprintf(stdout, "recorded %d\n", seq)
	}
	dctx, cancel := context.WithTimeout(ctx, *drain)
	defer cancel()
	if err := d.outbox.WaitEmpty(dctx); err != nil {
		return fmt.Errorf("synth: outbox not drained: %d left: %w", d.outbox.Depth(), err)
	}
	return nil
}

func synthJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("synth: marshal: " + err.Error())
	}
	return b
}
