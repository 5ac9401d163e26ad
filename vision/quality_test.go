package vision

import (
	"image"
	"math"
	"testing"
)

// TestYaw checks the one yaw estimate against angles worked out by hand:
// eyes 100 px apart, the nose tip off their midpoint along the eye line by
// 0.33·tan θ of that distance.
func TestYaw(t *testing.T) {
	face := func(re, le, nose image.Point) Face {
		return Face{HasLandmarks: true, Landmarks: [5]image.Point{re, le, nose}}
	}
	for _, tt := range []struct {
		name string
		f    Face
		deg  float64
		ok   bool
	}{
		{"square-on", face(image.Pt(300, 200), image.Pt(400, 200), image.Pt(350, 260)), 0, true},
		{"45° right (nose one depth off)", face(image.Pt(300, 200), image.Pt(400, 200), image.Pt(383, 260)), 45, true},
		{"45° left", face(image.Pt(300, 200), image.Pt(400, 200), image.Pt(317, 260)), -45, true},
		{"about 30°: atan(19/33)", face(image.Pt(300, 200), image.Pt(400, 200), image.Pt(369, 250)), 29.93, true},
		{"about 15°: atan(9/33)", face(image.Pt(300, 200), image.Pt(400, 200), image.Pt(359, 250)), 15.26, true},
		// The eye line tilted 45°: only the offset along it counts.
		{"tilted, square-on", face(image.Pt(300, 200), image.Pt(400, 300), image.Pt(330, 270)), 0, true},
		{"tilted, 45°", face(image.Pt(300, 200), image.Pt(400, 300), image.Pt(350+33, 250+33)), 45, true},
		{"eyes 4 px apart", face(image.Pt(300, 200), image.Pt(304, 200), image.Pt(302, 203)), 0, true},
		{"eyes 3 px apart", face(image.Pt(300, 200), image.Pt(303, 200), image.Pt(301, 203)), 0, false},
		{"no landmarks (Haar)", Face{Box: image.Rect(0, 0, 100, 100)}, 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Yaw(tt.f)
			if ok != tt.ok || math.Abs(got-tt.deg) > 0.01 {
				t.Errorf("Yaw = %.2f° (ok %v), want %.2f° (ok %v)", got, ok, tt.deg, tt.ok)
			}
			_, pyaw, _, pok := Pose(tt.f)
			if pok != ok || pyaw != got {
				t.Errorf("Pose yaw %.2f° (ok %v) differs from Yaw %.2f° (ok %v)", pyaw, pok, got, ok)
			}
		})
	}
}
