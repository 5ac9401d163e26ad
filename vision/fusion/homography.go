package fusion

import (
	"errors"
	"fmt"
	"image"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Point is a position in a camera's pixel coordinates, x to the right and y
// down; the centre of pixel (i, j) is (i+0.5, j+0.5).
type Point struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// Pair is one calibration correspondence: the same target seen by the face
// camera (Visible) and by the thermal camera (Thermal).
type Pair struct {
	Visible Point `json:"visible"`
	Thermal Point `json:"thermal"`
}

// Homography maps face-camera pixels to thermal-camera pixels: a 3×3 matrix
// in row-major order, scaled so that its last element is 1. It is exact for
// a planar scene (the subject at the calibrated distance) and for cameras
// that share one optical centre.
type Homography [9]float64

// Errors from SolveHomography.
var (
	// ErrTooFewPoints reports fewer than four point pairs.
	ErrTooFewPoints = errors.New("fusion: a homography needs at least 4 point pairs")
	// ErrDegenerate reports point pairs that do not fix a homography: three
	// or more of four points on one line, repeated points, or a solution
	// that folds the image.
	ErrDegenerate = errors.New("fusion: degenerate point set")
)

// Scale returns the homography of two cameras sharing one field of view:
// a pure scaling from a from-sized frame to a to-sized one.
func Scale(from, to image.Point) Homography {
	return Homography{float64(to.X) / float64(from.X), 0, 0, 0, float64(to.Y) / float64(from.Y), 0, 0, 0, 1}
}

// Apply maps p through h. ok is false when p maps to infinity.
func (h *Homography) Apply(p Point) (q Point, ok bool) {
	w := h[6]*p.X + h[7]*p.Y + h[8]
	if math.Abs(w) < 1e-12 {
		return Point{}, false
	}
	return Point{(h[0]*p.X + h[1]*p.Y + h[2]) / w, (h[3]*p.X + h[4]*p.Y + h[5]) / w}, true
}

// MapRect maps a rectangle of the face camera to the smallest rectangle of
// whole thermal pixels covering its image, clipped to bounds. It is empty
// when r maps outside bounds or to infinity.
func (h *Homography) MapRect(r image.Rectangle, bounds image.Rectangle) image.Rectangle {
	corners := [4]Point{
		{float64(r.Min.X), float64(r.Min.Y)}, {float64(r.Max.X), float64(r.Min.Y)},
		{float64(r.Max.X), float64(r.Max.Y)}, {float64(r.Min.X), float64(r.Max.Y)},
	}
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, c := range corners {
		q, ok := h.Apply(c)
		if !ok {
			return image.Rectangle{}
		}
		minX, minY = math.Min(minX, q.X), math.Min(minY, q.Y)
		maxX, maxY = math.Max(maxX, q.X), math.Max(maxY, q.Y)
	}
	// Clamp before converting so that wild values cannot overflow int.
	lim := func(v float64) float64 { return math.Max(-1e6, math.Min(1e6, v)) }
	out := image.Rect(int(math.Floor(lim(minX))), int(math.Floor(lim(minY))),
		int(math.Ceil(lim(maxX))), int(math.Ceil(lim(maxY))))
	return out.Intersect(bounds)
}

// Valid reports whether h is finite and invertible.
func (h *Homography) Valid() bool {
	for _, v := range h {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	det := h[0]*(h[4]*h[8]-h[5]*h[7]) - h[1]*(h[3]*h[8]-h[5]*h[6]) + h[2]*(h[3]*h[7]-h[4]*h[6])
	return math.Abs(det) > 1e-12
}

// SolveHomography computes the homography mapping each pair's Visible point
// to its Thermal point, by the normalised direct linear transform (Hartley &
// Zisserman, Multiple View Geometry, 2nd ed., algorithm 4.2): both point sets
// are moved to their centroid and scaled to a mean distance of √2, the 2n×9
// system is solved by SVD (gonum), and the result is denormalised. With more
// than four pairs it is the algebraic least-squares fit. It also returns the
// root-mean-square reprojection error in thermal pixels.
func SolveHomography(pairs []Pair) (Homography, float64, error) {
	if len(pairs) < 4 {
		return Homography{}, 0, fmt.Errorf("%w: got %d", ErrTooFewPoints, len(pairs))
	}
	src := make([]Point, len(pairs))
	dst := make([]Point, len(pairs))
	for i, p := range pairs {
		for _, v := range []float64{p.Visible.X, p.Visible.Y, p.Thermal.X, p.Thermal.Y} {
			if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > 1e6 {
				return Homography{}, 0, fmt.Errorf("%w: pair %d has coordinate %v", ErrDegenerate, i, v)
			}
		}
		src[i], dst[i] = p.Visible, p.Thermal
	}
	t1, err := normaliser(src)
	if err != nil {
		return Homography{}, 0, fmt.Errorf("%w: visible points: %w", ErrDegenerate, err)
	}
	t2, err := normaliser(dst)
	if err != nil {
		return Homography{}, 0, fmt.Errorf("%w: thermal points: %w", ErrDegenerate, err)
	}
	a := mat.NewDense(max(2*len(pairs), 9), 9, nil) // extra zero rows keep V full for n = 4
	for i := range pairs {
		x, y := t1.apply(src[i])
		u, v := t2.apply(dst[i])
		a.SetRow(2*i, []float64{-x, -y, -1, 0, 0, 0, u * x, u * y, u})
		a.SetRow(2*i+1, []float64{0, 0, 0, -x, -y, -1, v * x, v * y, v})
	}
	var svd mat.SVD
	if !svd.Factorize(a, mat.SVDFull) {
		return Homography{}, 0, fmt.Errorf("%w: SVD did not converge", ErrDegenerate)
	}
	s := svd.Values(nil)
	// A unique homography leaves a one-dimensional null space: the second
	// smallest singular value must stay clear of zero.
	if s[0] == 0 || s[7]/s[0] < 1e-7 {
		return Homography{}, 0, fmt.Errorf("%w: three or more points on one line, or repeated points", ErrDegenerate)
	}
	var vt mat.Dense
	svd.VTo(&vt)
	hn := mat.NewDense(3, 3, nil)
	for i := range 9 {
		hn.Set(i/3, i%3, vt.At(i, 8))
	}
	// H = T2⁻¹ · Hn · T1
	var tmp, hm mat.Dense
	tmp.Mul(t2.inverse(), hn)
	hm.Mul(&tmp, t1.matrix())
	var h Homography
	for i := range 9 {
		h[i] = hm.At(i/3, i%3)
	}
	if math.Abs(h[8]) < 1e-12 {
		return Homography{}, 0, fmt.Errorf("%w: the origin maps to infinity", ErrDegenerate)
	}
	for i := range h {
		h[i] /= h[8]
	}
	if !h.Valid() {
		return Homography{}, 0, fmt.Errorf("%w: singular solution", ErrDegenerate)
	}
	// Every calibration point must lie on the same side of the line that
	// maps to infinity, or the solution folds the image over.
	var sq float64
	for i, p := range src {
		w := h[6]*p.X + h[7]*p.Y + h[8]
		if w <= 0 {
			return Homography{}, 0, fmt.Errorf("%w: pair %d maps behind the camera", ErrDegenerate, i)
		}
		q, _ := h.Apply(p)
		sq += (q.X-dst[i].X)*(q.X-dst[i].X) + (q.Y-dst[i].Y)*(q.Y-dst[i].Y)
	}
	return h, math.Sqrt(sq / float64(len(src))), nil
}

// similarity is an isotropic scaling about a centroid: p → s·(p − c).
type similarity struct{ s, cx, cy float64 }

// normaliser returns the similarity that moves pts to their centroid and
// scales them to a mean distance of √2 from it.
func normaliser(pts []Point) (similarity, error) {
	var cx, cy float64
	for _, p := range pts {
		cx += p.X
		cy += p.Y
	}
	n := float64(len(pts))
	cx, cy = cx/n, cy/n
	var d float64
	for _, p := range pts {
		d += math.Hypot(p.X-cx, p.Y-cy)
	}
	d /= n
	if d < 1e-9 {
		return similarity{}, errors.New("all points coincide")
	}
	return similarity{s: math.Sqrt2 / d, cx: cx, cy: cy}, nil
}

func (t similarity) apply(p Point) (float64, float64) { return t.s * (p.X - t.cx), t.s * (p.Y - t.cy) }

func (t similarity) matrix() *mat.Dense {
	return mat.NewDense(3, 3, []float64{t.s, 0, -t.s * t.cx, 0, t.s, -t.s * t.cy, 0, 0, 1})
}

func (t similarity) inverse() *mat.Dense {
	return mat.NewDense(3, 3, []float64{1 / t.s, 0, t.cx, 0, 1 / t.s, t.cy, 0, 0, 1})
}
