// Package qr decodes QR codes in camera frames. Its strategies are
// zxing-cpp's reader on the frame's darkest channel, on its luminance, after
// contrast equalisation and enlarged 2×, and OpenCV's wechat_qrcode module on
// the codes cv::QRCodeDetector locates, each rectified (both reached through
// a small project-owned cgo bridge: gocv binds neither, and Debian's
// cv::QRCodeDetector cannot decode, being built without QUIRC).
//
// What a frame costs follows what is in it (see cascade.go): zxing-cpp's
// quick pass reads most codes in under a millisecond; a cheap finder-pattern
// search (finder.cpp) tells whether anything code-like is in the frame and
// where, and only there, cropped to it, do the slow strategies run. A frame
// with nothing code-like costs the quick pass and that search. Decode runs
// every strategy that applies, stopping at the first that reads a code; a
// live decoder (Opts.Live) runs at most one slow strategy per frame, taking
// them in turn over the successive frames of a presentation.
//
// Frames are turned grey by taking each pixel's darkest channel, so that
// coloured codes (yellow on white above all, which a luminance conversion
// all but erases) keep their contrast. Each code's colour class (see
// vision.Colour) is read from its dark modules.
package qr

/*
#cgo CPPFLAGS: -I/usr/include/opencv4
#cgo LDFLAGS: -lopencv_wechat_qrcode -lopencv_objdetect -lopencv_imgproc -lopencv_core
#cgo pkg-config: zxing
#cgo CXXFLAGS: -std=c++17
#include <stdlib.h>
#include "wechat.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"image"
	"math"
	"sync"
	"unicode/utf8"
	"unsafe"

	"gocv.io/x/gocv"

	"github.com/gateguard/gateguard/vision"
)

// MaxPayload is the largest payload kept; a QR code holds at most 7089
// characters, so anything longer is a decoder fault.
const MaxPayload = 8192

// MaxSide is the largest frame side accepted, in pixels. Larger frames are
// refused with ErrTooLarge rather than risking memory on a corrupt header.
const MaxSide = 4096

// ErrTooLarge is returned for frames wider or taller than MaxSide.
var ErrTooLarge = errors.New("qr: frame too large")

// Strategy names, as they appear in vision.Code.Method.
const (
	MethodLocated   = "wechat-located"  // located by cv::QRCodeDetector, rectified, wechat_qrcode
	MethodZXing     = "zxing"           // zxing-cpp, quick pass
	MethodZXingHard = "zxing-hard"      // zxing-cpp, rotations and harder search
	MethodCLAHE     = "zxing-clahe"     // zxing-cpp after contrast equalisation
	MethodScaled    = "zxing-scaled"    // zxing-cpp on a frame enlarged 2×
	MethodLuminance = "zxing-luminance" // zxing-cpp on luminance, not the darkest channel
)

// Decoder finds and decodes QR codes. It is safe for concurrent use; calls
// are serialised because OpenCV's detector keeps per-call state.
type Decoder struct {
	live bool

	mu   sync.Mutex // guards the fields below
	d    C.GGWeChat
	pres presentation // a live decoder's state across frames
	// A frame's darkest channel and luminance, kept from call to call: a
	// fresh 640×480 image each frame is a fresh mapping of 300 KB, page
	// faults and zeroing included.
	grey, lum gocv.Mat

	trace func(method string, box image.Rectangle) // tests: each slow strategy run
}

// Opts configures a Decoder.
type Opts struct {
	// Live is for the frames of a camera, which show the same code many
	// times: each frame gets the quick pass (on a frame with nothing
	// code-like, only on one frame in probeEvery, the others getting just
	// the finder search) and at most one slow strategy, where the finder
	// search saw something code-like; the slow strategies are taken in turn
	// over the successive frames of a presentation, and the turn starts over
	// after a code is read or the code-like thing is gone. Without Live,
	// every call runs every strategy that applies (a single picture).
	Live bool
	// SlowEvery above 1 means Live (its former meaning, the slow strategies
	// on one call in SlowEvery, is what Live does, better targeted).
	//
	// Deprecated: use Live.
	SlowEvery int
}

// New builds a decoder for single pictures: every strategy that applies
// runs on every call.
func New() (*Decoder, error) { return NewWithOpts(Opts{}) }

// NewWithOpts builds a decoder with options.
func NewWithOpts(o Opts) (*Decoder, error) {
	var cerr *C.char
	d := C.GGWeChat_New(&cerr)
	if d == nil {
		return nil, fmt.Errorf("qr: wechat_qrcode: %s", takeErr(cerr))
	}
	return &Decoder{d: d, live: o.Live || o.SlowEvery > 1, grey: gocv.NewMat(), lum: gocv.NewMat()}, nil
}

// Close frees the detector; the decoder must not be used after. It is
// idempotent.
func (d *Decoder) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.d != nil {
		C.GGWeChat_Close(d.d)
		d.d = nil
		d.grey.Close()
		d.lum.Close()
	}
	return nil
}

// Decode returns the codes in img (BGR, BGRA or grey, 8-bit). An empty or
// too small image yields no codes and no error; an image of another type or
// larger than MaxSide is an error.
func (d *Decoder) Decode(img gocv.Mat) ([]vision.Code, error) {
	if img.Empty() || img.Rows() < 21 || img.Cols() < 21 {
		return nil, nil
	}
	if img.Rows() > MaxSide || img.Cols() > MaxSide {
		return nil, fmt.Errorf("%w: %dx%d exceeds %d pixels a side", ErrTooLarge, img.Cols(), img.Rows(), MaxSide)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.d == nil {
		return nil, errors.New("qr: decoder closed")
	}
	if err := darkestInto(img, &d.grey); err != nil {
		return nil, err
	}
	f := frame{img: img, grey: d.grey, lum: d.lum}
	var codes []vision.Code
	var err error
	if d.live {
		codes, err = d.liveFrame(&f)
	} else {
		codes, err = d.picture(&f)
	}
	if err != nil {
		return nil, err
	}
	if img.Channels() >= 3 {
		for i := range codes {
			codes[i].Colour = colourOf(img, codes[i].Corners)
		}
	} else {
		for i := range codes {
			codes[i].Colour = vision.ColourBlack // all a grey frame can tell
		}
	}
	return codes, nil
}

// darkest returns a grey image holding each pixel's darkest channel.
func darkest(img gocv.Mat) (gocv.Mat, error) {
	grey := gocv.NewMat()
	if err := darkestInto(img, &grey); err != nil {
		grey.Close()
		return gocv.Mat{}, err
	}
	return grey, nil
}

// darkestInto fills grey (reallocated only when its size is not img's)
// with each pixel's darkest channel.
func darkestInto(img gocv.Mat, grey *gocv.Mat) error {
	if img.Type() != gocv.MatTypeCV8UC1 && img.Type() != gocv.MatTypeCV8UC3 && img.Type() != gocv.MatTypeCV8UC4 {
		return fmt.Errorf("qr: want an 8-bit grey, BGR or BGRA image, got type %v", img.Type())
	}
	if img.Channels() == 1 {
		img.CopyTo(grey)
		return nil
	}
	var cerr *C.char
	if C.GGQR_Darkest(unsafe.Pointer(img.Ptr()), unsafe.Pointer(grey.Ptr()), &cerr) < 0 {
		return fmt.Errorf("qr: %s", takeErr(cerr))
	}
	return nil
}

func (d *Decoder) decodeQuads(grey gocv.Mat, quads []C.float) ([]vision.Code, error) {
	if len(quads) == 0 {
		return nil, nil
	}
	var codes *C.GGCode
	var cerr *C.char
	n := int(C.GGWeChat_DecodeQuads(d.d, unsafe.Pointer(grey.Ptr()), &quads[0], C.int(len(quads)/8), &codes, &cerr))
	return collect(codes, n, cerr, MethodLocated, 1)
}

// wechatCrop is the side of the crop GGWeChat_DecodeQuads rectifies a
// located code of longest edge side to.
func wechatCrop(side float64) int {
	s := float64(C.GGWeChat_CodeSide(C.float(side)))
	return int(math.Ceil(s + 2*(s/6)))
}

// quad is a located symbol's corners, x then y, clockwise from top left,
// in the pixels of the image it was found in.
type quad [8]float32

// zxing runs zxing-cpp on grey with flags (GG_ZX_*); with GG_ZX_CANDIDATES
// it also returns where it sampled symbols it could not decode. scale maps
// corners back to frame pixels (both the codes' and the candidates').
func zxing(grey gocv.Mat, flags C.int, method string, scale float64) ([]vision.Code, []quad, error) {
	if !grey.IsContinuous() {
		return nil, nil, errors.New("qr: zxing: image not continuous")
	}
	var codes *C.GGCode
	var cands *C.float
	var nc C.int
	var cerr *C.char
	n := int(C.GGZXing_Read(unsafe.Pointer(grey.Ptr()), flags, &codes, &cands, &nc, &cerr))
	var qs []quad
	if cands != nil {
		for i, f := range unsafe.Slice(cands, 8*int(nc)) {
			if i%8 == 0 {
				qs = append(qs, quad{})
			}
			qs[i/8][i%8] = float32(float64(f) * scale)
		}
		C.free(unsafe.Pointer(cands))
	}
	out, err := collect(codes, n, cerr, method, scale)
	return out, qs, err
}

// locate returns the quads cv::QRCodeDetector finds, 8 floats each.
func locate(grey gocv.Mat) ([]C.float, error) {
	var q *C.float
	var cerr *C.char
	n := int(C.GGQR_Locate(unsafe.Pointer(grey.Ptr()), &q, &cerr))
	if n < 0 {
		return nil, fmt.Errorf("qr: locate: %s", takeErr(cerr))
	}
	if n == 0 {
		return nil, nil
	}
	defer C.free(unsafe.Pointer(q))
	return append([]C.float(nil), unsafe.Slice(q, 8*n)...), nil
}

// collect copies the bridge's codes into Go values and frees them; scale
// maps their corners back to frame pixels.
func collect(codes *C.GGCode, n int, cerr *C.char, method string, scale float64) ([]vision.Code, error) {
	if n < 0 {
		return nil, fmt.Errorf("qr: %s: %s", method, takeErr(cerr))
	}
	if n == 0 {
		return nil, nil
	}
	defer C.GGWeChat_Free(codes, C.int(n))
	out := make([]vision.Code, 0, n)
	for _, c := range unsafe.Slice(codes, n) {
		if c.len <= 0 || c.len > MaxPayload || c.data == nil {
			continue
		}
		code := vision.Code{Raw: C.GoBytes(unsafe.Pointer(c.data), c.len), Method: method}
		code.Text, code.Encoding = Text(code.Raw)
		if c.text != nil && c.textLen > 0 && c.textLen <= 4*MaxPayload {
			// The decoder read the code's ECI or made a better guess.
			if t := C.GoStringN(c.text, c.textLen); t != code.Text && utf8.ValidString(t) {
				code.Text, code.Encoding = t, encodingOf(code.Raw, t)
			}
		}
		for k := range 4 {
			code.Corners[k] = image.Pt(int(float64(c.pts[2*k])*scale+0.5), int(float64(c.pts[2*k+1])*scale+0.5))
		}
		if dup(out, code) {
			continue
		}
		out = append(out, code)
	}
	return out, nil
}

// dup reports whether codes holds c's payload at the same place already.
func dup(codes []vision.Code, c vision.Code) bool {
	for _, o := range codes {
		if string(o.Raw) == string(c.Raw) && o.Corners[0].Sub(c.Corners[0]).X/8 == 0 && o.Corners[0].Sub(c.Corners[0]).Y/8 == 0 {
			return true
		}
	}
	return false
}

func takeErr(s *C.char) string {
	if s == nil {
		return "unknown error"
	}
	defer C.free(unsafe.Pointer(s))
	return C.GoString(s)
}

// region is where the finder search saw something code-like (see
// GGQR_Finders).
type region struct {
	box    image.Rectangle
	module float64 // module size, pixels
	triple bool    // three finders placed like a code's
}

// finders returns the regions where GGQR_Finders saw code-like structure.
func finders(grey gocv.Mat) ([]region, error) {
	const nf = C.GG_FINDER_FLOATS
	var buf [nf * maxRegions]C.float
	var cerr *C.char
	n := int(C.GGQR_Finders(unsafe.Pointer(grey.Ptr()), &buf[0], maxRegions, &cerr))
	if n < 0 {
		return nil, fmt.Errorf("qr: finders: %s", takeErr(cerr))
	}
	out := make([]region, n)
	for i := range out {
		b := buf[nf*i : nf*(i+1)]
		out[i] = region{box: image.Rect(int(b[0]), int(b[1]), int(b[2]+0.5), int(b[3]+0.5)),
			module: float64(b[4]), triple: b[5] != 0}
	}
	return out, nil
}

// maxRegions is the most code-like regions a frame is searched in.
const maxRegions = 8
