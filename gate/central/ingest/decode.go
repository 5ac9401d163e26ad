package ingest

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gateguard/gateguard/configs/schema"
	"github.com/gateguard/gateguard/device/thermal"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/central/store"
)

// Decoder turns received MQTT messages into the parts of a store.Batch. A
// message that is not valid against its schema, names another gate than its
// topic, or is on a topic outside the contract is quarantined with the
// reason: never dropped, never blocking the rest.
type Decoder struct {
	// Prefix is the topic prefix before <site>/<gate>/, e.g. gateguard/v1.
	Prefix  string
	Schemas *schema.Set
}

// Add decodes one message received at received into b.
func (d *Decoder) Add(b *store.Batch, topic string, payload []byte, received time.Time) {
	quarantine := func(reason string) {
		// Topic and reason go into text columns: valid UTF-8 without NUL,
		// or the database would refuse the whole batch.
		b.Quarantined = append(b.Quarantined, store.QuarantineRow{Received: received, Topic: clean(topic), Reason: clean(reason),
			Payload: append([]byte(nil), payload...)})
	}
	if !utf8.Valid(payload) {
		quarantine("payload is not valid UTF-8")
		return
	}
	rest, ok := strings.CutPrefix(topic, strings.TrimSuffix(d.Prefix, "/")+"/")
	parts := strings.SplitN(rest, "/", 3)
	if !ok || len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		quarantine(fmt.Sprintf("topic is not under %s/<site>/<gate>/", d.Prefix))
		return
	}
	site, g, rel := parts[0], parts[1], parts[2]
	if err := d.Schemas.ValidateTopic(rel, payload); err != nil {
		quarantine(err.Error())
		return
	}
	same := func(ps, pg string) bool {
		if ps == site && pg == g {
			return true
		}
		quarantine(fmt.Sprintf("payload names %s/%s but was published under %s/%s", ps, pg, site, g))
		return false
	}
	unmarshal := func(v any) bool {
		if err := json.Unmarshal(payload, v); err != nil {
			quarantine("decode: " + err.Error())
			return false
		}
		return true
	}
	// A NUL (\u0000) in a string is valid JSON but no database text column
	// takes it: one such message would make every retry of its batch fail.
	noNUL := func(fields ...string) bool {
		for _, f := range fields {
			if strings.IndexByte(f, 0) >= 0 {
				quarantine("a string holds a NUL character (\\u0000)")
				return false
			}
		}
		return true
	}
	switch {
	case rel == gate.TopicAvailability:
		b.Gates = append(b.Gates, store.GateUpdate{Site: site, Gate: g, Received: received, Availability: string(payload)})
	case rel == gate.TopicInfo:
		var in gate.Info
		if unmarshal(&in) && same(in.Site, in.Gate) && noNUL(in.Version, in.ConfigHash, in.CalibrationID) {
			b.Gates = append(b.Gates, store.GateUpdate{Site: site, Gate: g, Received: received, Info: &in})
		}
	case rel == gate.TopicState:
		var st gate.State
		if unmarshal(&st) && same(st.Site, st.Gate) && noNUL(append(mapStrings(st.Devices), string(st.Mode), st.Lane)...) {
			b.Gates = append(b.Gates, store.GateUpdate{Site: site, Gate: g, Received: received, State: &st})
		}
	case rel == gate.TopicAccess:
		var e gate.Event
		if unmarshal(&e) && same(e.Site, e.Gate) && noNUL(eventStrings(&e)...) {
			b.Events = append(b.Events, store.Event{Event: e, Raw: json.RawMessage(payload), Received: received})
		}
	case rel == gate.TopicAlert:
		var a gate.Alert
		if unmarshal(&a) && same(a.Site, a.Gate) &&
			noNUL(a.ID, a.AlertID, a.Type, a.State, a.Severity, a.Message, a.Event, a.Holder, a.Device, snapshotOf(a.Reading)) {
			b.Alerts = append(b.Alerts, store.Alert{Alert: a, Raw: json.RawMessage(payload), Received: received})
		}
	case strings.HasPrefix(rel, gate.TopicSnapshot+"/"):
		var s gate.Snapshot
		if !unmarshal(&s) || !same(s.Site, s.Gate) || !noNUL(s.Kind, s.ContentType) {
			return
		}
		if err := s.Check(rel); err != nil {
			quarantine(err.Error())
			return
		}
		b.Snapshots = append(b.Snapshots, store.Snapshot{Hash: s.Hash, Site: site, Gate: g, Kind: s.Kind,
			ContentType: s.ContentType, Data: s.Data, Time: received, Received: received})
	default:
		// In the contract, but not something gatewatch keeps (commands).
		quarantine(fmt.Sprintf("topic %q is not one gatewatch stores", rel))
	}
}

// Filters returns the subscriptions that receive everything Add stores.
func Filters(prefix string) []string {
	p := strings.TrimSuffix(prefix, "/") + "/+/+/"
	return []string{p + gate.TopicAvailability, p + gate.TopicInfo, p + gate.TopicState, p + "event/#", p + gate.TopicSnapshot + "/+"}
}

// clean makes s valid UTF-8 without NUL characters.
func clean(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

func mapStrings(m map[string]string) []string {
	out := make([]string, 0, 2*len(m))
	for k, v := range m {
		out = append(out, k, v)
	}
	return out
}

func snapshotOf(r *thermal.Reading) string {
	if r == nil {
		return ""
	}
	return r.Snapshot
}

// eventStrings are the strings of an event that go into text columns.
func eventStrings(e *gate.Event) []string {
	out := []string{e.ID, e.Kind, e.Decision, e.Holder, string(e.Mode)}
	for _, r := range e.Reasons {
		out = append(out, string(r))
	}
	return out
}
