package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
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
	log := newLogger(cfg.Log)
	var cl closers
	defer cl.close(log)
	ob, err := openOutbox(cfg, log, &cl)
	if err != nil {
		return err
	}
	pub, err := newPublisher(cfg, log, ob, "")
	if err != nil {
		return err
	}
	pubs := newGroup(context.WithoutCancel(ctx), log)
	pubs.Go("publisher", pub.Run)
	defer func() {
		pubs.stop()
		pubs.wait()
	}()
	pub.SetState(gate.State{Site: cfg.Site, Gate: cfg.Gate, Time: time.Now(), Mode: gate.ModeNormal,
		Lane: gate.LaneIdle, Devices: map[string]string{gate.DeviceOutbox: "ok"}, OutboxDepth: ob.Depth()}.Payload())
	if !synthRecord(ctx, cfg, log, ob, *rate, *until, stdout) {
		return nil // stopped
	}
	dctx, cancel := context.WithTimeout(ctx, *drain)
	defer cancel()
	if err := ob.WaitEmpty(dctx); err != nil {
		return fmt.Errorf("synth: outbox not drained: %d left: %w", ob.Depth(), err)
	}
	return nil
}

// synthRecord records synthetic entries into ob at rate per second until
// its last sequence number reaches until (it returns true), or ctx ends
// (false).
func synthRecord(ctx context.Context, cfg *configs.Config, log *slog.Logger, ob eventLog, rate int, until uint64, stdout io.Writer) bool {
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	for ob.LastSeq() < until {
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
		seq := ob.LastSeq() + 1
		ev := gate.Event{V: gate.PayloadVersion, ID: uuid.Must(uuid.NewV7()).String(), Seq: seq,
			Site: cfg.Site, Gate: cfg.Gate, Time: time.Now().UTC(), Kind: gate.KindEntry,
			Decision: "admitted", Reasons: []gate.Reason{gate.ReasonInsecure},
			Holder: fmt.Sprintf("synthetic-%d", seq), FaceSeen: true, Mode: gate.ModeNormal}
		if err := ob.Record(gate.Message{Seq: seq, ID: ev.ID, Topic: gate.TopicAccess, Payload: synthJSON(ev)}); err != nil {
			log.Error("record failed", "seq", seq, "err", err)
			continue
		}
		fmt.Fprintf(stdout, "recorded %d\n", seq)
	}
	return true
}

func synthJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("synth: marshal: " + err.Error())
	}
	return b
}
