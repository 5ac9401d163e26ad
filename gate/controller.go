package gate

import (
	"context"
	"errors"
	"image"
	"log/slog"
	"sync"
	"time"

	"github.com/gateguard/gateguard/device/thermal"
	"github.com/gateguard/gateguard/vision"
)

// Lane states.
const (
	LaneIdle      = "idle"
	LaneChecking  = "checking"
	LaneOpen      = "open"
	LaneFireAlarm = "fire_alarm"
)

// Options configures a Controller. Turnstile and Recorder are required.
type Options struct {
	Site, Gate string
	Policy     Policy
	// CheckTimeout bounds the wait for a face and a temperature.
	CheckTimeout time.Duration
	// PassageTimeout is how long the lane stays open for a passage.
	PassageTimeout time.Duration
	// RepeatSuppress is how long the same code text is ignored after a decision.
	RepeatSuppress time.Duration
	// AlertWindow rate-limits fever, spoof and passback alerts per person,
	// and tailgating alerts per lane (personal.go); zero raises a new alert
	// for every occurrence.
	AlertWindow time.Duration
	// ThermalMaxAge is how old a thermal frame may be when measuring.
	ThermalMaxAge time.Duration
	// CalibrationID names the camera registration; it goes into readings.
	CalibrationID string
	// Snapshots keeps a thermal picture for each fever alert; optional.
	Snapshots Snapshotter

	Turnstile   Turnstile
	Recorder    Recorder
	State       StateSink   // optional
	Verifier    Verifier    // nil: any non-empty payload is an unverified credential
	Thermometer Thermometer // nil: no temperature is measured
	// Faces compares the holder's face with enrolled templates; nil: no
	// face is ever compared (as if nobody were enrolled).
	Faces FaceMatcher
	// Admissions, when set, is told of every admission (anti-passback).
	Admissions AdmissionSink
	Log        *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// OnLane, when set, is called from the controller's goroutine on every
	// lane change. It must not block.
	OnLane func(lane string)
	// Metrics counts decisions and device faults; nil counts nothing.
	Metrics Metrics
	// LaneObserver, when set, is told what the people at the lane should
	// see and hear (lanesignal.go): every lane and mode change, hints while
	// checking, and each decision as recorded. gate/lane implements it.
	LaneObserver LaneObserver
}

// Controller owns the gate's state. Feed it with Observe, Thermal and Input;
// Run is its only goroutine and the only caller of the turnstile.
type Controller struct {
	o        Options
	log      *slog.Logger
	obs      chan vision.Observation
	frames   chan *thermal.Frame
	inputs   chan InputEvent
	health   chan deviceHealth
	modes    chan Mode
	verified chan verdictFor      // credential verdicts from verification goroutines
	verifies sync.WaitGroup       // verification goroutines
	calls    chan func()          // remote commands, run in Run's goroutine (remote.go)
	attempts map[string]time.Time // code text → ignored until

	// Fields below are owned by Run's goroutine.
	lane      string
	mode      Mode
	seq       uint64
	att       *attempt
	deadline  time.Time // of the current check or opening; zero when none
	openedBy  string    // attempt id of the current opening
	fireOn    bool      // the alarm input is active
	fireAlert string    // alert id of the latched fire alarm; "" when none
	tframe    *thermal.Frame
	devices   map[string]string
	faults    map[string]string // device → alert id of an open fault
	personal  map[personKey]*personAlert
	remote    remoteState
	laneSeq   uint64 // of the last LaneSignal
	// outboxHealth is the outbox's health as last reported through
	// DeviceHealth (the outbox's only route into the gate); recordFailing
	// is set while the gate's own Records are refused.
	outboxHealth  error
	recordFailing bool
	// outboxLost is the message of an outbox alert that could not be
	// recorded because the outbox refused records; it is recorded first
	// once the outbox takes records again.
	outboxLost string
}

type attempt struct {
	id       string
	code     vision.Code
	cred     Credential
	pending  bool // the credential is still being verified
	poorFace bool // a face was seen but failed the quality checks
	faceSeen bool
	face     vision.Face // the latest good face of the holder, and its frame's size
	size     image.Point
	faceNow  bool // the latest observation showed that face (thermal frames may measure it)
	reading  *Reading
	started  time.Time
	th       thermalAttempt
	// shownHint is the hint last signalled to the lane (lanesignal.go).
	shownHint Reason
	fa        faceAttempt
}

// verdictFor is a credential verdict for the attempt with the given id.
type verdictFor struct {
	attempt string
	cred    Credential
}

type deviceHealth struct {
	name string
	err  error
}

// New returns a controller; it does nothing until Run.
func New(o Options) (*Controller, error) {
	if o.Turnstile == nil || o.Recorder == nil {
		return nil, errors.New("gate: Turnstile and Recorder are required")
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Metrics == nil {
		o.Metrics = noMetrics{}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.CheckTimeout <= 0 {
		o.CheckTimeout = 3 * time.Second
	}
	if o.PassageTimeout <= 0 {
		o.PassageTimeout = 5 * time.Second
	}
	if o.ThermalMaxAge <= 0 {
		o.ThermalMaxAge = time.Second
	}
	return &Controller{
		o:        o,
		log:      o.Log.With("gate", o.Gate),
		obs:      make(chan vision.Observation, 1),
		frames:   make(chan *thermal.Frame, 1),
		inputs:   make(chan InputEvent, 64),
		health:   make(chan deviceHealth, 16),
		modes:    make(chan Mode, 4),
		verified: make(chan verdictFor, 1),
		calls:    make(chan func()),
		attempts: map[string]time.Time{},
		lane:     LaneIdle,
		mode:     ModeNormal,
		seq:      o.Recorder.LastSeq(),
		devices:  map[string]string{},
		faults:   map[string]string{},
		personal: map[personKey]*personAlert{},
	}, nil
}

// Observe hands the controller the latest camera observation. It never
// blocks: an observation not yet taken is replaced by the newer one.
func (c *Controller) Observe(o vision.Observation) { putLatest(c.obs, o) }

// Thermal hands the controller a copy of the latest thermal frame; it never blocks.
func (c *Controller) Thermal(f *thermal.Frame) {
	cp := &thermal.Frame{}
	cp.CopyFrom(f)
	putLatest(c.frames, cp)
}

// Input hands the controller a debounced input change. It blocks only while
// 64 earlier changes are waiting, and returns early when ctx ends.
func (c *Controller) Input(ctx context.Context, ev InputEvent) {
	select {
	case c.inputs <- ev:
	case <-ctx.Done():
	}
}

// DeviceHealth reports a device as working (err == nil) or faulty. Changes
// raise and end device-fault alerts. The outbox reports its health (nearly
// full, write failures) here as DeviceOutbox, and only here: the gate never
// asks the Recorder for it.
func (c *Controller) DeviceHealth(ctx context.Context, name string, err error) {
	select {
	case c.health <- deviceHealth{name, err}:
	case <-ctx.Done():
	}
}

// SetMode asks the controller to change its operating mode.
func (c *Controller) SetMode(ctx context.Context, m Mode) {
	select {
	case c.modes <- m:
	case <-ctx.Done():
	}
}

func putLatest[T any](ch chan T, v T) {
	for {
		select {
		case ch <- v:
			return
		default:
		}
		select {
		case <-ch:
		default:
		}
	}
}

// Run is the decision loop. It returns when ctx ends, after securing the lane
// (unless a fire alarm is latched, which keeps it free).
func (c *Controller) Run(ctx context.Context) error {
	c.publishState()
	c.signalLane(nil, false)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	sweepEvery := time.Hour
	if c.o.AlertWindow > 0 {
		sweepEvery = max(c.o.AlertWindow/4, time.Second)
	}
	sweep := time.NewTicker(sweepEvery)
	defer sweep.Stop()
	for {
		c.armTimer(timer)
		select {
		case <-ctx.Done():
			c.shutdown()
			c.verifies.Wait()
			return nil
		case o := <-c.obs:
			c.onObservation(ctx, o)
		case f := <-c.frames:
			c.onThermalFrame(f)
		case ev := <-c.inputs:
			c.onInput(ev)
		case h := <-c.health:
			c.onReportedHealth(h)
		case m := <-c.modes:
			c.onMode(m)
		case v := <-c.verified:
			c.onVerified(v)
		case f := <-c.calls:
			f()
		case <-timer.C:
			c.onTimer()
		case <-sweep.C:
			c.sweepPersonal()
		}
	}
}

func (c *Controller) armTimer(t *time.Timer) {
	if !t.Stop() {
		select {
		case <-t.C:
		default:
		}
	}
	if c.deadline.IsZero() {
		t.Reset(time.Hour)
		return
	}
	t.Reset(max(c.deadline.Sub(c.o.Now()), 0))
}

func (c *Controller) setLane(l string) {
	c.setLaneFor(l, nil, false)
}

// setLaneFor changes the lane state after a decision on entry (nil: no
// decision) and signals the lane observer of both at once.
func (c *Controller) setLaneFor(l string, entry *Event, admitted bool) {
	if c.lane == l {
		if entry != nil {
			c.signalLane(entry, admitted)
		}
		return
	}
	c.lane = l
	c.publishState()
	if c.o.OnLane != nil {
		c.o.OnLane(l)
	}
	c.signalLane(entry, admitted)
}

func (c *Controller) shutdown() {
	if c.att != nil {
		c.finish(false)
	}
	if c.fireAlert != "" {
		return // the relay driver's halt decides the final state
	}
	if err := c.o.Turnstile.Secure(); err != nil {
		c.log.Error("secure on shutdown", "err", err)
	}
}
