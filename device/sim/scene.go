package sim

import (
	"context"
	"image"
	"math"
)

// scene is what the simulated thermal camera shows besides ambient and the
// face: the fields are guarded by Thermal.mu.
type scene struct {
	canthusC  float64 // the inner eye corners' temperature
	flat      bool    // SetBody: the whole body at one temperature
	screen    image.Rectangle
	screenC   float64
	bb        image.Rectangle
	bbC       float64
	driftC    float64
	hot       []image.Point
	hotC      float64
	frameTick chan struct{} // closed and replaced after every frame
	spotX     float64       // calibration target centre, thermal pixels
	spotY     float64
	spotR     float64 // its radius; 0: none
	spotC     float64
}

// SetSpot shows a heated calibration target: a disc of radius r thermal
// pixels centred at (x, y) (pixel (i, j) spans i..i+1, j..j+1) at c. Pixels
// it partly covers read the mix of c and what is behind, as a real
// sensor's pixel averages its field of view. r = 0 removes it.
func (t *Thermal) SetSpot(x, y, r, c float64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.spotX, t.spotY, t.spotR, t.spotC = x, y, r, c
}

// spotCover returns the share of pixel (x, y) the spot covers, sampled on
// an 8×8 grid.
func (t *Thermal) spotCover(x, y int) float64 {
	if t.spotR <= 0 || math.Abs(float64(x)+0.5-t.spotX) > t.spotR+1 || math.Abs(float64(y)+0.5-t.spotY) > t.spotR+1 {
		return 0
	}
	n := 0
	for j := range 8 {
		for i := range 8 {
			dx := float64(x) + (float64(i)+0.5)/8 - t.spotX
			dy := float64(y) + (float64(j)+0.5)/8 - t.spotY
			if dx*dx+dy*dy <= t.spotR*t.spotR {
				n++
			}
		}
	}
	return float64(n) / 64
}

// SetFace places a face over r (thermal pixels); an empty r removes it. A
// face is not uniform, and the model follows a frontal thermogram: the inner
// eye corners (at 35–65% of r's width and 28–50% of its height, where a
// face photo's eyes are) read canthusC, the skin around the eyes skinC, the
// forehead and cheeks 0.8 °C less, the nose and mouth 1.5 °C less and the
// outline (hair, ears, jaw) 2.5 °C less.
func (t *Thermal) SetFace(r image.Rectangle, skinC, canthusC float64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.body, t.skinC, t.canthusC, t.flat = r, skinC, canthusC, false
}

// SetScreen shows a uniform warm surface over r at c (a phone or tablet
// screen held up to the camera); an empty r removes it.
func (t *Thermal) SetScreen(r image.Rectangle, c float64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.screen, t.screenC = r, c
}

// SetBlackbody places a blackbody reference at setpointC over r; an empty r
// removes it.
func (t *Thermal) SetBlackbody(r image.Rectangle, setpointC float64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.bb, t.bbC = r, setpointC
}

// SetDrift adds c to every pixel, as a camera drifting with its own
// temperature does.
func (t *Thermal) SetDrift(c float64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.driftC = c
}

// SetNoise sets the standard deviation of the per-pixel noise.
func (t *Thermal) SetNoise(c float64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.noiseC = c
}

// SetHotPixels makes the given pixels read c whatever the scene (defective
// pixels); nil removes them.
func (t *Thermal) SetHotPixels(ps []image.Point, c float64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.hot, t.hotC = append([]image.Point(nil), ps...), c
}

// WaitFrames returns after n more frames have been rendered, or when ctx
// ends.
func (t *Thermal) WaitFrames(ctx context.Context, n int) error {
	for range n {
		t.mu.Lock()
		if t.frameTick == nil {
			t.frameTick = make(chan struct{})
		}
		tick := t.frameTick
		t.mu.Unlock()
		select {
		case <-tick:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// rendered wakes WaitFrames; t.mu is held.
func (t *Thermal) rendered() {
	if t.frameTick != nil {
		close(t.frameTick)
		t.frameTick = nil
	}
}

// at returns the scene's temperature at pixel (x, y), before drift and
// noise; t.mu is held.
func (t *Thermal) at(x, y int) float64 {
	if cov := t.spotCover(x, y); cov > 0 {
		return cov*t.spotC + (1-cov)*t.behind(x, y)
	}
	return t.behind(x, y)
}

// behind is the scene without the calibration target.
func (t *Thermal) behind(x, y int) float64 {
	p := image.Pt(x, y)
	switch {
	case p.In(t.bb):
		return t.bbC
	case p.In(t.screen):
		return t.screenC
	case !p.In(t.body):
		return t.ambientC
	case t.flat:
		return t.skinC
	}
	r := t.body
	u := (float64(x-r.Min.X) + 0.5) / float64(r.Dx())
	v := (float64(y-r.Min.Y) + 0.5) / float64(r.Dy())
	switch {
	case u >= 0.35 && u <= 0.65 && v >= 0.28 && v <= 0.5:
		return t.canthusC
	case u < 0.12 || u > 0.88 || v < 0.1 || v > 0.92:
		return t.skinC - 2.5
	case math.Abs(u-0.5) < 0.15 && v > 0.55:
		return t.skinC - 1.5
	case v >= 0.22 && v <= 0.55:
		return t.skinC
	}
	return t.skinC - 0.8
}
