package main

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
)

// thermalPNG draws a small colourised thermal picture: a warm face-shaped
// blob on a cool background, hotter at the inner canthus for a fever.
func thermalPNG(temp float64) []byte {
	const w, h = 32, 24
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			dx, dy := (float64(x)-16)/7, (float64(y)-12)/9
			t := 24 + 10*math.Exp(-(dx*dx+dy*dy))
			ex, ey := (float64(x)-16)/2, (float64(y)-9)/1.5
			t += (temp - 34) * math.Exp(-(ex*ex + ey*ey))
			img.Set(x, y, ironbow((t-22)/(temp-22)))
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

// ironbow maps 0–1 to the usual thermal palette (black, purple, red, yellow, white).
func ironbow(v float64) color.RGBA {
	v = math.Max(0, math.Min(1, v))
	stops := []color.RGBA{{0, 0, 20, 255}, {80, 0, 140, 255}, {200, 30, 60, 255}, {250, 140, 0, 255}, {255, 240, 120, 255}, {255, 255, 255, 255}}
	p := v * float64(len(stops)-1)
	i := int(p)
	if i >= len(stops)-1 {
		return stops[len(stops)-1]
	}
	f := p - float64(i)
	a, b := stops[i], stops[i+1]
	mix := func(x, y uint8) uint8 { return uint8(float64(x) + f*(float64(y)-float64(x))) }
	return color.RGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 255}
}
