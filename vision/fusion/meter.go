package fusion

import (
	"fmt"
	"image"
	"math"
	"slices"

	"github.com/gateguard/gateguard/device/thermal"
	"github.com/gateguard/gateguard/vision"
)

// Options configures a Meter.
type Options struct {
	// Homography maps face-camera pixels (of a VisibleSize frame) to
	// thermal pixels.
	Homography Homography
	// VisibleSize is the face-camera frame size the homography is for;
	// faces from frames of another size are scaled to it first.
	VisibleSize image.Point
	// CalibrationID names the registration; it goes into every reading.
	CalibrationID string
	// ThermalSize is the thermal frame size the homography maps into;
	// frames of another size are not measured (their pixels are not where
	// the homography points). Zero accepts any size.
	ThermalSize image.Point
	// CoreOffsetC is added to the skin temperature for the core estimate.
	CoreOffsetC float64
	// AmbientK is the ambient compensation coefficient k of the arterial
	// heat-balance model: core = skin + CoreOffsetC + k·(skin − ambient).
	// 0 turns compensation off.
	AmbientK float64
	// Blackbody is the reference target; nil measures without drift
	// correction (readings then carry no blackbody temperature).
	Blackbody *BlackbodyOptions
	// MinSkinC is the lowest temperature, after drift correction, that
	// counts as skin for thermal liveness.
	MinSkinC float64
	// MinSkinFraction is the share of the face's thermal region that must
	// be at skin temperature (0–1); less is a photo or a screen.
	MinSkinFraction float64
	// MinSkinSpreadC is how much warmer the warmest skin must be than the
	// coolest quarter of it: skin is never uniform, a warm screen is.
	// 0 turns the check off.
	MinSkinSpreadC float64
	// FaceWidthMin and FaceWidthMax bound the face box's width as a share of
	// the visible frame's width: a smaller face is too far to measure, a
	// larger one too close. 0 turns a bound off.
	FaceWidthMin, FaceWidthMax float64
	// MaxYawDeg is how far a face with landmarks may be turned left or right
	// before it is measured again (the standards ask for square-on faces;
	// 15° is usual). 0 turns the check off.
	MaxYawDeg float64
}

// Meter is the Thermometer the gate uses: it registers the face into the
// thermal frame through a homography, measures the inner canthi (or the
// whole face), corrects drift from a blackbody, checks that the face is
// skin and estimates core temperature. CheckFrame and Measure must be
// called from one goroutine (the gate's decision loop).
type Meter struct {
	o  Options
	bb *blackbody // nil without a blackbody

	vals []float32 // scratch
}

// NewMeter checks o and returns a Meter.
func NewMeter(o Options) (*Meter, error) {
	switch {
	case !o.Homography.Valid():
		return nil, fmt.Errorf("fusion: homography is not finite and invertible")
	case o.VisibleSize.X <= 0 || o.VisibleSize.Y <= 0:
		return nil, fmt.Errorf("fusion: visible size %v", o.VisibleSize)
	case o.MinSkinFraction < 0 || o.MinSkinFraction > 1:
		return nil, fmt.Errorf("fusion: MinSkinFraction %v is outside 0–1", o.MinSkinFraction)
	}
	m := &Meter{o: o}
	if o.Blackbody != nil {
		bb, err := newBlackbody(*o.Blackbody)
		if err != nil {
			return nil, err
		}
		m.bb = bb
	}
	return m, nil
}

// CalibrationID returns the registration's id.
func (m *Meter) CalibrationID() string { return m.o.CalibrationID }

// CheckSize returns an error wrapping thermal.ErrUnavailable when tf is not
// of the thermal frame size the registration is for (Options.ThermalSize).
func (m *Meter) CheckSize(tf *thermal.Frame) error {
	if ts := m.o.ThermalSize; ts != (image.Point{}) && (tf.W != ts.X || tf.H != ts.Y) {
		return fmt.Errorf("fusion: thermal frame is %dx%d, calibration %s is for %dx%d: %w",
			tf.W, tf.H, m.o.CalibrationID, ts.X, ts.Y, thermal.ErrUnavailable)
	}
	return nil
}

// CheckFrame reads the blackbody in a new thermal frame and returns an
// error wrapping thermal.ErrUnavailable while it is missing or unstable;
// nil without a blackbody. Call it for every frame, in order.
func (m *Meter) CheckFrame(tf *thermal.Frame) error {
	if m.bb == nil {
		return nil
	}
	return m.bb.observe(tf)
}

// Measure reads the subject's skin temperature. It returns an error
// wrapping thermal.ErrUnavailable when the blackbody is missing or unstable,
// thermal.ErrTooFar or thermal.ErrTooClose from the distance gate, and
// ErrNoRegion when there is nothing to measure. A face with no skin behind
// it still gives a reading, with NotSkin set. tf is a frame the thermal
// loop checked once when it was received (thermal.Run: Frame.Check and
// CheckSize); it is not checked again here.
func (m *Meter) Measure(tf *thermal.Frame, face vision.Face, size image.Point) (thermal.Reading, error) {
	if size.X <= 0 || size.Y <= 0 {
		return thermal.Reading{}, fmt.Errorf("fusion: visible frame size %v", size)
	}
	var r thermal.Reading
	r.CalibrationID = m.o.CalibrationID
	var drift float64
	if m.bb != nil {
		bbC, err := m.bb.current(tf)
		if err != nil {
			return thermal.Reading{}, err
		}
		drift = m.bb.o.SetpointC - bbC
		r.BlackbodyC, r.DriftC = ptr(round2(bbC)), ptr(round2(drift))
	}
	if err := m.distance(face, size); err != nil {
		return thermal.Reading{}, err
	}
	if yaw, ok := vision.Yaw(face); ok && m.o.MaxYawDeg > 0 && math.Abs(yaw) > m.o.MaxYawDeg {
		return thermal.Reading{}, fmt.Errorf("fusion: face turned %.0f°, over %.0f°: %w", yaw, m.o.MaxYawDeg, thermal.ErrTurned)
	}
	face = m.toCalibrated(face, size)
	bounds := tf.Bounds()
	whole := m.o.Homography.MapRect(face.Box, image.Rect(-1e5, -1e5, 1e5, 1e5))
	if whole.Dx() < 3 || whole.Dy() < 3 {
		return thermal.Reading{}, fmt.Errorf("fusion: face covers %dx%d thermal pixels: %w", whole.Dx(), whole.Dy(), thermal.ErrTooFar)
	}
	box := whole.Intersect(bounds)
	if box.Dx() < 2 || box.Dy() < 2 {
		return thermal.Reading{}, ErrNoRegion
	}
	skin, region := 0.0, "face"
	if rois := m.canthi(face, bounds); len(rois) > 0 {
		skin, region = robustMax(tf, rois), "canthus"
	} else {
		skin = robustMax(tf, []image.Rectangle{box})
	}
	skin += drift
	ambient := m.ambient(tf, box) + drift
	r.SkinC, r.Region = round2(skin), region
	r.CoreC = round2(skin + m.o.CoreOffsetC + m.o.AmbientK*(skin-ambient))
	r.AmbientC = ptr(round2(ambient))
	r.NotSkin = m.liveness(tf, box, drift)
	return r, nil
}

// distance is the distance gate: the face's width as a share of the frame.
func (m *Meter) distance(face vision.Face, size image.Point) error {
	share := float64(face.Box.Dx()) / float64(size.X)
	switch {
	case m.o.FaceWidthMin > 0 && share < m.o.FaceWidthMin:
		return fmt.Errorf("fusion: face is %.0f%% of the frame's width, under %.0f%%: %w",
			100*share, 100*m.o.FaceWidthMin, thermal.ErrTooFar)
	case m.o.FaceWidthMax > 0 && share > m.o.FaceWidthMax:
		return fmt.Errorf("fusion: face is %.0f%% of the frame's width, over %.0f%%: %w",
			100*share, 100*m.o.FaceWidthMax, thermal.ErrTooClose)
	}
	return nil
}

// toCalibrated scales a face from a frame of size to the calibration's
// visible frame size.
func (m *Meter) toCalibrated(f vision.Face, size image.Point) vision.Face {
	if size == m.o.VisibleSize {
		return f
	}
	sc := func(p image.Point) image.Point {
		return image.Pt(p.X*m.o.VisibleSize.X/size.X, p.Y*m.o.VisibleSize.Y/size.Y)
	}
	f.Box = image.Rectangle{Min: sc(f.Box.Min), Max: sc(f.Box.Max)}
	for i := range f.Landmarks {
		f.Landmarks[i] = sc(f.Landmarks[i])
	}
	return f
}

// canthi returns the inner-canthus regions in thermal pixels, or none when
// the face has no usable landmarks. Each region is centred half way between
// an eye landmark (the eye's centre) and the bridge of the nose (the point
// between the eyes), where the inner eye corner lies, and is a fifth of the
// distance between the eyes across; in thermal pixels it is at least 2x2, so
// that the robust maximum has a neighbour to check.
func (m *Meter) canthi(f vision.Face, bounds image.Rectangle) []image.Rectangle {
	if !f.HasLandmarks {
		return nil
	}
	re, le := f.Landmarks[vision.RightEye], f.Landmarks[vision.LeftEye]
	iod := math.Hypot(float64(le.X-re.X), float64(le.Y-re.Y))
	if iod < 4 || !re.In(f.Box) || !le.In(f.Box) {
		return nil
	}
	bridge := Point{float64(re.X+le.X) / 2, float64(re.Y+le.Y) / 2}
	half := iod / 10
	var rois []image.Rectangle
	for _, eye := range []image.Point{re, le} {
		c := Point{(float64(eye.X) + bridge.X) / 2, (float64(eye.Y) + bridge.Y) / 2}
		tc, ok := m.o.Homography.Apply(c)
		if !ok {
			return nil
		}
		r := m.o.Homography.MapRect(image.Rect(int(c.X-half), int(c.Y-half), int(c.X+half+1), int(c.Y+half+1)),
			image.Rect(-1e5, -1e5, 1e5, 1e5))
		// Grow to at least 2x2 thermal pixels around the centre.
		if r.Dx() < 2 {
			x := int(math.Round(tc.X))
			r.Min.X, r.Max.X = x-1, x+1
		}
		if r.Dy() < 2 {
			y := int(math.Round(tc.Y))
			r.Min.Y, r.Max.Y = y-1, y+1
		}
		if r = r.Intersect(bounds); !r.Empty() {
			rois = append(rois, r)
		}
	}
	return rois
}

// robustMax is the warmest temperature in the regions that an adjacent
// pixel (of the 8 around it, anywhere in the frame) confirms: each pixel
// counts as the lesser of itself and its warmest neighbour. An isolated hot
// pixel (a defect, a glint) is thus read at its neighbours' temperature,
// while a warm spot of two or more pixels reads in full.
func robustMax(tf *thermal.Frame, rois []image.Rectangle) float64 {
	best := math.Inf(-1)
	for _, r := range rois {
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				v := tf.C[y*tf.W+x]
				nb := float32(math.Inf(-1))
				for dy := -1; dy <= 1; dy++ {
					for dx := -1; dx <= 1; dx++ {
						xx, yy := x+dx, y+dy
						if (dx == 0 && dy == 0) || xx < 0 || yy < 0 || xx >= tf.W || yy >= tf.H {
							continue
						}
						nb = max(nb, tf.C[yy*tf.W+xx])
					}
				}
				if c := float64(min(v, nb)); c > best {
					best = c
				}
			}
		}
	}
	if math.IsInf(best, -1) { // a 1x1 frame has no neighbours
		return float64(tf.C[rois[0].Min.Y*tf.W+rois[0].Min.X])
	}
	return best
}

// ambient is the median of the frame outside the face and the blackbody:
// the background, which is most of the frame at a screening distance.
func (m *Meter) ambient(tf *thermal.Frame, face image.Rectangle) float64 {
	m.vals = m.vals[:0]
	var bb image.Rectangle
	if m.bb != nil {
		bb = m.bb.o.Rect
	}
	for y := range tf.H {
		for x := range tf.W {
			p := image.Pt(x, y)
			if !p.In(face) && !p.In(bb) {
				m.vals = append(m.vals, tf.C[y*tf.W+x])
			}
		}
	}
	if len(m.vals) == 0 {
		return float64(tf.C[0])
	}
	slices.Sort(m.vals)
	return float64(m.vals[len(m.vals)/2])
}

// liveness returns why the face's thermal region is not skin, or "".
func (m *Meter) liveness(tf *thermal.Frame, box image.Rectangle, drift float64) string {
	m.vals = m.vals[:0]
	total := 0
	for y := box.Min.Y; y < box.Max.Y; y++ {
		for x := box.Min.X; x < box.Max.X; x++ {
			total++
			// 43 °C bounds living skin; hotter is a lamp or a heater.
			if c := float64(tf.C[y*tf.W+x]) + drift; c >= m.o.MinSkinC && c <= 43 {
				m.vals = append(m.vals, tf.C[y*tf.W+x])
			}
		}
	}
	frac := float64(len(m.vals)) / float64(total)
	if len(m.vals) == 0 {
		return fmt.Sprintf("no region at skin temperature (≥ %.1f °C) behind the face", m.o.MinSkinC)
	}
	if frac < m.o.MinSkinFraction {
		return fmt.Sprintf("skin-temperature region covers %.0f%% of the face, under %.0f%%", 100*frac, 100*m.o.MinSkinFraction)
	}
	if m.o.MinSkinSpreadC > 0 {
		slices.Sort(m.vals)
		spread := float64(m.vals[len(m.vals)-1-len(m.vals)/20] - m.vals[len(m.vals)/4])
		if spread < m.o.MinSkinSpreadC {
			return fmt.Sprintf("uniform warm surface (%.2f °C spread, under %.2f °C): not skin", spread, m.o.MinSkinSpreadC)
		}
	}
	return ""
}

func ptr(v float64) *float64 { return &v }
