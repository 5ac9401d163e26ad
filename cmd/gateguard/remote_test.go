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
			if got := liveOf(cfg).Policy; got != tc.want {
				t.Errorf("reload policy %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestLiveKeys: a reload applies only keys whose every user reads them
// again; thermal.min_skin_c is also baked into the thermometer's liveness
// check at start, so it needs a restart (a reload used to apply it to the
// decision alone).
func TestLiveKeys(t *testing.T) {
	for _, tc := range []struct {
		key  string
		live bool
	}{
		{"thermal.fever_c", true},
		{"thermal.cold_c", true},
		{"thermal.max_age", true},
		{"thermal.min_skin_c", false},
		{"thermal.borderline_c", false},
		{"thermal.fail_mode", false},
		{"policy.check_timeout", true},
		{"policy.require_face", true},
		{"commands.operators", true},
		{"commands.nonce_file", false},
		{"camera.fps", false},
	} {
		if got := isLive(tc.key); got != tc.live {
			t.Errorf("isLive(%q) = %v, want %v", tc.key, got, tc.live)
		}
	}
}
