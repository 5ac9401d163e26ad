package configs

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestIsLive: a reload applies only keys whose every user reads them
// again; thermal.min_skin_c is also baked into the thermometer's liveness
// check at start, so it needs a restart (a reload used to apply it to the
// decision alone).
func TestIsLive(t *testing.T) {
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
		{"thermal.fever_cx", false},
		{"policy.check_timeout", true},
		{"policy.require_face", true},
		{"policyx.a", false},
		{"commands.operators", true},
		{"commands.nonce_file", false},
		{"camera.fps", false},
	} {
		if got := IsLive(tc.key); got != tc.live {
			t.Errorf("IsLive(%q) = %v, want %v", tc.key, got, tc.live)
		}
	}
}

// demoConfig parses configs/demo.yaml with edit applied to its text.
func demoConfig(t *testing.T, edit func(string) string) *Config {
	t.Helper()
	b, err := os.ReadFile("demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse([]byte(edit(string(b))), "demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const operatorsYAML = "\ncommands:\n  enabled: true\n  nonce_file: /n.json\n  operators:\n" +
	"    - id: desk\n      public_key: ed25519:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=\n      allow: [open]\n"

func TestChangedKeys(t *testing.T) {
	same := func(s string) string { return s }
	for _, tc := range []struct {
		name string
		edit func(string) string
		want []string
	}{
		{"no change", same, nil},
		{"a threshold", func(s string) string { return strings.Replace(s, "fever_c: 37.3", "fever_c: 37.6", 1) }, []string{"thermal.fever_c"}},
		{"two sections", func(s string) string {
			return strings.Replace(strings.Replace(s, "fever_c: 37.3", "fever_c: 37.6", 1), "fps: 10", "fps: 12", 1)
		}, []string{"camera.fps", "thermal.fever_c"}},
		{"an inline screening key", func(s string) string { return strings.Replace(s, "thermal:\n", "thermal:\n  borderline_c: 0.5\n", 1) },
			[]string{"thermal.borderline_c"}},
		{"a list compares whole", func(s string) string { return s + strings.Replace(operatorsYAML, "[open]", "[open, get_state]", 1) },
			[]string{"commands.operators"}},
		{"a comment only", func(s string) string { return "# edited\n" + s }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := demoConfig(t, same)
			if strings.Contains(tc.name, "list") {
				a = demoConfig(t, func(s string) string { return s + operatorsYAML })
			}
			got, err := ChangedKeys(a, demoConfig(t, tc.edit))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("ChangedKeys = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestPlanReload: the running config after a reload has every live key's
// new value and every other key's old one, and the changed keys are split
// into applied and restart_required by the same list.
func TestPlanReload(t *testing.T) {
	for _, tc := range []struct {
		name             string
		edit             func(string) string
		applied, restart []string
		check            func(t *testing.T, old, running *Config)
	}{
		{"thresholds and policy apply, camera and min_skin_c wait", func(s string) string {
			s = strings.Replace(s, "fever_c: 37.3", "fever_c: 37.6", 1)
			s = strings.Replace(s, "fps: 10", "fps: 12", 1)
			s = strings.Replace(s, "min_skin_c: 30.0", "min_skin_c: 31", 1)
			s = strings.Replace(s, "cold_c: 34.5", "cold_c: 35\n  max_age: 2s", 1)
			return strings.Replace(s, "check_timeout: 3s", "check_timeout: 7s", 1)
		}, []string{"policy.check_timeout", "thermal.cold_c", "thermal.fever_c", "thermal.max_age"},
			[]string{"camera.fps", "thermal.min_skin_c"},
			func(t *testing.T, old, r *Config) {
				if r.Thermal.FeverC != 37.6 || r.Thermal.ColdC != 35 || r.Thermal.MaxAge != 2*time.Second ||
					r.Policy.CheckTimeout != 7*time.Second {
					t.Errorf("live values not applied: thermal %+v policy %+v", r.Thermal, r.Policy)
				}
				if r.Camera.FPS != old.Camera.FPS || r.Thermal.MinSkinC != old.Thermal.MinSkinC {
					t.Errorf("restart-only values applied: fps %d min_skin_c %v", r.Camera.FPS, r.Thermal.MinSkinC)
				}
			}},
		{"operators apply", func(s string) string { return s + operatorsYAML },
			[]string{"commands.operators"}, []string{"commands.enabled", "commands.nonce_file"},
			func(t *testing.T, old, r *Config) {
				if len(r.Commands.Operators) != 1 || r.Commands.Operators[0].ID != "desk" || r.Commands.Enabled {
					t.Errorf("commands %+v", r.Commands)
				}
			}},
		{"no change", func(s string) string { return s }, nil, nil,
			func(t *testing.T, old, r *Config) {
				if !reflect.DeepEqual(old, r) {
					t.Errorf("running %+v, want %+v", r, old)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old := demoConfig(t, func(s string) string { return s })
			want := *old
			next := demoConfig(t, tc.edit)
			p, err := PlanReload(old, next)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(p.Applied, tc.applied) || !slices.Equal(p.RestartRequired, tc.restart) {
				t.Errorf("applied %v restart %v, want %v and %v", p.Applied, p.RestartRequired, tc.applied, tc.restart)
			}
			tc.check(t, old, p.Running)
			if !reflect.DeepEqual(*old, want) {
				t.Error("PlanReload changed the running config in place")
			}
			// Everything the plan did not apply still differs from next, and
			// nothing else does: the applied values and the list agree.
			rest, err := ChangedKeys(p.Running, next)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(rest, tc.restart) {
				t.Errorf("running still differs from the file in %v, want only %v", rest, tc.restart)
			}
		})
	}
}

// TestLiveKeysNameFields: every live key names a config field, so
// PlanReload copies each one.
func TestLiveKeysNameFields(t *testing.T) {
	for _, k := range liveKeys {
		if _, ok := fieldAt(reflect.ValueOf(Default()).Elem(), strings.TrimSuffix(k, ".")); !ok {
			t.Errorf("live key %q names no field", k)
		}
	}
}
