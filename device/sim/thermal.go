// Package sim holds simulated devices for scenarios and tests: a thermal
// camera that renders a body at a set skin temperature, and GPIO pins that
// record what was driven on them. They implement the same interfaces as the
// real drivers.
package sim

import (
	"errors"
	"fmt"
	"image"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/gateguard/gateguard/device/thermal"
)

// Thermal is a simulated thermal camera: ambient everywhere, a face at a skin
// temperature (see SetFace), a blackbody reference, a warm screen, hot
// pixels, a drift added to every pixel, and Gaussian noise. It is safe for
// concurrent use.
type Thermal struct {
	w, h   int
	period time.Duration
	ticker *time.Ticker
	done   chan struct{}

	mu       sync.Mutex // guards the fields below
	ambientC float64
	noiseC   float64
	body     image.Rectangle // in thermal pixels; empty when nobody is there
	skinC    float64
	fail     error
	halted   bool
	seq      uint64
	rng      *rand.Rand
	scene    // the thermal.go additions in scene.go
}

var _ thermal.Sensor = (*Thermal)(nil)

// NewThermal returns a w×h camera at fps frames per second with 24 °C
// ambient and 0.05 °C noise.
func NewThermal(w, h, fps int) (*Thermal, error) {
	if w <= 0 || h <= 0 || fps <= 0 {
		return nil, fmt.Errorf("sim: thermal %dx%d at %d fps is not usable", w, h, fps)
	}
	return &Thermal{w: w, h: h, period: time.Second / time.Duration(fps),
		ticker: time.NewTicker(time.Second / time.Duration(fps)), done: make(chan struct{}),
		ambientC: 24, noiseC: 0.05, rng: rand.New(rand.NewPCG(1, 2))}, nil
}

// String names the camera.
func (t *Thermal) String() string { return fmt.Sprintf("simulated thermal %dx%d", t.w, t.h) }

// Size returns the frame size in pixels.
func (t *Thermal) Size() image.Point { return image.Pt(t.w, t.h) }

// SetBody places a body at skinC over r (thermal pixels); an empty r removes it.
func (t *Thermal) SetBody(r image.Rectangle, skinC float64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.body, t.skinC = r, skinC
	t.canthusC, t.flat = skinC, true
}

// SetAmbient sets the background temperature.
func (t *Thermal) SetAmbient(c float64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ambientC = c
}

// Fail makes NextFrame return err until Fail(nil).
func (t *Thermal) Fail(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.fail = err
}

// NextFrame waits for the next frame time and renders the scene into f. It
// returns an error at once after Halt.
func (t *Thermal) NextFrame(f *thermal.Frame) error {
	select {
	case <-t.ticker.C:
	case <-t.done:
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.halted {
		return errors.New("sim: thermal camera halted")
	}
	if t.fail != nil {
		return t.fail
	}
	f.Resize(t.w, t.h)
	for y := range t.h {
		for x := range t.w {
			c := t.at(x, y)
			f.C[y*t.w+x] = float32(c + t.driftC + t.rng.NormFloat64()*t.noiseC)
		}
	}
	for _, p := range t.hot {
		if p.In(image.Rect(0, 0, t.w, t.h)) {
			f.C[p.Y*t.w+p.X] = float32(t.hotC)
		}
	}
	t.seq++
	f.Seq, f.Time = t.seq, time.Now()
	t.rendered()
	return nil
}

// Halt stops the camera.
func (t *Thermal) Halt() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.halted {
		t.halted = true
		t.ticker.Stop()
		close(t.done)
	}
	return nil
}
