package lane_test

import (
	"testing"

	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/lane"
)

func entry(id, holder string, core float64, reasons ...gate.Reason) *gate.Event {
	ev := &gate.Event{ID: id, Kind: gate.KindEntry, Holder: holder, Reasons: reasons, Decision: "denied"}
	if len(reasons) == 0 || reasons[0] == gate.ReasonFeverLogged {
		ev.Decision = "admitted"
	}
	if core > 0 {
		ev.Reading = &gate.Reading{SkinC: core, CoreC: core}
	}
	return ev
}

func TestDerive(t *testing.T) {
	r := gate.Reason("")
	tests := []struct {
		name   string
		sig    gate.LaneSignal
		kind   lane.Kind
		reason gate.Reason
	}{
		{"idle", gate.LaneSignal{Lane: gate.LaneIdle, Mode: gate.ModeNormal}, lane.Idle, r},
		{"code seen", gate.LaneSignal{Lane: gate.LaneChecking}, lane.CodeSeen, r},
		{"step closer while checking", gate.LaneSignal{Lane: gate.LaneChecking, Hint: gate.ReasonTooFar}, lane.Remeasure, gate.ReasonTooFar},
		{"admitted", gate.LaneSignal{Lane: gate.LaneOpen, Entry: entry("e1", "alice", 36.6), Admitted: true}, lane.Admitted, r},
		{"fever", gate.LaneSignal{Entry: entry("e2", "bob", 38.1, gate.ReasonFever)}, lane.Fever, gate.ReasonFever},
		{"cold arrival", gate.LaneSignal{Entry: entry("e3", "dave", 33.2, gate.ReasonTooCold)}, lane.Remeasure, gate.ReasonTooCold},
		{"no face, timed out", gate.LaneSignal{Entry: entry("e4", "x", 0, gate.ReasonNoFace, gate.ReasonCheckTimeout)}, lane.Remeasure, gate.ReasonNoFace},
		{"a bad pass outranks the face", gate.LaneSignal{Entry: entry("e5", "", 0, gate.ReasonCredential, gate.ReasonNoFace)}, lane.Denied, gate.ReasonCredential},
		{"spoof", gate.LaneSignal{Entry: entry("e6", "", 25, gate.ReasonNoBodyHeat)}, lane.Denied, gate.ReasonNoBodyHeat},
		{"admitted, relay failed: see security", gate.LaneSignal{Entry: entry("e7", "alice", 36.6), Admitted: false}, lane.Denied, r},
		{"fire alarm outranks a decision", gate.LaneSignal{FireAlarm: true, Entry: entry("e8", "", 0, gate.ReasonFireAlarm)}, lane.FireAlarm, r},
		{"fire alarm", gate.LaneSignal{Lane: gate.LaneFireAlarm, FireAlarm: true}, lane.FireAlarm, r},
		{"exit button", gate.LaneSignal{Lane: gate.LaneOpen}, lane.Open, r},
		{"free mode", gate.LaneSignal{Lane: gate.LaneIdle, Mode: gate.ModeFree}, lane.Open, r},
		{"locked", gate.LaneSignal{Lane: gate.LaneIdle, Mode: gate.ModeLocked}, lane.Locked, r},
		{"maintenance", gate.LaneSignal{Lane: gate.LaneIdle, Mode: gate.ModeMaintenance}, lane.Maintenance, r},
		{"locked denial", gate.LaneSignal{Mode: gate.ModeLocked, Entry: entry("e9", "", 0, gate.ReasonLocked)}, lane.Denied, gate.ReasonLocked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := lane.Derive(tt.sig)
			if st.Kind != tt.kind || st.Reason != tt.reason {
				t.Fatalf("Derive = %s/%s, want %s/%s", st.Kind, st.Reason, tt.kind, tt.reason)
			}
			if ev := tt.sig.Entry; ev != nil && st.Kind != lane.FireAlarm {
				if st.Event != ev.ID || st.Decision != ev.Decision {
					t.Errorf("event %q decision %q, want the logged %q %q", st.Event, st.Decision, ev.ID, ev.Decision)
				}
			}
		})
	}
}

func TestAdmittedShowsNameAndTemperature(t *testing.T) {
	st := lane.Derive(gate.LaneSignal{Entry: entry("e1", "alice", 36.6), Admitted: true})
	if st.Name != "alice" || st.TempC == nil || *st.TempC != 36.6 {
		t.Fatalf("state %+v", st)
	}
	// fever_action: log admits; the lane never shows that reading.
	st = lane.Derive(gate.LaneSignal{Entry: entry("e2", "bob", 38, gate.ReasonFeverLogged), Admitted: true})
	if st.Kind != lane.Admitted || st.TempC != nil {
		t.Fatalf("fever logged only: %+v", st)
	}
}
