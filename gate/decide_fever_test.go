package gate

import (
	"slices"
	"testing"
)

// coreEstimate is the core model vision/fusion's meter applies
// (core = skin + offset + k·(skin − ambient)), so that these cases read as
// the site's settings and measurements that produce them.
func coreEstimate(skin, offset, k, ambient float64) *Reading {
	a := ambient
	return &Reading{SkinC: skin, CoreC: skin + offset + k*(skin-ambient), AmbientC: &a}
}

// TestDecideFeverBoundaries: the fever decision is on the core estimate, at
// and around fever_c, with either fever_action, and never on the skin
// temperature alone.
func TestDecideFeverBoundaries(t *testing.T) {
	deny := Policy{FeverC: 37.3, ColdC: 34.5, MinSkinC: 30, RequireFace: true, RequireTemperature: true}
	logOnly := deny
	logOnly.FeverLogOnly = true
	banded := deny
	banded.BorderlineC = 0.3 // the band is the controller's re-measure; Decide decides what it is given
	green := &Credential{Status: StatusGreen, Verified: true, Holder: "alice"}
	core := func(c float64) *Reading { return &Reading{SkinC: 36.8, CoreC: c} }
	tests := []struct {
		name    string
		p       Policy
		r       *Reading
		admit   bool
		reasons []Reason
		fever   bool
	}{
		{"core exactly at fever_c", deny, core(37.3), false, []Reason{ReasonFever}, true},
		{"core 0.01 below fever_c", deny, core(37.29), true, nil, false},
		{"core 0.01 below fever_c, borderline band configured", banded, core(37.29), true, nil, false},
		{"core 0.01 above fever_c", deny, core(37.31), false, []Reason{ReasonFever}, true},
		{"core far above", deny, core(39.5), false, []Reason{ReasonFever}, true},
		{"skin above fever_c, negative offset brings core below", deny, coreEstimate(37.6, -0.5, 0, 22),
			true, nil, false},
		{"skin above fever_c, core below through ambient k in a hot room", deny, coreEstimate(37.4, 0, 0.1, 39),
			true, nil, false},
		{"skin above fever_c, ambient k brings core exactly to fever_c", deny, coreEstimate(37.4, 0, 0.05, 39.4),
			false, []Reason{ReasonFever}, true},
		{"skin below fever_c, offset brings core to it", deny, coreEstimate(36.8, 0.5, 0, 22),
			false, []Reason{ReasonFever}, true},
		{"skin below fever_c, ambient k in a cold room brings core above", deny, coreEstimate(36.6, 0.2, 0.04, 10),
			false, []Reason{ReasonFever}, true},
		{"skin below fever_c, offset and k keep core below", deny, coreEstimate(36.6, 0.2, 0.02, 22),
			true, nil, false},
		{"fever_action log: at fever_c admits, logged", logOnly, core(37.3), true, []Reason{ReasonFeverLogged}, true},
		{"fever_action log: 0.01 below is no fever", logOnly, core(37.29), true, nil, false},
		{"fever_action log: far above admits, logged", logOnly, core(39.5), true, []Reason{ReasonFeverLogged}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Decide(tt.p, Attempt{Credential: green, FaceSeen: true, Reading: tt.r})
			if v.Admit != tt.admit || !slices.Equal(v.Reasons, tt.reasons) || v.Fever != tt.fever || v.Spoof {
				t.Errorf("core %.3f skin %.2f: Decide = %+v; want admit %v reasons %v fever %v",
					tt.r.CoreC, tt.r.SkinC, v, tt.admit, tt.reasons, tt.fever)
			}
		})
	}
}
