package gate

import (
	"slices"
	"testing"
)

func TestDecide(t *testing.T) {
	p := Policy{FeverC: 37.3, ColdC: 34.5, MinSkinC: 30, RequireFace: true, RequireTemperature: true}
	green := &Credential{Status: StatusGreen, Verified: true, Holder: "alice"}
	insecure := &Credential{Status: StatusGreen, Insecure: true, Holder: "alice"}
	unverified := &Credential{Status: StatusGreen, Holder: "alice"}
	red := &Credential{Status: StatusRed, Verified: true}
	read := func(skin float64) *Reading { return &Reading{SkinC: skin, CoreC: skin} }
	yes, no := true, false
	tests := []struct {
		name    string
		p       Policy
		a       Attempt
		admit   bool
		reasons []Reason
		fever   bool
		spoof   bool
	}{
		{"green, face, normal", p, Attempt{Credential: green, FaceSeen: true, Reading: read(36.5)}, true, nil, false, false},
		{"insecure credential admits and says so", p, Attempt{Credential: insecure, FaceSeen: true, Reading: read(36.5)}, true, []Reason{ReasonInsecure}, false, false},
		{"unverified green denies", p, Attempt{Credential: unverified, FaceSeen: true, Reading: read(36.5)}, false, []Reason{ReasonCredential}, false, false},
		{"red denies", p, Attempt{Credential: red, FaceSeen: true, Reading: read(36.5)}, false, []Reason{ReasonCredential}, false, false},
		{"no credential", p, Attempt{FaceSeen: true, Reading: read(36.5)}, false, []Reason{ReasonNoCredential}, false, false},
		{"fever at threshold", p, Attempt{Credential: green, FaceSeen: true, Reading: read(37.3)}, false, []Reason{ReasonFever}, true, false},
		{"just below threshold", p, Attempt{Credential: green, FaceSeen: true, Reading: read(37.29)}, true, nil, false, false},
		{"fever log only admits", Policy{FeverC: 37.3, ColdC: 34.5, MinSkinC: 30, FeverLogOnly: true, RequireFace: true, RequireTemperature: true},
			Attempt{Credential: green, FaceSeen: true, Reading: read(38)}, true, []Reason{ReasonFeverLogged}, true, false},
		{"core offset pushes over", p, Attempt{Credential: green, FaceSeen: true, Reading: &Reading{SkinC: 36.9, CoreC: 37.4}}, false, []Reason{ReasonFever}, true, false},
		{"photo: no body heat", p, Attempt{Credential: green, FaceSeen: true, Reading: read(24)}, false, []Reason{ReasonNoBodyHeat}, false, true},
		{"cold arrival re-measures", p, Attempt{Credential: green, FaceSeen: true, Reading: read(33.2)}, false, []Reason{ReasonTooCold}, false, false},
		{"no face", p, Attempt{Credential: green, TimedOut: true}, false, []Reason{ReasonNoFace, ReasonCheckTimeout}, false, false},
		{"only poor faces", p, Attempt{Credential: green, PoorFace: true, TimedOut: true}, false, []Reason{ReasonPoorFace, ReasonCheckTimeout}, false, false},
		{"face without temperature", p, Attempt{Credential: green, FaceSeen: true, TimedOut: true}, false, []Reason{ReasonNoTemperature, ReasonCheckTimeout}, false, false},
		{"temperature not required", Policy{FeverC: 37.3, ColdC: 34.5, MinSkinC: 30, RequireFace: true}, Attempt{Credential: green, FaceSeen: true}, true, nil, false, false},
		{"face mismatch", p, Attempt{Credential: green, FaceSeen: true, FaceMatch: &no, Reading: read(36.5)}, false, []Reason{ReasonFaceMismatch}, false, false},
		{"face match", p, Attempt{Credential: green, FaceSeen: true, FaceMatch: &yes, Reading: read(36.5)}, true, nil, false, false},
		{"locked mode", p, Attempt{Mode: ModeLocked, Credential: green, FaceSeen: true, Reading: read(36.5)}, false, []Reason{ReasonLocked}, false, false},
		{"maintenance mode", p, Attempt{Mode: ModeMaintenance, Credential: green, FaceSeen: true, Reading: read(36.5)}, false, []Reason{ReasonLocked}, false, false},
		{"fire alarm denies an otherwise good attempt", p, Attempt{Credential: green, FaceSeen: true, Reading: read(36.5), FireAlarm: true},
			false, []Reason{ReasonFireAlarm}, false, false},
		{"fire alarm comes after the check timeout", p, Attempt{Credential: green, TimedOut: true, FireAlarm: true},
			false, []Reason{ReasonNoFace, ReasonCheckTimeout, ReasonFireAlarm}, false, false},
		{"fire alarm alone is no check timeout", p, Attempt{Credential: green, FaceSeen: true, Reading: read(36.5), TimedOut: true, FireAlarm: true},
			false, []Reason{ReasonFireAlarm}, false, false},
		{"fire alarm: an insecure credential is not an admission", p, Attempt{Credential: insecure, FaceSeen: true, Reading: read(36.5), FireAlarm: true},
			false, []Reason{ReasonFireAlarm}, false, false},
		{"fire alarm denies a logged fever", Policy{FeverC: 37.3, ColdC: 34.5, MinSkinC: 30, FeverLogOnly: true, RequireFace: true, RequireTemperature: true},
			Attempt{Credential: green, FaceSeen: true, Reading: read(38), FireAlarm: true}, false, []Reason{ReasonFeverLogged, ReasonFireAlarm}, true, false},
		{"every reason at once", p, Attempt{Mode: ModeLocked, Credential: red, FaceSeen: true, Reading: read(38.5), TimedOut: true, FireAlarm: true},
			false, []Reason{ReasonLocked, ReasonCredential, ReasonFever, ReasonCheckTimeout, ReasonFireAlarm}, true, false},
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

func TestVerdictString(t *testing.T) {
	if s := (Verdict{Admit: false, Reasons: []Reason{ReasonFever, ReasonNoFace}}).String(); s != "denied: fever, no_face" {
		t.Errorf("got %q", s)
	}
	if s := (Verdict{Admit: true}).String(); s != "admitted" {
		t.Errorf("got %q", s)
	}
}
