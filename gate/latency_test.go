package gate_test

import (
	"image"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/vision"
)

// TestThermalFrameCompletesCheck: a check that has its credential and face
// and waits only for a thermal frame decides as that frame arrives, not at
// the next face frame (a camera period later).
func TestThermalFrameCompletesCheck(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, nil)
		h.therm.Set(gate.Reading{SkinC: 36.5, CoreC: 36.5}, nil)
		h.observe("dan", true)
		h.want() // no thermal frame of dan yet
		time.Sleep(10 * time.Millisecond)
		h.thermal()
		h.want("entry:admitted:insecure_credential")
		h.wantCalls("release")
		h.shutdown()
	})
}

// TestThermalFrameDuringDetectionCounts: a thermal frame taken after the
// code's frame, while that frame was still being processed, shows the
// person at the gate and is used.
func TestThermalFrameDuringDetectionCounts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, nil)
		h.therm.Set(gate.Reading{SkinC: 36.5, CoreC: 36.5}, nil)
		taken := time.Now()
		time.Sleep(5 * time.Millisecond)
		h.thermal() // while the face camera's frame is being processed
		time.Sleep(5 * time.Millisecond)
		h.ctrl.Observe(vision.Observation{Time: taken, Size: image.Pt(640, 480),
			Codes: []vision.Code{{Text: "erin"}}, Faces: []vision.Face{{Box: image.Rect(200, 100, 400, 300)}}})
		synctest.Wait()
		h.want("entry:admitted:insecure_credential")
		h.shutdown()
	})
}
