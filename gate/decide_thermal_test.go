package gate

import (
	"slices"
	"testing"
)

func TestDecideScreening(t *testing.T) {
	p := Policy{FeverC: 37.3, ColdC: 34.5, MinSkinC: 30, RequireFace: true, RequireTemperature: true, BorderlineC: 0.3}
	open := p
	open.ThermalFailOpen = true
	green := &Credential{Status: StatusGreen, Verified: true, Holder: "alice"}
	tests := []struct {
		name    string
		p       Policy
		a       Attempt
		admit   bool
		reasons []Reason
		spoof   bool
	}{
		{"warm screen is a spoof", p, Attempt{Credential: green, FaceSeen: true,
			Reading: &Reading{SkinC: 36.4, CoreC: 36.4, NotSkin: "uniform warm surface"}}, false, []Reason{ReasonNoBodyHeat}, true},
		{"screening unavailable denies", p, Attempt{Credential: green, FaceSeen: true, ThermalUnavailable: true},
			false, []Reason{ReasonThermalUnhealthy}, false},
		{"screening unavailable, fail open", open, Attempt{Credential: green, FaceSeen: true, ThermalUnavailable: true},
			true, []Reason{ReasonUnscreened}, false},
		{"screening unavailable, temperature not required", Policy{FeverC: 37.3, ColdC: 34.5, MinSkinC: 30, RequireFace: true},
			Attempt{Credential: green, FaceSeen: true, ThermalUnavailable: true}, true, []Reason{ReasonUnscreened}, false},
		{"fail open still needs a good credential", open, Attempt{Credential: &Credential{Status: StatusRed}, FaceSeen: true, ThermalUnavailable: true},
			false, []Reason{ReasonCredential, ReasonUnscreened}, false},
		{"a reading wins over unavailability", p, Attempt{Credential: green, FaceSeen: true, ThermalUnavailable: true, Reading: &Reading{SkinC: 36.4, CoreC: 36.4}},
			true, nil, false},
		{"too far", p, Attempt{Credential: green, FaceSeen: true, Remeasure: ReasonTooFar, TimedOut: true},
			false, []Reason{ReasonTooFar, ReasonCheckTimeout}, false},
		{"borderline unconfirmed", p, Attempt{Credential: green, FaceSeen: true, Remeasure: ReasonBorderline, TimedOut: true},
			false, []Reason{ReasonBorderline, ReasonCheckTimeout}, false},
		{"cold arrival never passes, even far below", p, Attempt{Credential: green, FaceSeen: true, Reading: &Reading{SkinC: 31, CoreC: 31.5}},
			false, []Reason{ReasonTooCold}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Decide(tt.p, tt.a)
			if v.Admit != tt.admit || !slices.Equal(v.Reasons, tt.reasons) || v.Spoof != tt.spoof {
				t.Errorf("Decide = %+v; want admit %v reasons %v spoof %v", v, tt.admit, tt.reasons, tt.spoof)
			}
		})
	}
}
