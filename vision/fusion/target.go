package fusion

import (
	"errors"
	"fmt"
	"image"
	"math"
	"slices"

	"github.com/gateguard/gateguard/device/thermal"
)

// The calibration target is a heated disc, painted matt black, in the middle
// of a light card: the black paint makes it a good emitter for the thermal
// camera and a dark disc on a light ground for the face camera, so that both
// cameras find the same centre. FindHotSpot finds it in a thermal frame and
// FindDarkDisc in a visible frame.

// ErrNoTarget reports a frame in which the calibration target was not found
// (or not found alone).
var ErrNoTarget = errors.New("fusion: calibration target not found")

// FindHotSpot returns the centre of the warmest compact spot in tf, in
// thermal pixel coordinates, to sub-pixel precision: the intensity-weighted
// centroid (over ambient, the frame's median) of the spot and the ring of
// pixels around it. The spot must be at least minContrastC above ambient
// and at least 2 pixels; exclude (e.g. the blackbody) is ignored.
func FindHotSpot(tf *thermal.Frame, minContrastC float64, exclude image.Rectangle) (Point, error) {
	if err := tf.Check(); err != nil {
		return Point{}, fmt.Errorf("fusion: %w", err)
	}
	vals := make([]float64, 0, len(tf.C))
	hot, hi := -1, math.Inf(-1)
	for i, c := range tf.C {
		if image.Pt(i%tf.W, i/tf.W).In(exclude) {
			continue
		}
		vals = append(vals, float64(c))
		if float64(c) > hi {
			hot, hi = i, float64(c)
		}
	}
	if len(vals) == 0 {
		return Point{}, fmt.Errorf("%w: the whole frame is excluded", ErrNoTarget)
	}
	slices.Sort(vals)
	amb := vals[len(vals)/2]
	if hi-amb < minContrastC {
		return Point{}, fmt.Errorf("%w: warmest pixel is %.1f °C above ambient, want %.1f", ErrNoTarget, hi-amb, minContrastC)
	}
	thr := amb + (hi-amb)/2
	in := func(i int) bool { return float64(tf.C[i]) > thr && !image.Pt(i%tf.W, i/tf.W).In(exclude) }
	comps := components(tf.W, tf.H, in)
	best := -1
	for k, c := range comps {
		if slices.Contains(c, hot) {
			best = k
		}
	}
	spot := comps[best]
	if len(spot) < 2 {
		return Point{}, fmt.Errorf("%w: the warmest spot is a single pixel (a defect?)", ErrNoTarget)
	}
	for k, c := range comps {
		if k != best && 2*len(c) >= len(spot) {
			return Point{}, fmt.Errorf("%w: %d warm spots (keep people and heaters out of view)", ErrNoTarget, len(comps))
		}
	}
	// The spot and the ring around it, weighted by their heat over ambient.
	ring := map[int]bool{}
	for _, i := range spot {
		x, y := i%tf.W, i/tf.W
		for dy := -1; dy <= 1; dy++ {
			for dx := -1; dx <= 1; dx++ {
				if xx, yy := x+dx, y+dy; xx >= 0 && yy >= 0 && xx < tf.W && yy < tf.H {
					ring[yy*tf.W+xx] = true
				}
			}
		}
	}
	var sw, sx, sy float64
	for i := range ring {
		w := math.Max(0, float64(tf.C[i])-amb)
		sw += w
		sx += w * (float64(i%tf.W) + 0.5)
		sy += w * (float64(i/tf.W) + 0.5)
	}
	return Point{sx / sw, sy / sw}, nil
}

// FindDarkDisc returns the centre of the dark disc of the calibration target
// in a grey image: the largest dark, round region. It fails when the image
// has too little contrast, when the region is not round, or when another
// dark region is nearly as large.
func FindDarkDisc(g *image.Gray) (Point, error) {
	b := g.Bounds()
	w, h := b.Dx(), b.Dy()
	if w == 0 || h == 0 {
		return Point{}, fmt.Errorf("%w: empty image", ErrNoTarget)
	}
	var hist [256]int
	lo := 255
	for y := range h {
		row := g.Pix[y*g.Stride : y*g.Stride+w]
		for _, v := range row {
			hist[v]++
			lo = min(lo, int(v))
		}
	}
	med, n := 0, 0
	for v, c := range hist {
		if n += c; 2*n >= w*h {
			med = v
			break
		}
	}
	if med-lo < 60 {
		return Point{}, fmt.Errorf("%w: contrast %d grey levels, want 60", ErrNoTarget, med-lo)
	}
	thr := uint8(lo + (med-lo)/2)
	comps := components(w, h, func(i int) bool { return g.Pix[(i/w)*g.Stride+i%w] < thr })
	slices.SortFunc(comps, func(a, b []int) int { return len(b) - len(a) })
	disc := comps[0]
	if len(disc) < 20 {
		return Point{}, fmt.Errorf("%w: the darkest region is %d pixels", ErrNoTarget, len(disc))
	}
	if len(comps) > 1 && 2*len(comps[1]) >= len(disc) {
		return Point{}, fmt.Errorf("%w: %d dark regions of similar size", ErrNoTarget, len(comps))
	}
	minX, minY, maxX, maxY := w, h, 0, 0
	var sx, sy float64
	for _, i := range disc {
		x, y := i%w, i/w
		minX, minY, maxX, maxY = min(minX, x), min(minY, y), max(maxX, x+1), max(maxY, y+1)
		sx += float64(x) + 0.5
		sy += float64(y) + 0.5
	}
	bw, bh := float64(maxX-minX), float64(maxY-minY)
	fill := float64(len(disc)) / (math.Pi / 4 * bw * bh)
	if bw/bh < 0.6 || bw/bh > 1.6 || fill < 0.75 || fill > 1.2 {
		return Point{}, fmt.Errorf("%w: the dark region is not round (%.0fx%.0f pixels, fill %.2f)", ErrNoTarget, bw, bh, fill)
	}
	n = len(disc)
	return Point{float64(b.Min.X) + sx/float64(n), float64(b.Min.Y) + sy/float64(n)}, nil
}

// components returns the 4-connected regions of the w×h grid where in is
// true, each as a list of indexes y*w+x.
func components(w, h int, in func(i int) bool) [][]int {
	seen := make([]bool, w*h)
	var out [][]int
	var stack []int
	for start := range w * h {
		if seen[start] || !in(start) {
			continue
		}
		var comp []int
		seen[start] = true
		stack = append(stack[:0], start)
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			comp = append(comp, i)
			x, y := i%w, i/w
			for _, j := range [4][2]int{{x - 1, y}, {x + 1, y}, {x, y - 1}, {x, y + 1}} {
				if j[0] < 0 || j[1] < 0 || j[0] >= w || j[1] >= h {
					continue
				}
				k := j[1]*w + j[0]
				if !seen[k] && in(k) {
					seen[k] = true
					stack = append(stack, k)
				}
			}
		}
		out = append(out, comp)
	}
	return out
}
