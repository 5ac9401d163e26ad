package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/vision/face"
)

const yunetModel = "../../../shared/testdata/models/yunet/yunet_120x160.onnx"

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func demoConfig(t *testing.T) *configs.Config {
	t.Helper()
	cfg, err := configs.Load("../../configs/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.MQTT.Enabled = false
	return cfg
}

// TestBuildVisionYuNet wires YuNet when vision.face_model is set, and names
// the key when the model cannot be loaded.
func TestBuildVisionYuNet(t *testing.T) {
	cfg := demoConfig(t)
	cfg.Vision.FaceModel = yunetModel
	d, err := build(cfg, quietLog(), parts{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.close()
	if _, ok := d.scanner.Faces.(*face.YuNet); !ok {
		t.Errorf("face detector %T, want *face.YuNet", d.scanner.Faces)
	}

	cfg = demoConfig(t)
	cfg.Vision.FaceModel = t.TempDir() + "/missing.onnx"
	if _, err := build(cfg, quietLog(), parts{}); err == nil || !strings.Contains(err.Error(), "vision.face_model") {
		t.Errorf("missing model: %v", err)
	}
}

// TestLostCameraRaisesDeviceFault runs the daemon on a camera that cannot
// be opened: after camera.stall_timeout the gate records a device-fault
// alert naming the camera, and the daemon keeps running.
func TestLostCameraRaisesDeviceFault(t *testing.T) {
	cfg := demoConfig(t)
	cfg.Camera.Source = t.TempDir() + "/missing-%04d.png"
	cfg.Camera.StallTimeout = 200 * time.Millisecond
	alerts := make(chan gate.Alert, 16)
	d, err := build(cfg, quietLog(), parts{onRecord: []func(gate.Message){func(m gate.Message) {
		if m.Topic != gate.TopicAlert {
			return
		}
		var a gate.Alert
		if err := json.Unmarshal(m.Payload, &a); err != nil {
			t.Errorf("alert is not JSON: %v", err)
		}
		alerts <- a
	}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.run(ctx, 0) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case a := <-alerts:
			if a.Type == gate.AlertDeviceFault && strings.Contains(a.Message, "camera") {
				if !strings.Contains(a.Message, "stalled") {
					t.Errorf("alert message %q does not say the camera stalled", a.Message)
				}
				return
			}
		case <-timeout:
			t.Fatal("no device-fault alert for the lost camera")
		}
	}
}
