// Package qr decodes QR codes in camera frames with OpenCV's wechat_qrcode
// module, reached through a small project-owned cgo bridge (gocv does not bind
// it, and Debian's cv::QRCodeDetector cannot decode: it is built without QUIRC).
// The detector runs without its CNN models (empty paths), so nothing is loaded
// at run time.
package qr

/*
#cgo pkg-config: opencv4
#cgo CXXFLAGS: -std=c++11
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

// Decoder finds and decodes QR codes. It is safe for concurrent use; calls
// are serialised because OpenCV's detector keeps per-call state.
type Decoder struct {
	mu sync.Mutex // guards d
	d  C.GGWeChat
}

// New builds a decoder.
func New() (*Decoder, error) {
	var cerr *C.char
	d := C.GGWeChat_New(&cerr)
	if d == nil {
		return nil, fmt.Errorf("qr: wechat_qrcode: %s", takeErr(cerr))
	}
	return &Decoder{d: d}, nil
}

// Close frees the detector; the decoder must not be used after.
func (d *Decoder) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.d != nil {
		C.GGWeChat_Close(d.d)
		d.d = nil
	}
	return nil
}

// Decode returns the codes in img (BGR or grey). An empty or too small image
// yields no codes and no error.
func (d *Decoder) Decode(img gocv.Mat) ([]vision.Code, error) {
	if img.Empty() || img.Rows() < 21 || img.Cols() < 21 {
		return nil, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.d == nil {
		return nil, errors.New("qr: decoder closed")
	}
	var codes *C.GGCode
	var cerr *C.char
	n := int(C.GGWeChat_Detect(d.d, unsafe.Pointer(img.Ptr()), &codes, &cerr))
	if n < 0 {
		return nil, fmt.Errorf("qr: detect: %s", takeErr(cerr))
	}
	defer C.GGWeChat_Free(codes, C.int(n))
	out := make([]vision.Code, 0, n)
	for _, c := range unsafe.Slice(codes, n) {
		if c.len <= 0 || c.len > MaxPayload || c.data == nil {
			continue
		}
		raw := C.GoBytes(unsafe.Pointer(c.data), c.len)
		code := vision.Code{Text: string(raw)}
		if !utf8.Valid(raw) {
			code.Text = ""
			code.Raw = raw
		}
		for k := range 4 {
			code.Corners[k] = image.Pt(int(c.pts[2*k]+0.5), int(c.pts[2*k+1]+0.5))
		}
		out = append(out, code)
	}
	return out, nil
}

func takeErr(s *C.char) string {
	if s == nil {
		return "unknown error"
	}
	defer C.free(unsafe.Pointer(s))
	return C.GoString(s)
}
