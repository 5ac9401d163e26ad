package gate

import (
	"context"
	"fmt"
	"time"
)

// FeverHold is how long after a fever denial a remote open is refused
// unless it carries a signed override: the person just denied is likely the
// one asking the guard to open.
const FeverHold = 2 * time.Minute

// Reasons added to events caused by signed operator commands.
const (
	ReasonRemoteOpen Reason = "remote_open"
	ReasonOverride   Reason = "override" // a fever denial or a fire alarm was overridden
)

// Refusal reasons a remote command can get (RemoteResult.Refused).
const (
	RefusedAlreadyOpen = "already_open"      // fire alarm or free mode holds the lane open
	RefusedBusy        = "lane_busy"         // a check or an opening is in progress
	RefusedLocked      = "gate_locked"       // locked mode: change the mode first
	RefusedFever       = "fever_denial"      // a fever denial within FeverHold; needs an override
	RefusedUnlogged    = "outbox_unwritable" // the event could not be recorded: nothing is done unlogged
	RefusedRelay       = "relay_fault"       // the turnstile did not respond
)

// Remote identifies the signed command behind a remote action.
type Remote struct {
	// Operator is the id of the key that signed the command.
	Operator string
	// Request is the command's request id.
	Request string
	// Override is the signed override flag (the caller checked the key's
	// permission).
	Override bool
	// Reason is the operator's signed free-text reason (required with
	// Override; the caller checked it): recorded in the event as
	// operator_reason.
	Reason string
}

// RemoteResult says what a remote action did.
type RemoteResult struct {
	// Event is the id of the recorded access event; empty when none.
	Event string
	// Refused is why the gate declined; empty when it acted.
	Refused string
	// Detail explains Refused, or notes something about a success.
	Detail string
}

// LiveSettings is the part of the configuration that can change while the
// controller runs (a config reload).
type LiveSettings struct {
	Policy         Policy
	CheckTimeout   time.Duration
	PassageTimeout time.Duration
	RepeatSuppress time.Duration
	ThermalMaxAge  time.Duration
}

// remoteState is the controller's memory for remote commands, owned by Run.
type remoteState struct {
	lastFever time.Time // last fever denial
}

// noteVerdict remembers fever denials for FeverHold.
func (c *Controller) noteVerdict(v Verdict) {
	if v.Fever && !v.Admit {
		c.remote.lastFever = c.o.Now()
	}
}

// do runs f in Run's goroutine and waits for it; it returns ctx's error if
// ctx ends first (f may then still run later).
func (c *Controller) do(ctx context.Context, f func()) error {
	done := make(chan struct{})
	select {
	case c.calls <- func() { f(); close(done) }:
	case <-ctx.Done():
		return fmt.Errorf("gate: remote call: %w", ctx.Err())
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("gate: remote call: %w", ctx.Err())
	}
}

// RemoteOpen opens the lane once for an operator's signed command and
// records a remote_open access event naming the operator and the request.
// It refuses while the lane is busy or already held open, in locked mode,
// when the event cannot be recorded, and within FeverHold of a fever denial
// unless r.Override is set (which is logged loudly and recorded).
func (c *Controller) RemoteOpen(ctx context.Context, r Remote) (RemoteResult, error) {
	var res RemoteResult
	err := c.do(ctx, func() { res = c.remoteOpen(r) })
	return res, err
}

func (c *Controller) remoteOpen(r Remote) RemoteResult {
	log := c.log.With("operator", r.Operator, "request", r.Request, "reason", r.Reason)
	switch {
	case c.fireAlert != "" || c.mode == ModeFree:
		return RemoteResult{Refused: RefusedAlreadyOpen, Detail: "the lane is held open (" + c.lane + ", mode " + string(c.mode) + ")"}
	case c.lane != LaneIdle:
		return RemoteResult{Refused: RefusedBusy, Detail: "lane is " + c.lane}
	case c.mode == ModeLocked:
		return RemoteResult{Refused: RefusedLocked, Detail: "the gate is locked: set_mode normal first"}
	}
	reasons := []Reason{ReasonRemoteOpen}
	since := c.o.Now().Sub(c.remote.lastFever)
	if !c.remote.lastFever.IsZero() && since < FeverHold {
		if !r.Override {
			log.Warn("remote open refused: fever denial", "ago", since.Round(time.Second))
			return RemoteResult{Refused: RefusedFever, Detail: fmt.Sprintf(
				"a fever denial %v ago; only a signed override can open within %v", since.Round(time.Second), FeverHold)}
		}
		reasons = append(reasons, ReasonOverride)
		log.Error("OVERRIDE: remote open after a fever denial", "ago", since.Round(time.Second))
	}
	ev := c.event(KindRemoteOpen, Verdict{Admit: true, Reasons: reasons})
	ev.Decision = "opened"
	ev.Operator, ev.Request, ev.OperatorReason = r.Operator, r.Request, r.Reason
	if err := c.record(TopicAccess, ev.ID, &ev.Seq, &ev); err != nil {
		log.Error("remote open refused: not recorded", "err", err)
		return RemoteResult{Refused: RefusedUnlogged, Detail: err.Error()}
	}
	log.Info("remote open", "event", ev.ID)
	if err := c.o.Turnstile.Release(); err != nil {
		c.onHealth(deviceHealth{"relay", err})
		return RemoteResult{Event: ev.ID, Refused: RefusedRelay, Detail: err.Error()}
	}
	c.openedBy = ev.ID
	c.deadline = c.o.Now().Add(c.o.PassageTimeout)
	c.setLane(LaneOpen)
	return RemoteResult{Event: ev.ID}
}

// RemoteSetMode changes the operating mode for an operator's signed command
// and records a mode_change event naming the operator. While a fire alarm
// is latched the new mode is recorded but the lane stays open until the
// reset, unless r.Override is set: then the mode's turnstile state is
// applied at once (logged loudly, recorded with the override reason) and
// the alarm stays latched until the reset key.
func (c *Controller) RemoteSetMode(ctx context.Context, m Mode, r Remote) (RemoteResult, error) {
	var res RemoteResult
	err := c.do(ctx, func() { res = c.remoteSetMode(m, r) })
	return res, err
}

func (c *Controller) remoteSetMode(m Mode, r Remote) RemoteResult {
	log := c.log.With("operator", r.Operator, "request", r.Request, "reason", r.Reason)
	fire := c.fireAlert != ""
	if m == c.mode && !(fire && r.Override) {
		return RemoteResult{Detail: "already in mode " + string(m)}
	}
	ev := c.event(KindModeChange, Verdict{})
	ev.Decision = string(m)
	ev.Mode = m
	ev.Operator, ev.Request, ev.OperatorReason = r.Operator, r.Request, r.Reason
	if fire && r.Override {
		ev.Reasons = []Reason{ReasonFireAlarm, ReasonOverride}
	}
	if err := c.record(TopicAccess, ev.ID, &ev.Seq, &ev); err != nil {
		log.Error("mode change refused: not recorded", "err", err)
		return RemoteResult{Refused: RefusedUnlogged, Detail: err.Error()}
	}
	c.mode = m
	res := RemoteResult{Event: ev.ID}
	switch {
	case fire && r.Override:
		log.Error("OVERRIDE: fire alarm lane state overridden by a signed command", "mode", m)
		c.applyMode()
		res.Detail = "fire alarm overridden: lane set for mode " + string(m) + "; the alarm stays latched until reset"
	case fire:
		log.Warn("mode changed during a fire alarm: the lane stays open until reset", "mode", m)
		res.Detail = "the lane stays open until the fire alarm is reset"
	default:
		log.Info("mode changed", "mode", m)
		c.applyMode()
	}
	c.publishState()
	c.signalLane(nil, false)
	return res
}

// StatePayload returns the gate's current state payload, as published on
// the state topic, built in Run's goroutine.
func (c *Controller) StatePayload(ctx context.Context) ([]byte, error) {
	var b []byte
	err := c.do(ctx, func() { b = c.state().Payload() })
	return b, err
}

// Reconfigure applies a reloaded configuration's live part. An attempt in
// progress finishes under the old policy's deadline but is decided with the
// new policy.
func (c *Controller) Reconfigure(ctx context.Context, l LiveSettings) error {
	return c.do(ctx, func() {
		c.o.Policy = l.Policy
		if l.CheckTimeout > 0 {
			c.o.CheckTimeout = l.CheckTimeout
		}
		if l.PassageTimeout > 0 {
			c.o.PassageTimeout = l.PassageTimeout
		}
		c.o.RepeatSuppress = l.RepeatSuppress
		if l.ThermalMaxAge > 0 {
			c.o.ThermalMaxAge = l.ThermalMaxAge
		}
		c.log.Info("policy reloaded", "fever_c", l.Policy.FeverC, "fever_log_only", l.Policy.FeverLogOnly)
	})
}
