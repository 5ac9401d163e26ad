package configs

import (
	"os"
	"path/filepath"
	"testing"
)

// TestLoadResolvesCameraFiles: a recording replayed as the face or the
// thermal camera is a path like any other, read from the config's folder;
// device indexes, devices, URLs and the simulator are left alone.
func TestLoadResolvesCameraFiles(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		source, uvc         string
		wantSource, wantUVC string
	}{
		{"rec/face.mp4", "rec/t%04d.png", filepath.Join(dir, "rec/face.mp4"), filepath.Join(dir, "rec/t%04d.png")},
		{"0", "/dev/video2", "0", "/dev/video2"},
		{"rtsp://cam.local/stream", "3", "rtsp://cam.local/stream", "3"},
		{"simulated", "/abs/t%04d.png", "simulated", "/abs/t%04d.png"},
	} {
		p := filepath.Join(dir, "gate.yaml")
		yaml := "site: s\ngate: g\ncredentials: {mode: presence}\ncamera: {source: \"" + tt.source +
			"\"}\nthermal: {sensor: uvc, uvc_device: \"" + tt.uvc + "\", calibration_file: cal.json}\n"
		if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(p)
		if err != nil {
			t.Fatal(err)
		}
		if c.Camera.Source != tt.wantSource || c.Thermal.UVCDevice != tt.wantUVC {
			t.Errorf("source %q, uvc_device %q: got %q, %q; want %q, %q",
				tt.source, tt.uvc, c.Camera.Source, c.Thermal.UVCDevice, tt.wantSource, tt.wantUVC)
		}
	}
}
