package gate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

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
	// Admissions, when set, is told of every admission (anti-passback).
	Admissions AdmissionSink
	Log        *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// OnLane, when set, is called from the controller's goroutine on every
	// lane change. It must not block.
	OnLane func(lane string)
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
	remote    remoteState
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
	reading  *Reading
	started  time.Time
	th       thermalAttempt
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
// raise and end device-fault alerts.
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
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
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
			c.onHealth(h)
		case m := <-c.modes:
			c.onMode(m)
		case v := <-c.verified:
			c.onVerified(v)
		case f := <-c.calls:
			f()
		case <-timer.C:
			c.onTimer()
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
	if c.lane == l {
		return
	}
	c.lane = l
	c.publishState()
	if c.o.OnLane != nil {
		c.o.OnLane(l)
	}
}

func (c *Controller) onObservation(ctx context.Context, o vision.Observation) {
	if o.Err != nil {
		c.onHealth(deviceHealth{"camera", o.Err})
		return
	}
	if c.devices["camera"] != "ok" {
		c.onHealth(deviceHealth{"camera", nil})
	}
	now := c.o.Now()
	if c.lane == LaneIdle {
		code, ok := c.newCode(o.Codes, now)
		if !ok {
			return
		}
		c.startAttempt(ctx, code, now)
	}
	if c.lane != LaneChecking {
		return
	}
	c.gather(o, now)
	if c.complete() {
		c.finish(false)
	}
}

// newCode returns the first code not decided on within RepeatSuppress.
func (c *Controller) newCode(codes []vision.Code, now time.Time) (vision.Code, bool) {
	for k, until := range c.attempts {
		if now.After(until) {
			delete(c.attempts, k)
		}
	}
	for _, code := range codes {
		if code.Text == "" {
			continue
		}
		if _, seen := c.attempts[code.Text]; !seen {
			return code, true
		}
	}
	return vision.Code{}, false
}

func (c *Controller) startAttempt(ctx context.Context, code vision.Code, now time.Time) {
	a := &attempt{id: newID(), code: code, started: now}
	if c.o.Verifier != nil {
		// Verification may call an online service: it runs beside the loop,
		// bounded by the check timeout, so inputs (the fire alarm above all)
		// are never held up by it.
		a.pending = true
		vctx, cancel := context.WithTimeout(ctx, c.o.CheckTimeout)
		c.verifies.Add(1)
		go func() {
			defer c.verifies.Done()
			defer cancel()
			v := verdictFor{attempt: a.id, cred: c.o.Verifier.Verify(vctx, code)}
			select {
			case c.verified <- v:
			case <-ctx.Done():
			}
		}()
	} else {
		a.cred = Credential{Status: StatusCheckFailed, Kind: "unverified", Holder: code.Text,
			Reasons: []string{"no credential verifier configured"}}
	}
	c.att = a
	c.deadline = now.Add(c.o.CheckTimeout)
	c.log.Debug("credential seen", "attempt", a.id)
	c.setLane(LaneChecking)
}

// onVerified takes a credential verdict for the current attempt.
func (c *Controller) onVerified(v verdictFor) {
	if c.att == nil || c.att.id != v.attempt {
		return // the attempt ended (timeout, fire alarm) before its verdict
	}
	c.att.cred, c.att.pending = v.cred, false
	c.log.Debug("credential verified", "attempt", v.attempt, "holder", v.cred.Holder, "status", v.cred.Status)
	if c.complete() {
		c.finish(false)
	}
}

// gather takes the subject's face and, with a fresh thermal frame, its
// temperature from an observation.
func (c *Controller) gather(o vision.Observation, now time.Time) {
	face, ok := o.Subject()
	if !ok {
		return
	}
	if q := face.Quality; q.Assessed && !q.Good {
		// Too small, blurred or turned away: wait for a better frame, and
		// say why if none comes.
		c.att.poorFace = true
		c.log.Debug("face not good enough", "attempt", c.att.id, "why", q.Reasons)
		return
	}
	c.att.faceSeen = true
	if c.o.Thermometer == nil {
		return
	}
	if c.thermalFaulty() {
		// No frame will come (or only a stale one): the fail mode decides.
		c.att.th.unavailable = true
		return
	}
	if c.tframe == nil {
		return
	}
	// Only a thermal frame taken after the credential was seen shows the
	// person now at the gate, not the one before.
	if c.tframe.Time.Before(c.att.started) || now.Sub(c.tframe.Time) > c.o.ThermalMaxAge {
		return
	}
	c.measure(face, o.Size)
}

// complete reports whether the attempt has everything it needs.
func (c *Controller) complete() bool {
	a := c.att
	if a.pending {
		return false
	}
	if a.cred.Status != StatusGreen {
		return true // already denied; no need to wait
	}
	p := c.o.Policy
	if p.RequireFace && !a.faceSeen {
		return false
	}
	if p.RequireTemperature && c.o.Thermometer != nil && a.reading == nil && !a.th.unavailable {
		return false
	}
	return true
}

func (c *Controller) finish(timedOut bool) {
	a := c.att
	c.att = nil
	c.deadline = time.Time{}
	if a.pending {
		a.cred = Credential{Status: StatusTimedOut, Reasons: []string{"verification did not finish in time"}}
	}
	if c.o.RepeatSuppress > 0 {
		c.attempts[a.code.Text] = c.o.Now().Add(c.o.RepeatSuppress)
	}
	at := Attempt{
		Mode:       c.mode,
		Credential: &a.cred,
		FaceSeen:   a.faceSeen,
		PoorFace:   a.poorFace && !a.faceSeen,
		Reading:    a.reading,
		TimedOut:   timedOut,
	}
	if c.o.Thermometer == nil {
		at.Reading = nil
	}
	a.applyThermal(&at)
	v := Decide(c.o.Policy, at)
	c.noteVerdict(v)
	if v.Fever {
		c.snapshot(a)
	}
	if c.fireOn || c.fireAlert != "" {
		v.Admit = false
		v.Reasons = append(v.Reasons, ReasonFireAlarm)
	}
	ev := c.event(KindEntry, v)
	ev.ID = a.id
	ev.Holder = a.cred.Holder
	ev.Credential = &a.cred
	if a.code.Colour != vision.ColourUnknown {
		ev.Colour = a.code.Colour.String()
	}
	ev.FaceSeen = a.faceSeen
	ev.Reading = a.reading
	admit := v.Admit
	if err := c.record(TopicAccess, ev.ID, &ev.Seq, &ev); err != nil {
		admit = false
		c.log.Error("entry not recorded: denied", "attempt", a.id, "err", err)
	}
	c.logDecision(ev, admit)
	if v.Fever {
		c.alert(AlertFever, AlertNew, "warning", ev, feverMessage(a.reading, c.o.Policy))
	}
	if v.Spoof {
		c.alert(AlertSpoof, AlertNew, "warning", ev, spoofMessage(a.reading))
	}
	if !admit {
		c.setLane(LaneIdle)
		return
	}
	if err := c.o.Turnstile.Release(); err != nil {
		c.onHealth(deviceHealth{"relay", err})
		c.setLane(LaneIdle)
		return
	}
	c.openedBy = ev.ID
	if c.o.Admissions != nil {
		c.o.Admissions.Admitted(a.cred, ev.Time)
	}
	c.deadline = c.o.Now().Add(c.o.PassageTimeout)
	c.setLane(LaneOpen)
}

func (c *Controller) logDecision(ev Event, admit bool) {
	msg := "denied"
	if admit {
		msg = "admitted"
	}
	args := []any{"attempt", ev.ID, "holder", ev.Holder, "reasons", joinReasons(ev.Reasons)}
	if c := ev.Credential; c != nil && c.Status != StatusGreen {
		args = append(args, "credential", c.Status)
	}
	if ev.Reading != nil {
		args = append(args, "skin_c", fmt.Sprintf("%.1f", ev.Reading.SkinC))
	}
	c.log.Info(msg, args...)
}

func (c *Controller) onTimer() {
	if c.deadline.IsZero() || c.o.Now().Before(c.deadline) {
		return
	}
	switch c.lane {
	case LaneChecking:
		c.finish(true)
	case LaneOpen:
		c.passage(false)
	default:
		c.deadline = time.Time{}
	}
}

// passage closes an opening.
func (c *Controller) passage(passed bool) {
	v := Verdict{}
	decision := "not_passed"
	if passed {
		decision = "passed"
	}
	ev := c.event(KindPassage, v)
	ev.Decision = decision
	ev.Attempt = c.openedBy
	_ = c.record(TopicAccess, ev.ID, &ev.Seq, &ev)
	c.log.Info("passage", "attempt", c.openedBy, "result", decision)
	if err := c.o.Turnstile.Secure(); err != nil {
		c.onHealth(deviceHealth{"relay", err})
	}
	c.openedBy = ""
	c.deadline = time.Time{}
	c.setLane(LaneIdle)
}

func (c *Controller) onInput(ev InputEvent) {
	c.log.Debug("input", "input", ev.Kind.String(), "active", ev.Active)
	switch ev.Kind {
	case InputFireAlarm:
		c.onFireAlarm(ev.Active)
	case InputFireReset:
		if ev.Active {
			c.onFireReset()
		}
	case InputPassage:
		if ev.Active && c.lane == LaneOpen {
			c.passage(true)
		}
	case InputExitButton:
		if ev.Active {
			c.onExitButton()
		}
	}
}

func (c *Controller) onExitButton() {
	if c.lane == LaneFireAlarm || c.mode == ModeFree {
		return // already open
	}
	ev := c.event(KindExitButton, Verdict{Admit: true, Reasons: []Reason{ReasonExitButton}})
	ev.Decision = "opened"
	if err := c.record(TopicAccess, ev.ID, &ev.Seq, &ev); err != nil {
		// Egress is a safety function: it opens even when it cannot be logged.
		c.log.Error("exit not recorded", "err", err)
	}
	c.log.Info("exit button: opened")
	if err := c.o.Turnstile.Release(); err != nil {
		c.onHealth(deviceHealth{"relay", err})
		return
	}
	if c.lane == LaneIdle || c.lane == LaneOpen {
		c.openedBy = ev.ID
		c.deadline = c.o.Now().Add(c.o.PassageTimeout)
		c.setLane(LaneOpen)
	}
}

func (c *Controller) onFireAlarm(active bool) {
	was := c.fireOn
	c.fireOn = active
	if !active {
		if was && c.fireAlert != "" {
			ev := c.event(KindFireAlarm, Verdict{Admit: true, Reasons: []Reason{ReasonFireAlarm}})
			ev.Decision = "cleared"
			_ = c.record(TopicAccess, ev.ID, &ev.Seq, &ev)
			c.log.Warn("fire alarm input cleared; lanes stay open until reset")
		}
		return
	}
	if c.fireAlert != "" {
		return // already latched
	}
	if err := c.o.Turnstile.Free(); err != nil {
		c.onHealth(deviceHealth{"relay", err})
	}
	if c.att != nil {
		c.finish(false) // recorded as denied with fire_alarm among its reasons
	}
	ev := c.event(KindFireAlarm, Verdict{Admit: true, Reasons: []Reason{ReasonFireAlarm}})
	ev.Decision = "opened"
	_ = c.record(TopicAccess, ev.ID, &ev.Seq, &ev)
	c.fireAlert = newID()
	c.alertWithID(c.fireAlert, AlertFireAlarm, AlertNew, "critical", ev,
		"fire alarm: every lane open and latched until reset")
	c.log.Warn("fire alarm: lane open, latched until reset")
	c.openedBy, c.deadline = "", time.Time{}
	c.setLane(LaneFireAlarm)
}

func (c *Controller) onFireReset() {
	if c.fireAlert == "" {
		return
	}
	if c.fireOn {
		c.log.Warn("fire alarm reset refused: the alarm input is still active")
		return
	}
	ev := c.event(KindFireAlarm, Verdict{Reasons: []Reason{ReasonFireAlarm}})
	ev.Decision = "reset"
	_ = c.record(TopicAccess, ev.ID, &ev.Seq, &ev)
	c.alertWithID(c.fireAlert, AlertFireAlarm, AlertEnd, "info", ev, "fire alarm reset")
	c.fireAlert = ""
	c.log.Info("fire alarm reset: lane secured")
	c.applyMode()
	c.setLane(LaneIdle)
}

func (c *Controller) onMode(m Mode) {
	if m == c.mode {
		return
	}
	ev := c.event(KindModeChange, Verdict{})
	ev.Decision = string(m)
	c.mode = m
	ev.Mode = m
	_ = c.record(TopicAccess, ev.ID, &ev.Seq, &ev)
	c.log.Info("mode changed", "mode", m)
	if c.fireAlert == "" {
		c.applyMode()
	}
	c.publishState()
}

func (c *Controller) applyMode() {
	var err error
	if c.mode == ModeFree {
		err = c.o.Turnstile.Free()
	} else {
		err = c.o.Turnstile.Secure()
	}
	if err != nil {
		c.onHealth(deviceHealth{"relay", err})
	}
}

func (c *Controller) onHealth(h deviceHealth) {
	status := "ok"
	if h.err != nil {
		status = h.err.Error()
	}
	prev, known := c.devices[h.name]
	if known && prev == status {
		return
	}
	c.devices[h.name] = status
	id, open := c.faults[h.name]
	typ, msg := AlertDeviceFault, "device fault: "+status
	if h.name == "outbox" {
		typ, msg = AlertOutbox, status
		if open && c.outboxLost != "" {
			a := c.alertBase(id, AlertOutbox, AlertNew, "critical", c.outboxLost)
			a.Device = h.name
			if c.record(TopicAlert, a.ID, &a.Seq, &a) == nil {
				c.outboxLost = ""
			}
		}
	}
	switch {
	case h.err != nil && !open:
		id = newID()
		c.faults[h.name] = id
		c.log.Error("device fault", "device", h.name, "err", h.err)
		a := c.alertBase(id, typ, AlertNew, "critical", msg)
		a.Device = h.name
		_ = c.record(TopicAlert, a.ID, &a.Seq, &a)
	case h.err != nil && open:
		a := c.alertBase(id, typ, AlertUpdate, "critical", msg)
		a.Device = h.name
		_ = c.record(TopicAlert, a.ID, &a.Seq, &a)
	case h.err == nil && open:
		delete(c.faults, h.name)
		c.log.Info("device recovered", "device", h.name)
		a := c.alertBase(id, typ, AlertEnd, "info", "device recovered")
		a.Device = h.name
		_ = c.record(TopicAlert, a.ID, &a.Seq, &a)
	}
	c.publishState()
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

func (c *Controller) event(kind string, v Verdict) Event {
	decision := "denied"
	if v.Admit {
		decision = "admitted"
	}
	reasons := v.Reasons
	if reasons == nil {
		reasons = []Reason{}
	}
	return Event{V: PayloadVersion, ID: newID(), Site: c.o.Site, Gate: c.o.Gate,
		Time: c.o.Now().UTC(), Kind: kind, Decision: decision, Reasons: reasons, Mode: c.mode}
}

func (c *Controller) alert(typ, state, severity string, ev Event, msg string) {
	c.alertWithID(newID(), typ, state, severity, ev, msg)
}

func (c *Controller) alertWithID(id, typ, state, severity string, ev Event, msg string) {
	a := c.alertBase(id, typ, state, severity, msg)
	a.Event, a.Holder, a.Reading = ev.ID, ev.Holder, ev.Reading
	if err := c.record(TopicAlert, a.ID, &a.Seq, &a); err != nil {
		c.log.Error("alert not recorded", "type", typ, "err", err)
	}
}

func (c *Controller) alertBase(id, typ, state, severity, msg string) Alert {
	return Alert{V: PayloadVersion, ID: newID(), AlertID: id, Site: c.o.Site, Gate: c.o.Gate,
		Time: c.o.Now().UTC(), Type: typ, State: state, Severity: severity, Message: msg}
}

// record numbers a message (setting *seq before marshalling v, a pointer to
// the message) and stores it.
func (c *Controller) record(topic, id string, seq *uint64, v any) error {
	c.seq++
	*seq = c.seq
	err := c.o.Recorder.Record(Message{Seq: c.seq, ID: id, Topic: topic, Payload: marshal(v)})
	if err != nil {
		c.seq-- // the number was not used
		c.onRecordError(err)
		return fmt.Errorf("gate: record %s: %w", topic, err)
	}
	if s := c.devices["outbox"]; s != "ok" && s != "" {
		// Writable again: end (or update, if still nearly full) the alert.
		var health error
		if h, ok := c.o.Recorder.(interface{ Health() error }); ok {
			health = h.Health()
		}
		c.onHealth(deviceHealth{"outbox", health})
	}
	return nil
}

// onRecordError puts the outbox in fault: the state topic and the log carry
// it at once; the outbox alert is recorded when the outbox takes records again.
func (c *Controller) onRecordError(err error) {
	if c.devices["outbox"] == err.Error() {
		return
	}
	c.devices["outbox"] = err.Error()
	c.log.Error("outbox unwritable: gate in fail mode", "err", err)
	if _, open := c.faults["outbox"]; !open {
		c.faults["outbox"] = newID()
		c.outboxLost = fmt.Sprintf("outbox refused records from %s: %v; entries were denied meanwhile",
			c.o.Now().UTC().Format(time.RFC3339), err)
	}
	c.publishState()
}

func (c *Controller) publishState() {
	if c.o.State == nil {
		return
	}
	devices := make(map[string]string, len(c.devices))
	for k, v := range c.devices {
		devices[k] = v
	}
	c.o.State.SetState(marshal(State{V: PayloadVersion, Site: c.o.Site, Gate: c.o.Gate,
		Time: c.o.Now().UTC(), Mode: c.mode, Lane: c.lane, FireAlarm: c.fireAlert != "",
		Devices: devices, OutboxDepth: c.o.Recorder.Depth()}))
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }
