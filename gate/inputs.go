package gate

import "time"

// Digital inputs, operating modes and device health.

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
		if ev.Active {
			c.onPassage()
		}
	case InputExitButton:
		if ev.Active {
			c.onExitButton()
		}
	}
}

// onPassage closes the current opening, or records a passage nobody was
// admitted for: one while the lane is secured (idle, or checking someone),
// or a second one after an opening was already passed. A lane held open
// (fire alarm, free mode) lets anyone through and records nothing.
func (c *Controller) onPassage() {
	switch {
	case c.lane == LaneOpen:
		c.passage(true)
	case c.lane == LaneFireAlarm || c.mode == ModeFree:
	default:
		c.tailgating()
	}
}

// tailgating records an unauthorised passage and raises the lane's
// tailgating alert, rate-limited per lane like per-person alerts.
func (c *Controller) tailgating() {
	ev := c.event(KindPassage, Verdict{})
	ev.Decision = DecisionUnauthorised
	if err := c.record(TopicAccess, ev.ID, &ev.Seq, &ev); err != nil {
		c.log.Error("unauthorised passage not recorded", "err", err)
	}
	c.log.Warn("unauthorised passage: nobody was admitted", "lane", c.lane)
	c.personalAlert(AlertTailgating, "warning", laneKey, ev,
		"passage with nobody admitted (tailgating or a forced turnstile), lane "+c.lane)
}

// laneKey is the "person" of the lane's own rate-limited alerts
// (tailgating): per-person alerts are keyed by type and person, and no
// per-person alert has such a type, so it never meets a person's key.
const laneKey = "lane"

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
	c.signalLane(nil, false)
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

// onReportedHealth takes a health report from DeviceHealth.
func (c *Controller) onReportedHealth(h deviceHealth) {
	if h.name == DeviceOutbox {
		c.outboxHealth = h.err
	}
	c.onHealth(h)
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
	if h.err != nil {
		c.o.Metrics.DeviceFault(h.name)
	}
	id, open := c.faults[h.name]
	typ, msg := AlertDeviceFault, "device fault: "+status
	if h.name == DeviceOutbox {
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
