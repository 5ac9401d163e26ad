package configs

import (
	"image"
	"math"
	"time"
)

// Screening holds the fever-screening keys of the thermal section: camera
// registration, the blackbody reference, the borderline band, thermal
// liveness, the distance gate, the core estimate's ambient compensation,
// the fail mode and the snapshots kept for fever alerts.
type Screening struct {
	// CalibrationFile is the camera registration `gateguard calibrate`
	// writes. Empty assumes both cameras share one field of view
	// (calibration id "scaled-fov"), good enough for the simulator only.
	CalibrationFile string `yaml:"calibration_file"`
	// Blackbody is the reference target read in every frame to correct
	// drift; screening pauses when it is missing or unstable. Optional.
	Blackbody *Blackbody `yaml:"blackbody"`
	// BorderlineC is the band below fever_c in which a reading is measured
	// again on a later frame before deciding (on the higher of the two):
	// 0–1.0 °C, 0.3 by default; 0 turns it off.
	BorderlineC float64 `yaml:"borderline_c"`
	// AmbientK is k in core = skin + core_offset_c + k·(skin − ambient), the
	// arterial heat-balance model: 0–0.5, 0 (off) by default.
	AmbientK float64 `yaml:"ambient_k"`
	// MinSkinFraction is the share of the face's thermal region that must be
	// at skin temperature (≥ min_skin_c) for a live face: 0.05–0.95, 0.25.
	MinSkinFraction float64 `yaml:"min_skin_fraction"`
	// MinSkinSpreadC is how much the warmest skin must exceed the coolest
	// quarter of it: a warm phone screen is uniform, a face is not.
	// 0–3 °C, 0.4 by default; 0 turns the check off.
	MinSkinSpreadC float64 `yaml:"min_skin_spread_c"`
	// FaceWidthMin and FaceWidthMax bound the face's width as a share of the
	// face camera's frame: narrower is too far, wider too close. 0–1.
	FaceWidthMin float64 `yaml:"face_width_min"`
	FaceWidthMax float64 `yaml:"face_width_max"`
	// FailMode is what the gate does while screening is unavailable
	// (blackbody missing or unstable): "deny" (default) or "admit" (admit
	// and mark the entry unscreened).
	FailMode string `yaml:"fail_mode"`
	// Fever snapshots (a colourised thermal PNG per fever alert) are kept in
	// the outbox, within outbox.max_bytes; see removedKeys.
}

// Blackbody is the blackbody reference target.
type Blackbody struct {
	// Rect is its region in thermal pixels: [x0, y0, x1, y1], x1 and y1
	// exclusive.
	Rect [4]int `yaml:"rect"`
	// SetpointC is its temperature: 30–45 °C (35–37 °C is usual).
	SetpointC float64 `yaml:"setpoint_c"`
	// MaxVariationC is how much its reading may vary over Window before
	// screening pauses: 0.01–1 °C, 0.1 by default.
	MaxVariationC float64 `yaml:"max_variation_c"`
	// Window is the time over which the variation is measured: 0.5s–1m, 2s.
	Window time.Duration `yaml:"window"`
	// MaxOffsetC is the largest reading − setpoint difference taken as
	// drift; beyond it the blackbody counts as missing: 0.5–10 °C, 3.
	MaxOffsetC float64 `yaml:"max_offset_c"`
	// MaxSpreadC is the largest difference between pixels of its region;
	// beyond it the blackbody counts as covered: 0.1–5 °C, 1.
	MaxSpreadC float64 `yaml:"max_spread_c"`
}

// DefaultScreening returns the screening defaults.
func DefaultScreening() Screening {
	return Screening{BorderlineC: 0.3, MinSkinFraction: 0.25, MinSkinSpreadC: 0.4,
		FaceWidthMin: 0.12, FaceWidthMax: 0.8, FailMode: "deny"}
}

// Region returns Rect as a rectangle.
func (b *Blackbody) Region() image.Rectangle {
	return image.Rect(b.Rect[0], b.Rect[1], b.Rect[2], b.Rect[3]).Canon()
}

// orDefault returns v, or def when v is zero (the key was left out).
func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Variation returns MaxVariationC, defaulted.
func (b *Blackbody) Variation() float64 { return orDefault(b.MaxVariationC, 0.1) }

// WindowOrDefault returns Window, defaulted.
func (b *Blackbody) WindowOrDefault() time.Duration { return orDefault(b.Window, 2*time.Second) }

// Offset returns MaxOffsetC, defaulted.
func (b *Blackbody) Offset() float64 { return orDefault(b.MaxOffsetC, 3.0) }

// Spread returns MaxSpreadC, defaulted.
func (b *Blackbody) Spread() float64 { return orDefault(b.MaxSpreadC, 1.0) }

// screening validates the screening keys.
func (v *validator) screening(t Thermal) {
	s := t.Screening
	v.celsius("thermal.borderline_c", s.BorderlineC, 0, 1.0)
	if math.Abs(s.BorderlineC*10-math.Round(s.BorderlineC*10)) > 1e-6 {
		v.add("thermal.borderline_c", "%v is not a multiple of 0.1 °C", s.BorderlineC)
	}
	v.number("thermal.ambient_k", s.AmbientK, 0, 0.5)
	v.number("thermal.min_skin_fraction", s.MinSkinFraction, 0.05, 0.95)
	v.celsius("thermal.min_skin_spread_c", s.MinSkinSpreadC, 0, 3)
	v.number("thermal.face_width_min", s.FaceWidthMin, 0, 1)
	v.number("thermal.face_width_max", s.FaceWidthMax, 0, 1)
	if s.FaceWidthMin > 0 && s.FaceWidthMax > 0 && s.FaceWidthMin >= s.FaceWidthMax {
		v.add("thermal.face_width_min", "%v must be below thermal.face_width_max (%v)", s.FaceWidthMin, s.FaceWidthMax)
	}
	v.oneOf("thermal.fail_mode", s.FailMode, "deny", "admit")
	b := s.Blackbody
	if b == nil {
		return
	}
	r := b.Rect
	if r[0] < 0 || r[1] < 0 || r[2] <= r[0] || r[3] <= r[1] || r[2] > 4096 || r[3] > 4096 {
		v.add("thermal.blackbody.rect", "%v must be [x0, y0, x1, y1] with 0 ≤ x0 < x1 ≤ 4096 and 0 ≤ y0 < y1 ≤ 4096", r)
	}
	v.celsius("thermal.blackbody.setpoint_c", b.SetpointC, 30, 45)
	v.number("thermal.blackbody.max_variation_c", b.Variation(), 0.01, 1)
	v.duration("thermal.blackbody.window", b.WindowOrDefault(), 500*time.Millisecond, time.Minute)
	v.celsius("thermal.blackbody.max_offset_c", b.Offset(), 0.5, 10)
	v.celsius("thermal.blackbody.max_spread_c", b.Spread(), 0.1, 5)
}

func (v *validator) number(key string, n, lo, hi float64) {
	if math.IsNaN(n) || n < lo || n > hi {
		v.add(key, "%v is outside %v–%v", n, lo, hi)
	}
}
