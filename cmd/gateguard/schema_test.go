package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gateguard/gateguard/configs/schema"
	"github.com/gateguard/gateguard/gate"
)

// TestSchemasCoverEveryField marshals each published payload type with every
// field set and validates it against its schema: a field the code publishes
// that the schema does not describe fails here. A field the schema does not
// know is refused, so the check has teeth.
func TestSchemasCoverEveryField(t *testing.T) {
	s, err := schema.Load()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	f := func(v float64) *float64 { return &v }
	reading := &gate.Reading{SkinC: 36.5, CoreC: 36.9, ThresholdC: 37.3, Region: "canthus", BlackbodyC: f(35),
		CalibrationID: "cal-1", DriftC: f(0.1), AmbientC: f(22), NotSkin: "uniform", Measurements: 2,
		Snapshot: strings.Repeat("a", 64)}
	ev := gate.Event{V: gate.PayloadVersion, ID: "e", Seq: 1, Site: "s", Gate: "g", Time: now, Kind: gate.KindEntry,
		Decision: "admitted", Reasons: []gate.Reason{gate.ReasonInsecure}, Attempt: "a", Holder: "h",
		Credential: &gate.Credential{Status: gate.StatusGreen, Verified: true, Insecure: true, Holder: "h", Issuer: "i",
			Kind: "site_pass", Reasons: []string{"r"}, ID: "p-1", ValidFrom: &now, ValidUntil: &now},
		Colour: "green", FaceSeen: true, Reading: reading, Mode: gate.ModeNormal, Operator: "o", Request: "r", Replayed: true}
	al := gate.Alert{V: gate.PayloadVersion, ID: "m", AlertID: "a", Seq: 2, Site: "s", Gate: "g", Time: now,
		Type: gate.AlertFever, State: gate.AlertNew, Severity: "warning", Message: "x", Event: "e", Holder: "h",
		Device: "thermal", Reading: reading, Replayed: true}
	st := gate.State{V: gate.PayloadVersion, Site: "s", Gate: "g", Time: now, Mode: gate.ModeNormal, Lane: gate.LaneIdle,
		FireAlarm: true, Devices: map[string]string{"relay": "ok"}, OutboxDepth: 3}
	for _, tc := range []struct {
		topic string
		v     any
	}{
		{gate.TopicAccess, ev},
		{gate.TopicAlert, al},
		{gate.TopicState, st},
	} {
		b, err := json.Marshal(tc.v)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.ValidateTopic(tc.topic, b); err != nil {
			t.Errorf("%s: %v\n%s", tc.topic, err, b)
		}
	}
	// The check has teeth: an undescribed credential field is refused.
	b, _ := json.Marshal(ev)
	b = []byte(strings.Replace(string(b), `"verified":true`, `"verified":true,"unknown":1`, 1))
	if err := s.ValidateTopic(gate.TopicAccess, b); err == nil {
		t.Error("an access event with an undescribed credential field validates")
	}
}
