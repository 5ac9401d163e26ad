package qr

/*
#include <stdlib.h>
#include "wechat.h"
*/
import "C"

import (
	"image"

	"gocv.io/x/gocv"

	"github.com/gateguard/gateguard/vision"
)

// The cascade. Costs below are CPU time on a 640×480 frame on the bench
// machine (see cmd/bench-qr and BenchmarkFrame in vision/scan): the darkest
// channel ~0.08 ms, the finder search ~0.25 ms, zxing-cpp's quick pass
// ~0.75 ms; the slow strategies, on the whole frame, ~1 ms (harder pass,
// luminance, CLAHE), ~7 ms (enlarged 2×) and ~15 ms (locate and wechat), and
// a fraction of that on the region around a code that they are cropped to
// (except cv::QRCodeDetector's locate, which enlarges any crop to 512 pixels
// a side: ~7 ms however small the crop; and wechat, ~5-45 ms a code).

// maxScaled is the largest side of a region that the enlarged pass takes.
const maxScaled = 800

// probeEvery is how often a live decoder runs the quick pass on a frame in
// which the finder search saw nothing: a safety net for a code the search
// misses, at a quarter of the quick pass's cost per such frame.
const probeEvery = 4

// liveGap is how many frames in a row with nothing code-like end a live
// decoder's presentation (its turn of slow strategies starts over).
const liveGap = 2

// frame is one call's images; lum (luminance, for colour frames; a buffer
// the decoder keeps) is filled when first needed.
type frame struct {
	img, grey gocv.Mat
	lum       gocv.Mat
	hasLum    bool
}

func (f *frame) colour() bool { return f.img.Channels() == 3 }

// luminance returns the frame's luminance (colour frames only).
func (f *frame) luminance() gocv.Mat {
	if !f.hasLum {
		gocv.CvtColor(f.img, &f.lum, gocv.ColorBGRToGray)
		f.hasLum = true
	}
	return f.lum
}

// target is where a frame's slow strategies look: the box around the
// strongest code-like evidence (see aim).
type target struct {
	box    image.Rectangle
	strong bool // three finders placed like a code's, or a symbol zxing-cpp located
}

// slow is one slow strategy; applies (nil: always) tells whether it is for
// a frame and target.
type slow struct {
	method  string
	applies func(f *frame, t *target) bool
	run     func(d *Decoder, f *frame, t *target) ([]vision.Code, error)
}

func (s slow) for_(f *frame, t *target) bool { return s.applies == nil || s.applies(f, t) }

// slows are the slow strategies, cheapest first.
var slows = []slow{
	{MethodZXingHard, nil, func(d *Decoder, f *frame, t *target) ([]vision.Code, error) {
		return onRegion(f.grey, t.box, func(m gocv.Mat) ([]vision.Code, error) {
			c, _, err := zxing(m, C.GG_ZX_HARDER, MethodZXingHard, 1)
			return c, err
		})
	}},
	// Where the darkest channel is noisy (a colour cast, chroma noise from
	// JPEG) the weighted mean of the channels is not.
	{MethodLuminance, func(f *frame, _ *target) bool { return f.colour() }, func(d *Decoder, f *frame, t *target) ([]vision.Code, error) {
		return onRegion(f.luminance(), t.box, func(m gocv.Mat) ([]vision.Code, error) {
			c, _, err := zxing(m, C.GG_ZX_HARDER, MethodLuminance, 1)
			return c, err
		})
	}},
	{MethodCLAHE, nil, func(d *Decoder, f *frame, t *target) ([]vision.Code, error) {
		// Glare: contrast equalised by tiles.
		return onRegion(f.grey, t.box, func(m gocv.Mat) ([]vision.Code, error) {
			clahe := gocv.NewCLAHEWithParams(2, image.Pt(8, 8))
			eq := gocv.NewMat()
			clahe.Apply(m, &eq)
			clahe.Close()
			defer eq.Close()
			c, _, err := zxing(eq, C.GG_ZX_HARDER, MethodCLAHE, 1)
			return c, err
		})
	}},
	// Small codes: modules too thin for zxing-cpp's binariser. (The
	// finders' module size does not tell which codes this reads: on the
	// bench sets it reads one whose finders measure 5.7 pixels.)
	{MethodScaled, func(_ *frame, t *target) bool { return max(t.box.Dx(), t.box.Dy()) <= maxScaled }, func(d *Decoder, f *frame, t *target) ([]vision.Code, error) {
		return onRegion(f.grey, t.box, func(m gocv.Mat) ([]vision.Code, error) {
			big := gocv.NewMat()
			defer big.Close()
			gocv.Resize(m, &big, image.Point{}, 2, 2, gocv.InterpolationCubic)
			c, _, err := zxing(big, C.GG_ZX_HARDER, MethodScaled, 0.5)
			return c, err
		})
	}},
	// Codes located by cv::QRCodeDetector, each rectified and read by
	// wechat_qrcode, whose decoder reads some that zxing-cpp does not. The
	// most expensive: ~10 ms to locate (cv::QRCodeDetector enlarges what it
	// is given to 512 pixels a side), ~100 ms for wechat to fail on a crop;
	// so only where three finders or a symbol zxing-cpp could not read were
	// seen, and cv::QRCodeDetector then locates a code.
	{MethodLocated, func(_ *frame, t *target) bool { return t.strong }, func(d *Decoder, f *frame, t *target) ([]vision.Code, error) {
		return onRegion(f.grey, t.box, func(m gocv.Mat) ([]vision.Code, error) {
			quads, err := locate(m)
			if err != nil {
				return nil, err
			}
			return d.decodeQuads(m, quads)
		})
	}},
}

// onRegion runs fn on region r of m (a continuous copy, unless r is all of
// m) and maps the corners of the codes it reads back to m's pixels.
func onRegion(m gocv.Mat, r image.Rectangle, fn func(gocv.Mat) ([]vision.Code, error)) ([]vision.Code, error) {
	if r == image.Rect(0, 0, m.Cols(), m.Rows()) {
		return fn(m)
	}
	view := m.Region(r)
	crop := view.Clone()
	view.Close()
	defer crop.Close()
	codes, err := fn(crop)
	for i := range codes {
		for k := range codes[i].Corners {
			codes[i].Corners[k] = codes[i].Corners[k].Add(r.Min)
		}
	}
	return codes, err
}

// quick runs zxing-cpp's quick pass on the whole frame and returns the codes
// it reads, and the quads of symbols it located but did not read.
func (d *Decoder) quick(f *frame) ([]vision.Code, []quad, error) {
	if d.trace != nil {
		d.trace(MethodZXing, image.Rect(0, 0, f.grey.Cols(), f.grey.Rows()))
	}
	return zxing(f.grey, C.GG_ZX_CANDIDATES, MethodZXing, 1)
}

// quadBox is the box around q.
func quadBox(q quad) image.Rectangle {
	b := image.Rect(int(q[0]), int(q[1]), int(q[0])+1, int(q[1])+1)
	for k := 1; k < 4; k++ {
		b = b.Union(image.Rect(int(q[2*k]), int(q[2*k+1]), int(q[2*k])+1, int(q[2*k+1])+1))
	}
	return b
}

// aim builds a frame's target from the finder search's regions and the
// quick pass's undecoded quads; ok is false when there is nothing
// code-like. Where there is strong evidence (three finders placed like a
// code's, or a symbol zxing-cpp located), the target is around it alone: a
// pair of finders elsewhere (most often texture) would widen every slow
// strategy's crop to both, and the enlarged pass's cost grows with the
// crop's area. Without strong evidence the target is around the pairs; a
// picture's pairs away from strong evidence get the slow strategies last,
// on their own crop (see aside), a live frame's not at all.
func aim(f *frame, rs []region, cands []quad) (t target, ok bool) {
	var strong, weak []image.Rectangle
	var module float64 // the pairs' largest module size
	for _, r := range rs {
		if r.triple {
			strong = append(strong, r.box)
		} else {
			weak = append(weak, r.box)
			module = max(module, r.module)
		}
	}
	for _, q := range cands {
		strong = append(strong, quadBox(q))
	}
	w, h := f.grey.Cols(), f.grey.Rows()
	if t.strong = len(strong) > 0; t.strong {
		t.box = union(strong, -1, w, h)
	} else {
		t.box = union(weak, int(4*module+0.5), w, h)
	}
	return t, !t.box.Empty()
}

// codeLike runs the finder search on the darkest channel and, for a colour
// frame, on luminance.
func codeLike(f *frame) ([]region, error) {
	rs, err := finders(f.grey)
	if err != nil || !f.colour() {
		return rs, err
	}
	lr, err := finders(f.luminance())
	return append(rs, lr...), err
}

// union is the box around rs, widened on each side by pad pixels and 8
// more, inside a w×h frame; a pad below 0 means a quarter of the box's size
// (zxing-cpp's binariser wants light around a code, and a triple's box can
// be short of the code's far side under perspective; a pair's box holds
// both places its code can be, so it needs only a quiet zone).
func union(rs []image.Rectangle, pad, w, h int) image.Rectangle {
	var u image.Rectangle
	for _, r := range rs {
		u = u.Union(r)
	}
	if u.Empty() {
		return u
	}
	if pad < 0 {
		pad = max(u.Dx(), u.Dy()) / 4
	}
	u = u.Inset(-pad - 8)
	// On a grid of 16 pixels: zxing-cpp binarises by blocks of 8 from the
	// image's corner, so a crop on that grid (also when enlarged 2×) sees
	// the code binarised as the whole frame would.
	u = image.Rect(u.Min.X&^15, u.Min.Y&^15, (u.Max.X+15)&^15, (u.Max.Y+15)&^15)
	return u.Intersect(image.Rect(0, 0, w, h))
}

// picture decodes a single picture: the quick pass; if it reads nothing, the
// slow strategies in turn, where something code-like is, until one reads a
// code. A picture with nothing code-like stops after the quick pass (and,
// for one over 600 pixels tall, in which the quick pass skips rows, the
// harder pass on the whole picture).
func (d *Decoder) picture(f *frame) ([]vision.Code, error) {
	codes, cands, err := d.quick(f)
	if err != nil || len(codes) > 0 {
		return codes, err
	}
	rs, err := codeLike(f)
	if err != nil {
		return nil, err
	}
	t, ok := aim(f, rs, cands)
	if !ok {
		if f.grey.Rows() < 600 {
			return nil, nil
		}
		t = target{box: image.Rect(0, 0, f.grey.Cols(), f.grey.Rows())}
		return d.runSlow(slows[0], f, &t)
	}
	codes, err = d.allSlow(f, &t)
	if err != nil || len(codes) > 0 || !t.strong {
		return codes, err
	}
	// Last, the pairs away from the strong evidence (a code with a finder
	// lost to glare beside something else code-like).
	if t, ok = aside(f, rs, t.box); ok {
		return d.allSlow(f, &t)
	}
	return nil, nil
}

// allSlow runs the slow strategies that apply to t in turn until one reads
// a code.
func (d *Decoder) allSlow(f *frame, t *target) ([]vision.Code, error) {
	for _, s := range slows {
		if !s.for_(f, t) {
			continue
		}
		codes, err := d.runSlow(s, f, t)
		if err != nil || len(codes) > 0 {
			return codes, err
		}
	}
	return nil, nil
}

// aside is the target around the pairs of rs that lie outside box (the
// strong evidence's target), as aim makes it for pairs; ok is false when
// there are none.
func aside(f *frame, rs []region, box image.Rectangle) (target, bool) {
	var away []region
	for _, r := range rs {
		if !r.triple && !r.box.Overlaps(box) {
			away = append(away, r)
		}
	}
	if len(away) == 0 {
		return target{}, false
	}
	return aim(f, away, nil)
}

// presentation is a live decoder's state across frames.
type presentation struct {
	frames uint64 // frames decoded
	quiet  int    // frames in a row with nothing code-like
	next   int    // the slow strategy the next code-like frame gets
}

// liveFrame decodes one frame of a camera (see Opts.Live).
func (d *Decoder) liveFrame(f *frame) ([]vision.Code, error) {
	p := &d.pres
	p.frames++
	rs, err := finders(f.grey)
	if err != nil {
		return nil, err
	}
	var cands []quad
	if len(rs) == 0 {
		if p.quiet++; p.quiet > liveGap {
			p.next = 0
		}
		if p.frames%probeEvery != 0 {
			return nil, nil
		}
		// The safety net: the quick pass, and the finder search on
		// luminance.
		codes, c, err := d.quick(f)
		if err != nil || len(codes) > 0 {
			return codes, err
		}
		if cands = c; len(cands) == 0 && f.colour() {
			if rs, err = finders(f.luminance()); err != nil {
				return nil, err
			}
		}
	} else {
		codes, c, err := d.quick(f)
		if err != nil || len(codes) > 0 {
			p.quiet, p.next = 0, 0
			return codes, err
		}
		cands = c
	}
	t, ok := aim(f, rs, cands)
	if !ok {
		return nil, nil
	}
	p.quiet = 0
	// One slow strategy, the next that applies to this frame.
	for range slows {
		s := slows[p.next]
		p.next = (p.next + 1) % len(slows)
		if !s.for_(f, &t) {
			continue
		}
		codes, err := d.runSlow(s, f, &t)
		if err != nil || len(codes) > 0 {
			p.next = 0
		}
		return codes, err
	}
	return nil, nil
}

// runSlow runs one slow strategy (and tells d.trace, for tests).
func (d *Decoder) runSlow(s slow, f *frame, t *target) ([]vision.Code, error) {
	if d.trace != nil {
		d.trace(s.method, t.box)
	}
	return s.run(d, f, t)
}
