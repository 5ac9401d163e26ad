package main

import (
	"context"
	"image"
	"math"

	"github.com/gateguard/gateguard/gate/scenario"
)

// showHeat puts what is behind a face photo shown at rect into the thermal
// scene: a face at skin temperature, a warm screen, or nothing (a photo).
func (w *world) showHeat(a *scenario.Arrival, rect image.Rectangle) {
	t := w.hw.thermal
	t.SetFace(image.Rectangle{}, 0, 0)
	t.SetScreen(image.Rectangle{}, 0)
	if rect.Empty() {
		return
	}
	r := w.truth.MapRect(rect, image.Rectangle{Max: t.Size()})
	switch {
	case a.SkinC != nil:
		canthus := *a.SkinC
		if a.CanthusC != nil {
			canthus = *a.CanthusC
		}
		t.SetFace(r, *a.SkinC, canthus)
	case a.ScreenC != nil:
		t.SetScreen(r, *a.ScreenC)
	}
}

// SetThermal changes the thermal scene, then waits until the gate has had
// time to settle on it: a full blackbody window (plus a few frames) after a
// change the blackbody check must see as stable, two frames otherwise.
func (w *world) SetThermal(ctx context.Context, st *scenario.ThermalStep) error {
	t := w.hw.thermal
	if st.DriftC != nil {
		t.SetDrift(*st.DriftC)
	}
	if st.AmbientC != nil {
		t.SetAmbient(*st.AmbientC)
	}
	if st.HotPixels != nil {
		ps := make([]image.Point, len(*st.HotPixels))
		for i, p := range *st.HotPixels {
			ps[i] = image.Pt(p[0], p[1])
		}
		t.SetHotPixels(ps, 60)
	}
	bb := w.cfg.Thermal.Blackbody
	if st.Blackbody != nil && bb != nil {
		if *st.Blackbody {
			t.SetBlackbody(bb.Region(), bb.SetpointC)
		} else {
			t.SetBlackbody(image.Rectangle{}, 0)
		}
	}
	frames := 2
	if bb != nil && (st.DriftC != nil || (st.Blackbody != nil && *st.Blackbody)) {
		frames += int(math.Ceil(bb.WindowOrDefault().Seconds()*float64(simThermalFPS))) + 2
	}
	return t.WaitFrames(ctx, frames)
}
