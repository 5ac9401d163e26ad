package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr error
		want    []string
	}{
		{"demo config", []string{"-c", "../../configs/demo.yaml"}, nil, []string{"ok (site demo-plant, gate lane-1"}},
		{"raspberry pi config", []string{"-c", "../../configs/raspberrypi.yaml"}, nil, []string{"ok (site plant-1"}},
		{"unknown key named with its line", []string{"-c", "../../configs/testdata/bad/unknown-key.yaml"}, errInvalidConfig,
			[]string{`line 7: unknown key "gpio.relay.pluse"`, `line 9: unknown key "mqtt.brokr"`}},
		{"every range problem", []string{"-c", "../../configs/testdata/bad/ranges.yaml"}, errInvalidConfig,
			[]string{"gpio.relay.pulse: 50ms is outside", "thermal.fever_c: 39.5 is outside", "policy.fever_action"}},
		{"unknown key in a list item", []string{"-c", "../../configs/testdata/bad/operator-unknown-key.yaml"}, errInvalidConfig,
			[]string{`line 12: unknown key "commands.operators[0].alow"`, `line 14: unknown key "commands.operators[1].publickey"`}},
		{"operator without allow", []string{"-c", "../../configs/testdata/bad/operator-no-allow.yaml"}, errInvalidConfig,
			[]string{"commands.operators[0].allow: is required", "commands.operators[1].allow: is required"}},
		{"missing file", []string{"-c", "/nonexistent.yaml"}, errInvalidConfig, []string{"no such file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := cmdCheck(tt.args, &out)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"frobnicate"}, {"check"}, {"simulate", "-c", "x.yaml"}} {
		err := run(context.Background(), args)
		var u usageError
		if !errors.As(err, &u) || exitCode(err) != 2 {
			t.Errorf("%v: err = %v, want a usage error", args, err)
		}
	}
}

func TestSimulateRefusesRealHardware(t *testing.T) {
	err := cmdSimulate(context.Background(), []string{"-c", "../../configs/raspberrypi.yaml", "../../configs/scenarios/demo.yaml"})
	if err == nil || !strings.Contains(err.Error(), "must set gpio.driver") {
		t.Fatalf("err = %v", err)
	}
}
