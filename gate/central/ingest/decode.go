package ingest

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/gateguard/gateguard/configs/schema"
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
		b.Quarantined = append(b.Quarantined, store.QuarantineRow{Received: received, Topic: topic, Reason: reason,
			Payload: append([]byte(nil), payload...)})
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
	switch {
	case rel == gate.TopicAvailability:
		b.Gates = append(b.Gates, store.GateUpdate{Site: site, Gate: g, Received: received, Availability: string(payload)})
	case rel == gate.TopicInfo:
		var in gate.Info
		if unmarshal(&in) && same(in.Site, in.Gate) {
			b.Gates = append(b.Gates, store.GateUpdate{Site: site, Gate: g, Received: received, Info: &in})
		}
	case rel == gate.TopicState:
		var st gate.State
		if unmarshal(&st) && same(st.Site, st.Gate) {
			b.Gates = append(b.Gates, store.GateUpdate{Site: site, Gate: g, Received: received, State: &st})
		}
	case rel == gate.TopicAccess:
		var e gate.Event
		if unmarshal(&e) && same(e.Site, e.Gate) {
			b.Events = append(b.Events, store.Event{Event: e, Raw: json.RawMessage(payload), Received: received})
		}
	case rel == gate.TopicAlert:
		var a gate.Alert
		if unmarshal(&a) && same(a.Site, a.Gate) {
			b.Alerts = append(b.Alerts, store.Alert{Alert: a, Raw: json.RawMessage(payload), Received: received})
		}
	case strings.HasPrefix(rel, gate.TopicSnapshot+"/"):
		var s gate.Snapshot
		if !unmarshal(&s) || !same(s.Site, s.Gate) {
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
