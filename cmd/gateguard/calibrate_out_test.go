package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gateguard/gateguard/configs"
)

// TestCalibrationOut: thermal.calibration_file is read relative to the
// config's folder, so calibrate's default file and the value it tells the
// installer to set must both name the same file from there.
func TestCalibrationOut(t *testing.T) {
	dir := t.TempDir()
	etc := filepath.Join(dir, "etc")
	if err := os.Mkdir(etc, 0o755); err != nil {
		t.Fatal(err)
	}
	base := "site: a\ngate: b\ncredentials: {mode: presence}\n"
	write := func(name, extra string) *configs.Config {
		p := filepath.Join(etc, name)
		if err := os.WriteFile(p, []byte(base+extra), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := configs.Load(p)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	t.Chdir(dir)
	plain := write("plain.yaml", "")
	withFile := write("cal.yaml", "thermal: {calibration_file: cal/c.json}\n")

	for _, tc := range []struct {
		name              string
		cfg               *configs.Config
		flag              string
		wantOut, wantHint string
	}{
		{"default next to the config", plain, "", filepath.Join(etc, "calibration.json"), "calibration.json"},
		{"configured file", withFile, "", filepath.Join(etc, "cal", "c.json"), ""},
		{"-o relative to the working directory", plain, "out.json", "out.json", filepath.Join(dir, "out.json")},
		{"-o inside the config folder", plain, "etc/x.json", "etc/x.json", "x.json"},
		{"-o naming the configured file", withFile, "etc/cal/c.json", "etc/cal/c.json", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, hint := calibrationOut(tc.cfg, tc.flag)
			if out != tc.wantOut || hint != tc.wantHint {
				t.Fatalf("calibrationOut = %q, %q; want %q, %q", out, hint, tc.wantOut, tc.wantHint)
			}
			if hint == "" {
				return
			}
			// The hint, set in the config, names the file written.
			abs, _ := filepath.Abs(out)
			if got := tc.cfg.Resolve(hint); got != abs {
				t.Errorf("hint %q resolves to %s, file written is %s", hint, got, abs)
			}
		})
	}
}
