package qr

import (
	"math"

	"github.com/gateguard/gateguard/vision"
)

// Classify names the colour class of a code's dark modules from their mean
// colour (0–255 per channel). Dark, unsaturated modules are black; saturated
// ones are named by hue: red, yellow, green, or other (blue, purple, …).
// Yellow and light green are pale, so the test is on saturation and hue, not
// on brightness.
func Classify(r, g, b float64) vision.Colour {
	if math.IsNaN(r+g+b) || math.IsInf(r+g+b, 0) {
		return vision.ColourUnknown
	}
	mx := max(r, g, b)
	mn := min(r, g, b)
	if mx <= 0 {
		return vision.ColourBlack
	}
	sat := (mx - mn) / mx
	if sat < 0.3 || mx-mn < 30 {
		return vision.ColourBlack
	}
	var h float64 // hue in degrees
	switch mx {
	case r:
		h = 60 * math.Mod((g-b)/(mx-mn), 6)
	case g:
		h = 60 * ((b-r)/(mx-mn) + 2)
	default:
		h = 60 * ((r-g)/(mx-mn) + 4)
	}
	if h < 0 {
		h += 360
	}
	switch {
	case h < 25 || h >= 330:
		return vision.ColourRed
	case h < 75:
		return vision.ColourYellow
	case h < 170:
		return vision.ColourGreen
	}
	return vision.ColourOther
}
