package gate

import (
	"slices"
	"testing"
)

// TestDecideFaces: face binding and verification are ordinary inputs of the
// one pure decision.
func TestDecideFaces(t *testing.T) {
	p := Policy{FeverC: 37.3, ColdC: 34.5, MinSkinC: 30, RequireFace: true, RequireTemperature: true}
	with := func(f func(*Policy)) Policy { q := p; f(&q); return q }
	green := &Credential{Status: StatusGreen, Verified: true, Holder: "alice"}
	face := &Credential{Status: StatusGreen, Verified: true, Kind: CredentialFace, Holder: "bob"}
	read := func(skin float64) *Reading { return &Reading{SkinC: skin, CoreC: skin} }
	yes, no := true, false
	screenAll := with(func(p *Policy) { p.MultipleFaces = MultipleFacesScreenAll })
	tests := []struct {
		name    string
		p       Policy
		a       Attempt
		admit   bool
		reasons []Reason
		fever   bool
		spoof   bool
	}{
		{"enrolled holder matches", p, Attempt{Credential: green, FaceSeen: true, HolderEnrolled: true, FaceMatch: &yes, Reading: read(36.5)}, true, nil, false, false},
		{"enrolled holder, another face", p, Attempt{Credential: green, FaceSeen: true, HolderEnrolled: true, FaceMatch: &no, Reading: read(36.5)}, false, []Reason{ReasonFaceMismatch}, false, false},
		{"enrolled holder, face never compared", p, Attempt{Credential: green, FaceSeen: true, HolderEnrolled: true, Reading: read(36.5)}, false, []Reason{ReasonFaceUnverified}, false, false},
		{"unenrolled holder under enrolled", p, Attempt{Credential: green, FaceSeen: true, Reading: read(36.5)}, true, nil, false, false},
		{"unenrolled holder under always", with(func(p *Policy) { p.RequireMatch = MatchAlways }),
			Attempt{Credential: green, FaceSeen: true, Reading: read(36.5)}, false, []Reason{ReasonHolderNotEnrolled}, false, false},
		{"require_match off: an unverified enrolled face admits", with(func(p *Policy) { p.RequireMatch = MatchOff }),
			Attempt{Credential: green, FaceSeen: true, HolderEnrolled: true, Reading: read(36.5)}, true, nil, false, false},
		{"multiple faces deny", p, Attempt{Credential: green, FaceSeen: true, MultipleFaces: true, Reading: read(36.5)}, false, []Reason{ReasonMultipleFaces}, false, false},
		{"multiple faces deny even with no face bound", p, Attempt{Credential: green, MultipleFaces: true, TimedOut: true},
			false, []Reason{ReasonMultipleFaces, ReasonNoFace, ReasonCheckTimeout}, false, false},
		{"screen_all: companions healthy", screenAll, Attempt{Credential: green, FaceSeen: true, MultipleFaces: true, Reading: read(36.5),
			Companions: []Companion{{read(36.6)}, {read(36.4)}}}, true, nil, false, false},
		{"screen_all: a companion with fever", screenAll, Attempt{Credential: green, FaceSeen: true, MultipleFaces: true, Reading: read(36.5),
			Companions: []Companion{{read(38.5)}}}, false, []Reason{ReasonFever}, true, false},
		{"screen_all: holder and companion with fever: one reason", screenAll, Attempt{Credential: green, FaceSeen: true, MultipleFaces: true, Reading: read(38),
			Companions: []Companion{{read(38.5)}}}, false, []Reason{ReasonFever}, true, false},
		{"screen_all: a companion photo", screenAll, Attempt{Credential: green, FaceSeen: true, MultipleFaces: true, Reading: read(36.5),
			Companions: []Companion{{read(22)}}}, false, []Reason{ReasonNoBodyHeat}, false, true},
		{"screen_all: a companion unmeasured", screenAll, Attempt{Credential: green, FaceSeen: true, MultipleFaces: true, Reading: read(36.5),
			Companions: []Companion{{nil}}}, false, []Reason{ReasonCompanionUnscreened}, false, false},
		{"screen_all: companions ignored with one face", screenAll, Attempt{Credential: green, FaceSeen: true, Reading: read(36.5),
			Companions: []Companion{{nil}}}, true, nil, false, false},
		{"face credential with body heat", p, Attempt{Credential: face, FaceSeen: true, HolderEnrolled: true, FaceMatch: &yes, Reading: read(36.5)}, true, nil, false, false},
		{"face credential: photo", p, Attempt{Credential: face, FaceSeen: true, HolderEnrolled: true, FaceMatch: &yes, Reading: read(24)}, false, []Reason{ReasonNoBodyHeat}, false, true},
		{"face credential needs a reading when temperature is not required", with(func(p *Policy) { p.RequireTemperature = false }),
			Attempt{Credential: face, FaceSeen: true, HolderEnrolled: true, FaceMatch: &yes}, false, []Reason{ReasonNoTemperature}, false, false},
		{"face credential never fails open", with(func(p *Policy) { p.ThermalFailOpen = true }),
			Attempt{Credential: face, FaceSeen: true, HolderEnrolled: true, FaceMatch: &yes, ThermalUnavailable: true}, false, []Reason{ReasonThermalUnhealthy}, false, false},
		{"face credential under always is enrolled by definition", with(func(p *Policy) { p.RequireMatch = MatchAlways }),
			Attempt{Credential: face, FaceSeen: true, HolderEnrolled: true, FaceMatch: &yes, Reading: read(36.5)}, true, nil, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Decide(tt.p, tt.a)
			if v.Admit != tt.admit || !slices.Equal(v.Reasons, tt.reasons) || v.Fever != tt.fever || v.Spoof != tt.spoof {
				t.Errorf("Decide = %+v; want admit %v reasons %v fever %v spoof %v", v, tt.admit, tt.reasons, tt.fever, tt.spoof)
			}
		})
	}
}
