// Package qr decodes QR codes in camera frames. Its first strategy is
// OpenCV's wechat_qrcode module, reached through a small project-owned cgo
// bridge (gocv does not bind it, and Debian's cv::QRCodeDetector cannot
// decode: it is built without QUIRC). wechat_qrcode runs without its CNN
// models (empty paths), so it sees a whole frame as one candidate; the
// decoder therefore locates the codes itself with cv::QRCodeDetector (which
// detects without QUIRC), rectifies each and decodes it, which yields several
// codes per frame with their corners. When that finds nothing, it falls back
// to zxing-cpp on an enlarged and a contrast-equalised frame (small codes,
// phone screens with glare). The order is by cost; see strategies.
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
	MethodLocated   = "wechat-located"  // own localisation, wechat per code
	MethodZXing     = "zxing"           // zxing-cpp, quick pass
	MethodZXingHard = "zxing-hard"      // zxing-cpp, rotations and harder search
	MethodCLAHE     = "zxing-clahe"     // zxing-cpp after contrast equalisation
	MethodScaled    = "zxing-scaled"    // zxing-cpp on a frame enlarged 2×
	MethodLuminance = "zxing-luminance" // zxing-cpp on luminance, not the darkest channel
)

// Decoder finds and decodes QR codes. It is safe for concurrent use; calls
// are serialised because OpenCV's detector keeps per-call state.
type Decoder struct {
	slowEvery int

	mu      sync.Mutex // guards the fields below
	d       C.GGWeChat
	skipped int // calls since the slow strategies last ran
}

// Opts configures a Decoder.
type Opts struct {
	// SlowEvery, when above 1, runs the slow strategies (the enlarged pass
	// and wechat on located codes, ~10–40 ms on a 640×480 frame without a
	// code) on at most one call in SlowEvery; the quick ones (under ~3 ms)
	// run on every call. A live camera delivers many frames of the same
	// code, so the gate still gets every strategy's chance within a few
	// frames while frames without a code stay cheap. 0 or 1: every call.
	SlowEvery int
}

// New builds a decoder that runs every strategy on every call.
func New() (*Decoder, error) { return NewWithOpts(Opts{}) }

// NewWithOpts builds a decoder with options.
func NewWithOpts(o Opts) (*Decoder, error) {
	var cerr *C.char
	d := C.GGWeChat_New(&cerr)
	if d == nil {
		return nil, fmt.Errorf("qr: wechat_qrcode: %s", takeErr(cerr))
	}
	return &Decoder{d: d, slowEvery: o.SlowEvery}, nil
}

// Close frees the detector; the decoder must not be used after. It is
// idempotent.
func (d *Decoder) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.d != nil {
		C.GGWeChat_Close(d.d)
		d.d = nil
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
	grey, err := darkest(img)
	if err != nil {
		return nil, err
	}
	defer grey.Close()

	d.mu.Lock()
	defer d.mu.Unlock()
	if d.d == nil {
		return nil, errors.New("qr: decoder closed")
	}
	codes, err := d.strategies(img, grey)
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

// strategies runs the decoding strategies in order until one finds codes.
// The order is by cost (measured with cmd/bench-qr). The quick ones: zxing-cpp's
// quick pass reads most codes in well under a millisecond on a 640×480 frame
// and finds several per frame with their corners; then its slow pass
// (rotations, harder search) and the same on a contrast-equalised frame
// (glare), and on luminance rather than the darkest channel (colour casts,
// chroma noise), about a millisecond each. The slow ones (see Opts.SlowEvery):
// zxing-cpp on a frame enlarged 2× (small codes), and wechat_qrcode on the
// codes cv::QRCodeDetector locates, each rectified.
func (d *Decoder) strategies(img, grey gocv.Mat) ([]vision.Code, error) {
	if codes, err := zxing(grey, false, MethodZXing, 1); err != nil || len(codes) > 0 {
		return codes, err
	}
	if codes, err := zxing(grey, true, MethodZXingHard, 1); err != nil || len(codes) > 0 {
		return codes, err
	}
	clahe := gocv.NewCLAHEWithParams(2, image.Pt(8, 8))
	eq := gocv.NewMat()
	clahe.Apply(grey, &eq)
	clahe.Close()
	codes, err := zxing(eq, true, MethodCLAHE, 1)
	eq.Close()
	if err != nil || len(codes) > 0 {
		return codes, err
	}
	if img.Channels() == 3 {
		// Luminance: where the darkest channel is noisy (a colour cast,
		// chroma noise from JPEG) the weighted mean of the channels is not.
		lum := gocv.NewMat()
		gocv.CvtColor(img, &lum, gocv.ColorBGRToGray)
		codes, err := zxing(lum, true, MethodLuminance, 1)
		lum.Close()
		if err != nil || len(codes) > 0 {
			return codes, err
		}
	}
	if d.slowEvery > 1 {
		if d.skipped++; d.skipped < d.slowEvery {
			return nil, nil
		}
		d.skipped = 0
	}
	if max(grey.Cols(), grey.Rows()) <= maxScaled {
		big := gocv.NewMat()
		gocv.Resize(grey, &big, image.Point{}, 2, 2, gocv.InterpolationCubic)
		codes, err := zxing(big, true, MethodScaled, 0.5)
		big.Close()
		if err != nil || len(codes) > 0 {
			return codes, err
		}
	}
	quads, err := locate(grey)
	if err != nil {
		return nil, err
	}
	// Without a located code, wechat on the whole frame costs tens of
	// milliseconds and, on the bench sets, reads nothing the passes above
	// missed: a frame with no code (most frames at a gate) stops here.
	return d.decodeQuads(grey, quads)
}

// maxScaled is the largest frame side that the last strategy enlarges.
const maxScaled = 800

// darkest returns a grey image holding each pixel's darkest channel.
func darkest(img gocv.Mat) (gocv.Mat, error) {
	if img.Type() != gocv.MatTypeCV8UC1 && img.Type() != gocv.MatTypeCV8UC3 && img.Type() != gocv.MatTypeCV8UC4 {
		return gocv.Mat{}, fmt.Errorf("qr: want an 8-bit grey, BGR or BGRA image, got type %v", img.Type())
	}
	grey := gocv.NewMat()
	if img.Channels() == 1 {
		img.CopyTo(&grey)
		return grey, nil
	}
	ch := gocv.Split(img)
	gocv.Min(ch[0], ch[1], &grey)
	gocv.Min(grey, ch[2], &grey)
	for _, c := range ch {
		c.Close()
	}
	return grey, nil
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

func zxing(grey gocv.Mat, harder bool, method string, scale float64) ([]vision.Code, error) {
	if !grey.IsContinuous() {
		return nil, errors.New("qr: zxing: image not continuous")
	}
	h := C.int(0)
	if harder {
		h = 1
	}
	var codes *C.GGCode
	var cerr *C.char
	n := int(C.GGZXing_Read(unsafe.Pointer(grey.Ptr()), h, &codes, &cerr))
	return collect(codes, n, cerr, method, scale)
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
