package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/device/input"
	"github.com/gateguard/gateguard/device/relay"
	"github.com/gateguard/gateguard/device/sim"
	"github.com/gateguard/gateguard/device/thermal"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/mqtt"
	"github.com/gateguard/gateguard/vision"
	"github.com/gateguard/gateguard/vision/camera"
	"github.com/gateguard/gateguard/vision/face"
	"github.com/gateguard/gateguard/vision/fusion"
	"github.com/gateguard/gateguard/vision/qr"
	"github.com/gateguard/gateguard/vision/scan"
	vsim "github.com/gateguard/gateguard/vision/sim"
)

// daemon is one gate's parts, wired from a config.
type daemon struct {
	cfg     *configs.Config
	log     *slog.Logger
	relay   *relay.Dev
	inputs  map[gate.InputKind]*input.Dev
	scanner *scan.Scanner
	thermal thermal.Sensor
	meter   *fusion.Meter
	outbox  eventLog
	pub     *mqtt.Publisher
	ctrl    *gate.Controller
	remote  *remote // signed commands and Home Assistant discovery (remote.go)
	closers []func() error

	// Simulated hardware, set when the config asks for it.
	simPins    map[string]*sim.Pin
	simCamera  *vsim.Camera
	simThermal *sim.Thermal
}

// options lets the simulator watch what the gate records.
type options struct {
	onRecord func(gate.Message)
	onLane   func(string)
}

// build wires every part; on error it closes what it opened.
func build(cfg *configs.Config, log *slog.Logger, opt options) (_ *daemon, err error) {
	// d is not the named result: "return nil, err" would set it to nil
	// before the deferred close runs.
	d := &daemon{cfg: cfg, log: log, inputs: map[gate.InputKind]*input.Dev{}, simPins: map[string]*sim.Pin{}}
	defer func() {
		if err != nil {
			d.close()
		}
	}()
	if err := d.buildGPIO(); err != nil {
		return nil, err
	}
	if err := d.buildVision(); err != nil {
		return nil, err
	}
	if err := d.buildThermal(); err != nil {
		return nil, err
	}
	if err := d.buildMeter(); err != nil {
		return nil, err
	}
	if d.outbox, err = d.openOutbox(); err != nil {
		return nil, err
	}
	var rec gate.Recorder = d.outbox
	if opt.onRecord != nil {
		rec = teeRecorder{Recorder: d.outbox, fn: opt.onRecord}
	}
	var state gate.StateSink
	if cfg.MQTT.Enabled {
		if d.pub, err = d.buildPublisher(); err != nil {
			return nil, err
		}
		state = d.pub
	}
	ver, admissions, err := verifier(cfg, log)
	if err != nil {
		return nil, err
	}
	d.ctrl, err = gate.New(gate.Options{
		Site: cfg.Site, Gate: cfg.Gate,
		Policy:         policyOf(cfg),
		CheckTimeout:   cfg.Policy.CheckTimeout,
		PassageTimeout: cfg.Policy.PassageTimeout,
		RepeatSuppress: cfg.Policy.RepeatSuppress,
		AlertWindow:    cfg.Policy.AlertWindow,
		ThermalMaxAge:  cfg.Thermal.MaxAge,
		CalibrationID:  d.meter.CalibrationID(),
		Snapshots:      d.snapshots(),
		Turnstile:      d.relay,
		Recorder:       rec,
		State:          state,
		Thermometer:    d.meter,
		Verifier:       ver,
		Admissions:     admissions,
		Log:            log,
		OnLane:         opt.onLane,
	})
	if err != nil {
		return d, err
	}
	return d, d.buildRemote()
}

func (d *daemon) buildGPIO() error {
	g := d.cfg.GPIO
	var byName func(key, name string, initial gpio.Level) (gpio.PinIO, error)
	switch g.Driver {
	case "simulated":
		byName = func(_, name string, initial gpio.Level) (gpio.PinIO, error) {
			p := sim.NewPin(name, len(d.simPins), initial)
			d.simPins[name] = p
			return p, nil
		}
	default:
		if _, err := host.Init(); err != nil {
			return fmt.Errorf("gpio: periph host init: %w", err)
		}
		byName = func(key, name string, _ gpio.Level) (gpio.PinIO, error) {
			p := gpioreg.ByName(name)
			if p == nil {
				return nil, fmt.Errorf("%s: pin %q not found on this machine", key, name)
			}
			return p, nil
		}
	}
	pin, err := byName("gpio.relay.pin", g.Relay.Pin, gpio.Low)
	if err != nil {
		return err
	}
	d.relay, err = relay.New(pin, &relay.Opts{
		ActiveLow: g.Relay.ActiveLow, Hold: g.Relay.Mode == "hold",
		Pulse: g.Relay.Pulse, HoldFor: g.Relay.Hold, SafeOpen: g.Relay.SafeState == "open",
	})
	if err != nil {
		return err
	}
	for _, kind := range gate.Inputs {
		in := struct {
			kind gate.InputKind
			key  string
			cfg  *configs.Input
		}{kind, "gpio." + kind.String(), g.Input(kind.String())}
		if in.cfg == nil {
			continue
		}
		// A simulated input starts at rest: contact open, or closed for a
		// normally-closed loop.
		rest := gpio.Level(in.cfg.ActiveLow) // open contact level
		if in.cfg.NormallyClosed {
			rest = !rest
		}
		p, err := byName(in.key+".pin", in.cfg.Pin, rest)
		if err != nil {
			return err
		}
		pull := map[string]gpio.Pull{"up": gpio.PullUp, "down": gpio.PullDown, "none": gpio.Float}[in.cfg.Pull]
		dev, err := input.New(p, &input.Opts{ActiveLow: in.cfg.ActiveLow, Pull: pull,
			Debounce: in.cfg.Debounce, NormallyClosed: in.cfg.NormallyClosed})
		if err != nil {
			return fmt.Errorf("%s: %w", in.key, err)
		}
		if sp, ok := d.simPins[in.cfg.Pin]; ok {
			sp.Set(rest) // In applied the pull; the contact decides the level
		}
		d.inputs[in.kind] = dev
	}
	return nil
}

func (d *daemon) buildVision() error {
	c := d.cfg.Camera
	var src scan.Source
	if c.Source == "simulated" {
		cam, err := vsim.New(c.Width, c.Height, c.FPS)
		if err != nil {
			return err
		}
		d.simCamera, src = cam, cam
	} else {
		// The capture goroutine opens the camera and keeps reopening it: a
		// camera missing at start is a device fault, not a failed start.
		cam, err := camera.OpenLive(c.Source, c.Width, c.Height, c.FPS, c.StallTimeout, d.log)
		if err != nil {
			return fmt.Errorf("camera.source: %w", err)
		}
		src = cam
	}
	d.closers = append(d.closers, src.Close)
	// The slow QR strategies run on one frame in three: a code held up is
	// in view for many frames, and frames without one stay cheap.
	dec, err := qr.NewWithOpts(qr.Opts{SlowEvery: 3})
	if err != nil {
		return err
	}
	d.closers = append(d.closers, dec.Close)
	fq := d.cfg.Vision.Quality
	quality := vision.DefaultQuality
	quality.MinEyeDistance, quality.MinSharpness = float64(fq.MinEyePixels), fq.MinSharpness
	quality.MaxYawDeg, quality.MaxRollDeg = fq.MaxYawDeg, fq.MaxRollDeg
	var faces scan.FaceDetector
	if m := d.cfg.Vision.FaceModel; m != "" {
		o := face.DefaultYuNetOpts
		o.MinSize = d.cfg.Vision.MinFacePixels
		o.Quality = quality
		o.DetectWidth = 320 // a face at the gate is large; 4× fewer pixels
		y, err := face.NewYuNet(m, &o)
		if err != nil {
			return fmt.Errorf("vision.face_model: %w", err)
		}
		d.closers = append(d.closers, y.Close)
		faces = y
	} else {
		h, err := face.NewHaar(d.cfg.Vision.HaarCascade, d.cfg.Vision.MinFacePixels)
		if err != nil {
			return fmt.Errorf("vision.haar_cascade: %w", err)
		}
		h.Quality = quality
		d.closers = append(d.closers, h.Close)
		faces = h
	}
	d.scanner = &scan.Scanner{Source: src, Codes: dec, Faces: faces, Log: d.log,
		Retry: 100 * time.Millisecond, MaxRetry: 5 * time.Second, CodeGap: 2}
	return nil
}

func (d *daemon) buildThermal() error {
	switch d.cfg.Thermal.Sensor {
	case "simulated":
		t, err := sim.NewThermal(simThermalW, simThermalH, simThermalFPS)
		if err != nil {
			return err
		}
		d.simThermal, d.thermal = t, t
		return nil
	}
	s, err := openThermal(d.cfg.Thermal, func(c func() error) { d.closers = append(d.closers, c) })
	if err != nil {
		return err
	}
	d.thermal = s
	return nil
}

func (d *daemon) buildPublisher() (*mqtt.Publisher, error) {
	c := d.cfg
	pw, err := c.MQTT.Password()
	if err != nil {
		return nil, err
	}
	if c.MQTT.InsecurePassword() {
		d.log.Warn("INSECURE: the broker password is sent in clear text over a plain connection (mqtt.allow_insecure_password)",
			"brokers", c.MQTT.BrokerURLs())
	}
	tc, err := tlsConfig(c.MQTT)
	if err != nil {
		return nil, err
	}
	calibration := "" // the synthetic event source (synth) has no thermal camera
	if d.meter != nil {
		calibration = d.meter.CalibrationID()
	}
	info, _ := json.Marshal(map[string]any{
		"v": gate.PayloadVersion, "site": c.Site, "gate": c.Gate, "version": version,
		"config_hash": c.Hash, "calibration_id": calibration, "started": time.Now().UTC(),
	})
	return mqtt.New(mqtt.Options{
		Brokers: c.MQTT.BrokerURLs(), ClientID: c.ClientID(), Username: c.MQTT.Username, Password: pw, TLS: tc,
		Prefix: c.TopicPrefix(), KeepAlive: c.MQTT.KeepAlive, ConnectTimeout: c.MQTT.ConnectTimeout,
		PublishTimeout: c.MQTT.PublishTimeout, Info: info, Log: d.log, Snapshots: d.snapshotSource(),
	}, d.outbox), nil
}

// run starts every goroutine and waits for all of them after ctx ends; it
// then halts the relay in its safe state. drain, when set, bounds a final
// wait for the outbox to empty before the publisher stops.
func (d *daemon) run(ctx context.Context, drain time.Duration) error {
	var wg sync.WaitGroup
	ctrlCtx, stopCtrl := context.WithCancel(context.WithoutCancel(ctx))
	pubCtx, stopPub := context.WithCancel(context.WithoutCancel(ctx))
	devCtx, stopDev := context.WithCancel(ctx)
	defer stopCtrl()
	defer stopPub()
	defer stopDev()

	ctrlDone := make(chan struct{})
	wg.Go(func() {
		defer close(ctrlDone)
		_ = d.ctrl.Run(ctrlCtx)
	})
	if d.pub != nil {
		wg.Go(func() { _ = d.pub.Run(pubCtx) })
	}
	d.startRemote(&wg, devCtx)
	if w, ok := d.outbox.(outboxHealth); ok {
		wg.Go(func() { watchOutbox(devCtx, w, d.ctrl, d.log) })
	}
	wg.Go(func() { d.scanner.Run(devCtx, d.ctrl.Observe) })
	wg.Go(func() { thermal.Run(devCtx, d.thermal, d.thermalRunOpts(devCtx), d.ctrl.Thermal) })
	for kind, in := range d.inputs {
		wg.Go(func() {
			in.Watch(devCtx, func(active bool) { d.ctrl.Input(devCtx, gate.InputEvent{Kind: kind, Active: active}) })
		})
	}

	<-ctx.Done()
	d.log.Info("shutting down")
	stopDev()
	stopCtrl() // the controller finishes its attempt and records it
	<-ctrlDone
	if d.pub != nil && drain > 0 {
		dctx, cancel := context.WithTimeout(context.Background(), drain)
		if err := d.outbox.WaitEmpty(dctx); err != nil {
			d.log.Warn("outbox not drained before exit", "depth", d.outbox.Depth())
		}
		cancel()
	}
	stopPub()
	wg.Wait()
	err := d.relay.Halt()
	d.close()
	if err != nil {
		return fmt.Errorf("halt relay: %w", err)
	}
	d.log.Info("stopped; relay in its safe state", "safe_state", d.cfg.GPIO.Relay.SafeState)
	return nil
}

// close halts the relay in its safe state and the devices, and closes what
// build opened. run halts the relay first to report its error; a build that
// fails half-way relies on close.
func (d *daemon) close() {
	if d.relay != nil {
		if err := d.relay.Halt(); err != nil {
			d.log.Warn("halt relay", "err", err)
		}
	}
	if d.thermal != nil {
		_ = d.thermal.Halt()
	}
	for i := len(d.closers) - 1; i >= 0; i-- {
		if err := d.closers[i](); err != nil {
			d.log.Warn("close", "err", err)
		}
	}
	d.closers = nil
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

// teeRecorder hands every recorded message to fn as well.
type teeRecorder struct {
	gate.Recorder
	fn func(gate.Message)
}

func (t teeRecorder) Record(m gate.Message) error {
	if err := t.Recorder.Record(m); err != nil {
		return err
	}
	t.fn(m)
	return nil
}

// newLogger builds the daemon's logger from the config.
func newLogger(c configs.Log) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	o := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, o))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, o))
}
