package scenario

import (
	"errors"
	"fmt"
	"math"
)

// ThermalStep changes the simulated thermal camera's scene. Unset fields
// stay as they are.
type ThermalStep struct {
	// DriftC is a global offset added to every pixel (camera drift): −10–10 °C.
	DriftC *float64 `yaml:"drift_c"`
	// Blackbody shows (true) or removes (false) the blackbody reference.
	Blackbody *bool `yaml:"blackbody"`
	// AmbientC sets the background temperature: −20–45 °C.
	AmbientC *float64 `yaml:"ambient_c"`
	// HotPixels marks pixels [x, y] as stuck hot (at 60 °C); empty clears them.
	HotPixels *[][2]int `yaml:"hot_pixels"`
}

func (t *ThermalStep) check() error {
	if t.DriftC == nil && t.Blackbody == nil && t.AmbientC == nil && t.HotPixels == nil {
		return errors.New("thermal: needs at least one of drift_c, blackbody, ambient_c, hot_pixels")
	}
	if t.DriftC != nil && !(math.Abs(*t.DriftC) <= 10) {
		return fmt.Errorf("thermal.drift_c: %v is outside −10–10 °C", *t.DriftC)
	}
	if t.AmbientC != nil && !(*t.AmbientC >= -20 && *t.AmbientC <= 45) {
		return fmt.Errorf("thermal.ambient_c: %v is outside −20–45 °C", *t.AmbientC)
	}
	if t.HotPixels != nil {
		for _, p := range *t.HotPixels {
			if p[0] < 0 || p[1] < 0 || p[0] > 4096 || p[1] > 4096 {
				return fmt.Errorf("thermal.hot_pixels: %v is outside the frame", p)
			}
		}
	}
	return nil
}

// checkThermal checks an arrival's thermal knobs.
func (a *Arrival) checkThermal() error {
	if a.CanthusC != nil {
		if a.SkinC == nil {
			return errors.New("arrive.canthus_c: needs skin_c")
		}
		if !(*a.CanthusC >= 0 && *a.CanthusC <= 45) {
			return fmt.Errorf("arrive.canthus_c: %v is outside 0–45 °C", *a.CanthusC)
		}
	}
	if a.ScreenC != nil {
		if a.SkinC != nil {
			return errors.New("arrive.screen_c: a screen has no skin_c")
		}
		if !(*a.ScreenC >= 0 && *a.ScreenC <= 60) {
			return fmt.Errorf("arrive.screen_c: %v is outside 0–60 °C", *a.ScreenC)
		}
	}
	return nil
}
