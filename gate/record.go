package gate

import (
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Events and alerts: building, numbering, recording, and the retained state.

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
	if typ == AlertFaceMismatch {
		a.Face = ev.Face
	}
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
	if c.recordFailing {
		// Writable again: the refusal is over. The outbox's own health, as
		// last reported through DeviceHealth, is its state again: the
		// alert ends, or stays open while the outbox still reports trouble
		// (nearly full).
		c.recordFailing = false
		c.onHealth(deviceHealth{DeviceOutbox, c.outboxHealth})
	}
	return nil
}

// onRecordError puts the outbox in fault: the state topic and the log carry
// it at once; the outbox alert is recorded when the outbox takes records again.
func (c *Controller) onRecordError(err error) {
	c.recordFailing = true
	if c.devices[DeviceOutbox] == err.Error() {
		return
	}
	c.devices[DeviceOutbox] = err.Error()
	c.log.Error("outbox unwritable: gate in fail mode", "err", err)
	if _, open := c.faults[DeviceOutbox]; !open {
		c.faults[DeviceOutbox] = newID()
		c.outboxLost = fmt.Sprintf("outbox refused records from %s: %v; entries were denied meanwhile",
			c.o.Now().UTC().Format(time.RFC3339), err)
	}
	c.publishState()
}

func (c *Controller) publishState() {
	if c.o.State == nil {
		return
	}
	c.o.State.SetState(c.state().Payload())
}

// state is the gate's current retained state; the state topic and the
// get_state command both use it.
func (c *Controller) state() State {
	return State{Site: c.o.Site, Gate: c.o.Gate, Time: c.o.Now(), Mode: c.mode, Lane: c.lane,
		FireAlarm: c.fireAlert != "", Devices: c.devices, OutboxDepth: c.o.Recorder.Depth()}
}

// Payload is s as published on the state topic: the payload version set,
// the time in UTC, and the devices copied (never null).
func (s State) Payload() []byte {
	s.V = PayloadVersion
	s.Time = s.Time.UTC()
	devices := make(map[string]string, len(s.Devices))
	for k, v := range s.Devices {
		devices[k] = v
	}
	s.Devices = devices
	return marshal(s)
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }
