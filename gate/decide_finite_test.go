package gate

import (
	"math"
	"slices"
	"testing"
)

// TestDecideNonFiniteReading: a NaN or an infinity, in the skin temperature
// or the core estimate, is no reading: screening is unavailable and the
// thermal fail mode decides; never a pass on a comparison NaN fails.
func TestDecideNonFiniteReading(t *testing.T) {
	p := Policy{FeverC: 37.3, ColdC: 34.5, MinSkinC: 30, RequireFace: true, RequireTemperature: true, BorderlineC: 0.3}
	open := p
	open.ThermalFailOpen = true
	green := &Credential{Status: StatusGreen, Verified: true, Holder: "alice"}
	nan, inf := math.NaN(), math.Inf(1)
	bad := func(f float64) *float64 { return &f }
	tests := []struct {
		name    string
		p       Policy
		r       Reading
		admit   bool
		reasons []Reason
	}{
		{"NaN core", p, Reading{SkinC: 36.5, CoreC: nan}, false, []Reason{ReasonThermalUnhealthy}},
		{"NaN skin", p, Reading{SkinC: nan, CoreC: 36.5}, false, []Reason{ReasonThermalUnhealthy}},
		{"NaN both", p, Reading{SkinC: nan, CoreC: nan}, false, []Reason{ReasonThermalUnhealthy}},
		{"+Inf core", p, Reading{SkinC: 36.5, CoreC: inf}, false, []Reason{ReasonThermalUnhealthy}},
		{"-Inf core", p, Reading{SkinC: 36.5, CoreC: -inf}, false, []Reason{ReasonThermalUnhealthy}},
		{"+Inf skin", p, Reading{SkinC: inf, CoreC: 36.5}, false, []Reason{ReasonThermalUnhealthy}},
		{"-Inf skin", p, Reading{SkinC: -inf, CoreC: 36.5}, false, []Reason{ReasonThermalUnhealthy}},
		{"NaN ambient", p, Reading{SkinC: 36.5, CoreC: 36.5, AmbientC: bad(nan)}, false, []Reason{ReasonThermalUnhealthy}},
		{"NaN core, fail mode admit", open, Reading{SkinC: 36.5, CoreC: nan}, true, []Reason{ReasonUnscreened}},
		{"finite reading still decides", p, Reading{SkinC: 36.5, CoreC: 36.5}, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.r
			v := Decide(tt.p, Attempt{Credential: green, FaceSeen: true, Reading: &r})
			if v.Admit != tt.admit || !slices.Equal(v.Reasons, tt.reasons) || v.Fever || v.Spoof {
				t.Errorf("Decide = %+v; want admit %v reasons %v, no fever, no spoof", v, tt.admit, tt.reasons)
			}
		})
	}
}
