package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/scenario"
	"github.com/gateguard/gateguard/vision/fusion"
)

// mounted is where the simulated thermal camera really looks: beside the
// face camera, a little rotated, smaller field of view, some perspective —
// not the shared field of view the uncalibrated gate assumes.
var mounted = fusion.Homography{0.045 * math.Cos(0.05), -0.045 * math.Sin(0.05), 2.5,
	0.045 * math.Sin(0.05), 0.045 * math.Cos(0.05), 1.8, 0.00003, 0.00002, 1}

// TestCalibrateThenScreen calibrates the simulated cameras with the heated
// target, checks the registration against the true mount, then screens
// people through it: with the calibration they are measured right, and
// every reading names the calibration.
func TestCalibrateThenScreen(t *testing.T) {
	cfg := presenceConfig(t)
	cal := calibrateSimulated(t, cfg)
	for y := 60.0; y <= 420; y += 60 {
		for x := 80.0; x <= 560; x += 80 {
			want, _ := mounted.Apply(fusion.Point{X: x, Y: y})
			got, _ := cal.Homography.Apply(fusion.Point{X: x, Y: y})
			if e := math.Hypot(got.X-want.X, got.Y-want.Y); e > 0.15 {
				t.Errorf("(%v, %v) maps %.3f thermal pixels off the mount", x, y, e)
			}
		}
	}
	path := filepath.Join(t.TempDir(), "calibration.json")
	if err := fusion.WriteCalibration(path, cal); err != nil {
		t.Fatal(err)
	}

	// Screen through it.
	cfg.Thermal.CalibrationFile = path
	sc, err := scenario.Parse([]byte(`
steps:
  - arrive: {qr: "A", face: "gocv:face.jpg", skin_c: 36.2, canthus_c: 36.5, walk: true}
    expect: admitted
  - arrive: {qr: "B", face: "gocv:face.jpg", skin_c: 37.6, canthus_c: 38.2}
    expect: denied
    expect_reasons: [fever]
  - arrive: {qr: "C", face: "gocv:face.jpg"}
    expect: denied
    expect_reasons: [no_body_heat]
`))
	if err != nil {
		t.Fatal(err)
	}
	sc.Dir = "."
	var readings []*gate.Reading
	runScenario(t, cfg, sc, scenarioOpts{truth: &mounted, observe: func(m gate.Message) {
		var ev gate.Event
		if m.Topic == gate.TopicAccess && json.Unmarshal(m.Payload, &ev) == nil && ev.Kind == gate.KindEntry {
			readings = append(readings, ev.Reading)
		}
	}})
	if len(readings) != 3 {
		t.Fatalf("readings %v", readings)
	}
	for i, want := range []float64{36.5, 38.2} {
		r := readings[i]
		if r == nil || r.CalibrationID != cal.ID || math.Abs(r.SkinC-want) > 0.2 {
			t.Errorf("reading %d: %+v, want skin %.1f with calibration %s", i, r, want, cal.ID)
		}
	}
}

// calibrateSimulated calibrates the simulated cameras of cfg, the thermal
// one mounted as mounted says, from six target positions.
func calibrateSimulated(t *testing.T, cfg *configs.Config) *fusion.Calibration {
	t.Helper()
	var cl closers
	defer cl.close(testLog())
	hw := &simHardware{}
	cam, err := openCalibrationCamera(cfg.Camera, hw, &cl)
	if err != nil {
		t.Fatal(err)
	}
	th, err := openThermalSensor(cfg.Thermal, hw, &cl)
	if err != nil {
		t.Fatal(err)
	}
	bb := cfg.Thermal.Blackbody
	hw.placeBlackbody(bb)
	o := fusion.CollectOptions{Positions: 6, Steady: 3, MinContrastC: 5, Timeout: 20 * time.Second, Out: io.Discard,
		Exclude: bb.Region(), Far: fusion.FarEnough(hw.camera.Size()),
		Show: simTarget(hw.camera, hw.thermal, mounted, 6)}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cal, positions, err := calibrateWith(ctx, cam, th, hw.camera.Size(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("calibration %s: rms %.4f thermal px from %d positions", cal.ID, cal.RMSErrorPx, positions)
	return cal
}

func TestCheckCalibrationFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, sensor, cal string) string {
		p := filepath.Join(dir, name)
		cfg := "site: s\ngate: g\ncredentials: {mode: presence}\nthermal: {sensor: " + sensor + ", calibration_file: " + cal + "}\n"
		if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"version": 1, "id": "x"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	good := "../../vision/fusion/testdata/calibration.json" // 640x480 → 32x24
	tests := []struct {
		name, sensor, cal string
		wantErr           error
		want              string
	}{
		{"good calibration", "mlx90640", good, nil, "calibration cal-20261127-7ce11c35"},
		{"bad calibration", "mlx90640", bad, errInvalidConfig, "thermal.calibration_file: " + bad + ": fusion: bad calibration"},
		{"missing calibration", "mlx90640", filepath.Join(dir, "none.json"), errInvalidConfig, "no such file"},
		// The daemon would refuse it at start: check says so first.
		{"calibration for another sensor", "amg8833", good, errInvalidConfig,
			"thermal.calibration_file: calibration cal-20261127-7ce11c35 is for a (32,24) thermal frame, the amg8833 gives (8,8)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			cal, _ := filepath.Abs(tt.cal)
			err := cmdCheck([]string{"-c", write(tt.name+".yaml", tt.sensor, cal)}, &out)
			if !errors.Is(err, tt.wantErr) || !strings.Contains(out.String(), tt.want) {
				t.Fatalf("err = %v, output %q; want %v and %q", err, out.String(), tt.wantErr, tt.want)
			}
		})
	}
	if err := run(context.Background(), []string{"calibrate", "-n", "3"}); exitCode(err) != 2 {
		t.Errorf("calibrate -n 3: %v, want a usage error", err)
	}
}
