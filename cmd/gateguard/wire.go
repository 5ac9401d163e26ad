package main

// Wiring: config → devices → gate.
//
// build turns a config into a daemon in named steps, each given only what it
// uses, so that a tool needing a few parts builds just those (synth: the
// outbox and the publisher; calibrate: the two cameras; check: nothing):
//
//	openDevices   devices.go       relay, inputs, face camera, thermal camera
//	newLane       lane.go          lane state stream, lane display, tower light
//	newScanner    wire_vision.go   QR decoder and face detector on the camera
//	newMeter      meter.go         the thermometer (registration, blackbody)
//	openOutbox    outbox.go        durable or memory event log
//	newPublisher  broker.go        MQTT publisher draining the outbox
//	verifier      credentials.go   credential checks and anti-passback
//	newController wire.go          the decision loop, gate.Controller
//	newRemote     remote.go        signed commands and Home Assistant discovery
//
// Hardware marked "simulated" in the config comes from a simHardware
// (sim.go), seen by the wiring only through the interfaces real hardware
// has: gpio.PinIO, scan.Source, thermal.Sensor. The scenario world
// (world.go) drives it.
//
// daemon.run (run.go) is the one place goroutines start. Each runs in a
// group (group.go) with a context; shutdown stops the device loops and
// services, then the decision loop, then the publisher, waits for all, and
// only then halts the relay in its safe state.
//
// Plug-in points, a few lines each:
//   - a part that watches the gate (metrics): a func in parts.onRecord
//     (every event and alert recorded into the outbox) and/or parts.onLane
//     (every lane change); both are called on the decision loop's goroutine
//     and must not block. The lane display and the tower follow the richer
//     gate.Options.LaneObserver through gate/lane's stream (lane.go).
//   - a part with its own goroutine (the display's HTTP server, the tower
//     light's pattern loop, a systemd watchdog): a service in
//     parts.services; run starts it, cancels its context at shutdown and
//     waits for it before the relay is halted.
//   - a part built from the config: a field in parts set by cmdRun (or
//     built in build as a step of its own) and passed to the constructor
//     that uses it — e.g. a metrics registry handed to newController,
//     newScanner and newPublisher; no global registry.
//   - a heartbeat from the camera loop (systemd watchdog): a func in
//     parts.onFrame, called for every frame the loop reads. One from the
//     decision loop needs a hook in gate.Options (outside cmd), passed by
//     newController like OnLane.
//   - a face matcher and enrolment store: built as a step beside verifier
//     and set on the gate.Options newController fills (the field its gate
//     port adds).
//   - several broker URLs: newPublisher (broker.go) is the one place the
//     broker connection is set up.

import (
	"context"
	"log/slog"
	"os"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/mqtt"
	"github.com/gateguard/gateguard/systemd"
	"github.com/gateguard/gateguard/vision"
	"github.com/gateguard/gateguard/vision/fusion"
	"github.com/gateguard/gateguard/vision/scan"
)

// daemon is one gate's parts, wired from a config by build.
type daemon struct {
	cfg      *configs.Config
	log      *slog.Logger
	dev      *devices
	scanner  *scan.Scanner
	meter    *fusion.Meter
	outbox   eventLog
	pub      *mqtt.Publisher // nil with mqtt off
	ctrl     *gate.Controller
	remote   *remote      // nil with mqtt off (remote.go)
	metrics  *gateMetrics // nil without parts.metrics
	lane     *laneParts   // lane display and tower (lane.go)
	faces    *faceParts   // face descriptor and enrolled templates (faces.go)
	onFrame  []func(vision.Observation)
	services []service
	closers  closers
}

// parts are the optional components a caller of build adds to the gate the
// config describes. The zero parts adds nothing.
type parts struct {
	// sim supplies the devices the config marks "simulated"; nil makes a
	// fresh simHardware. Pass one to drive it (the scenario world).
	sim *simHardware
	// onRecord and onLane observe the gate: every message recorded into
	// the outbox, every lane change. They are called on the decision
	// loop's goroutine and must not block.
	onRecord []func(gate.Message)
	onLane   []func(lane string)
	// onFrame observes the camera loop: every observation it hands the
	// controller (one per frame read, or a read error), on the camera
	// loop's goroutine. It must not block.
	onFrame []func(vision.Observation)
	// services are goroutines the daemon runs and owns beside its own.
	services []service
	// metrics, when set, instruments the gate (metrics.go): the
	// controller's decisions, the camera loops, the outbox and the broker.
	metrics *gateMetrics
}

// service is a goroutine plugged into the daemon: run works until ctx ends.
type service struct {
	name string
	run  func(ctx context.Context) error
}

// build wires every part; on error it closes what it opened.
func build(cfg *configs.Config, log *slog.Logger, p parts) (_ *daemon, err error) {
	if p.sim == nil {
		p.sim = &simHardware{}
	}
	// d is not the named result: "return nil, err" would set it to nil
	// before the deferred close runs.
	d := &daemon{cfg: cfg, log: log, onFrame: p.onFrame, services: p.services, metrics: p.metrics}
	defer func() {
		if err != nil {
			d.close()
		}
	}()
	if d.dev, err = openDevices(cfg, log, p.sim, &d.closers); err != nil {
		return nil, err
	}
	if d.lane, err = newLane(cfg, log, p.sim, &d.closers); err != nil {
		return nil, err
	}
	d.services = append(d.services, d.lane.services(log)...)
	if d.scanner, err = newScanner(cfg.Vision, d.dev.camera, log, &d.closers); err != nil {
		return nil, err
	}
	if d.faces, err = openFaces(cfg, log, &d.closers); err != nil {
		return nil, err
	}
	if ds := d.faces.describer(&d.closers); ds != nil {
		d.scanner.Describer = ds
	}
	if d.meter, err = newMeter(cfg, d.dev.thermal, log); err != nil {
		return nil, err
	}
	if d.outbox, err = openOutbox(cfg, log, &d.closers); err != nil {
		return nil, err
	}
	if cfg.MQTT.Enabled {
		if d.pub, err = newPublisher(cfg, log, d.outbox, d.meter.CalibrationID()); err != nil {
			return nil, err
		}
	}
	ports := gate.Options{Turnstile: d.dev.relay, Recorder: observed(d.outbox, p.onRecord), Thermometer: d.meter,
		CalibrationID: d.meter.CalibrationID(), OnLane: fanOut(p.onLane), Snapshots: snapshots(d.outbox, log),
		LaneObserver: d.lane.observer(), Faces: d.faces.matcher()}
	if d.pub != nil {
		ports.State = d.pub
	}
	if p.metrics != nil {
		ports.Metrics = p.metrics
	}
	if d.ctrl, err = newController(cfg, log, ports); err != nil {
		return nil, err
	}
	if d.remote, err = newRemote(cfg, log, d.pub, d.ctrl, d.faces); err != nil {
		return nil, err
	}
	if p.metrics != nil {
		p.metrics.plug(d)
	}
	return d, nil
}

// newController builds the decision loop on ports (the relay, the recorder,
// the state sink, the thermometer, observers) with the policy and timings
// the config sets and the credential verifier it selects.
func newController(cfg *configs.Config, log *slog.Logger, ports gate.Options) (*gate.Controller, error) {
	ver, admissions, err := verifier(cfg, log)
	if err != nil {
		return nil, err
	}
	o := ports
	o.Site, o.Gate = cfg.Site, cfg.Gate
	o.Policy = policyOf(cfg)
	o.CheckTimeout, o.PassageTimeout = cfg.Policy.CheckTimeout, cfg.Policy.PassageTimeout
	o.RepeatSuppress, o.AlertWindow = cfg.Policy.RepeatSuppress, cfg.Policy.AlertWindow
	o.ThermalMaxAge = cfg.Thermal.MaxAge
	o.Verifier, o.Admissions = ver, admissions
	o.Log = log
	return gate.New(o)
}

// close halts the relay in its safe state and the devices, and closes what
// build opened. run halts the relay first to report its error; a build that
// fails half-way relies on close.
func (d *daemon) close() {
	if d.dev != nil && d.dev.relay != nil {
		if err := d.dev.relay.Halt(); err != nil {
			d.log.Warn("halt relay", "err", err)
		}
	}
	d.closers.close(d.log)
}

// verifier returns the credential verifier the config selects and, when
// anti-passback is on, the sink the controller tells of admissions.
func verifier(cfg *configs.Config, log *slog.Logger) (gate.Verifier, gate.AdmissionSink, error) {
	switch cfg.Credentials.Mode {
	case "presence":
		return gate.PresenceVerifier, nil, nil
	}
	return buildCredentials(cfg, log) // credentials.go
}

// observed returns rec, handing every message it records to each of fns too.
func observed(rec gate.Recorder, fns []func(gate.Message)) gate.Recorder {
	if len(fns) == 0 {
		return rec
	}
	return teeRecorder{Recorder: rec, fns: fns}
}

// teeRecorder hands every recorded message to fns as well.
type teeRecorder struct {
	gate.Recorder
	fns []func(gate.Message)
}

func (t teeRecorder) Record(m gate.Message) error {
	if err := t.Recorder.Record(m); err != nil {
		return err
	}
	for _, fn := range t.fns {
		fn(m)
	}
	return nil
}

// fanOut returns a func calling each of fns, or nil for none.
func fanOut(fns []func(lane string)) func(lane string) {
	if len(fns) == 0 {
		return nil
	}
	return func(lane string) {
		for _, fn := range fns {
			fn(lane)
		}
	}
}

// newLogger builds the daemon's logger from the config. Under systemd,
// with stderr connected to the journal (JOURNAL_STREAM), records go to
// journald natively, each attribute a field of its own (journalctl -o
// verbose; journalctl -u gateguard GATE=lane-1).
func newLogger(c configs.Log) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	if systemd.StderrIsJournal() {
		return slog.New(systemd.NewJournalHandler(systemd.JournalOptions{Identifier: "gateguard", Level: level}))
	}
	o := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, o))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, o))
}
