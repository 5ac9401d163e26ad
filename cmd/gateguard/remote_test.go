package main

import (
	"os"
	"strings"
	"testing"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/gate"
)

// TestReloadKeepsPolicy: the live configuration a reload hands the
// controller carries every policy field the daemon started with, including
// the borderline band and the thermal fail mode (a reload used to turn both
// off).
func TestReloadKeepsPolicy(t *testing.T) {
	demo, err := os.ReadFile("../../configs/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, thermal string
		want          gate.Policy
	}{
		{"defaults", "", gate.Policy{FeverC: 37.3, ColdC: 34.5, MinSkinC: 30, RequireFace: true,
			RequireTemperature: true, BorderlineC: configs.DefaultScreening().BorderlineC}},
		{"admit and wide band", "  fail_mode: admit\n  borderline_c: 0.5\n", gate.Policy{FeverC: 37.3, ColdC: 34.5,
			MinSkinC: 30, RequireFace: true, RequireTemperature: true, BorderlineC: 0.5, ThermalFailOpen: true}},
		{"band off", "  borderline_c: 0\n", gate.Policy{FeverC: 37.3, ColdC: 34.5, MinSkinC: 30,
			RequireFace: true, RequireTemperature: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			y := strings.Replace(string(demo), "thermal:\n", "thermal:\n"+tc.thermal, 1)
			cfg, err := configs.Parse([]byte(y), tc.name)
			if err != nil {
				t.Fatal(err)
			}
			// The face rules' defaults (faces.go) are in every policy too.
			tc.want.MultipleFaces, tc.want.RequireMatch, tc.want.ZoneMinEyePx = gate.MultipleFacesDeny, gate.MatchEnrolled, 15
			if got := liveOf(cfg).Policy; got != tc.want {
				t.Errorf("reload policy %+v, want %+v", got, tc.want)
			}
		})
	}
}
