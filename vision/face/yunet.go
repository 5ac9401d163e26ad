package face

/*
#cgo CPPFLAGS: -I/usr/include/opencv4
#cgo LDFLAGS: -lopencv_objdetect -lopencv_imgproc -lopencv_core
#cgo CXXFLAGS: -std=c++11
#include <stdlib.h>
#include "yunet.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"image"
	"math"
	"os"
	"unsafe"

	"gocv.io/x/gocv"

	"github.com/gateguard/gateguard/vision"
)

// YuNetOpts configures the YuNet detector.
type YuNetOpts struct {
	// Score is the least confidence of a face (0–1).
	Score float32
	// NMS is the overlap above which boxes are merged.
	NMS float32
	// TopK bounds the candidates kept before merging.
	TopK int
	// MinSize drops faces narrower than this many pixels (in the frame).
	MinSize int
	// DetectWidth, when set, runs the network on a copy of the frame scaled
	// down to this width (the cost grows with the pixels; a face at the gate
	// is large). Boxes and landmarks are mapped back to frame pixels, and
	// sharpness is measured on the full frame. 0: the frame as it is.
	DetectWidth int
	// Quality are the limits of a good face (see vision.Assess).
	Quality vision.QualityOpts
}

// DefaultYuNetOpts keep faces scored 0.6 or more (a small face such as
// messi5.jpg's scores 0.77) and merge boxes overlapping by 30%.
var DefaultYuNetOpts = YuNetOpts{Score: 0.6, NMS: 0.3, TopK: 5000, MinSize: 20, Quality: vision.DefaultQuality}

// MaxSide is the largest frame side Detect accepts; larger frames are an
// error (the network's memory grows with the frame).
const MaxSide = 4096

// YuNet detects faces with five landmarks using OpenCV's FaceDetectorYN
// (libfacedetection's YuNet model, e.g. yunet_120x160.onnx). It is not safe
// for concurrent use.
type YuNet struct {
	d     C.GGYuNet
	o     YuNetOpts
	grey  gocv.Mat
	lap   gocv.Mat
	small gocv.Mat
}

// NewYuNet loads the ONNX model at path; o nil means DefaultYuNetOpts.
func NewYuNet(path string, o *YuNetOpts) (*YuNet, error) {
	if o == nil {
		o = &DefaultYuNetOpts
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("face: yunet model: %w", err)
	}
	cs := C.CString(path)
	defer C.free(unsafe.Pointer(cs))
	var cerr *C.char
	d := C.GGYuNet_New(cs, C.float(o.Score), C.float(o.NMS), C.int(o.TopK), &cerr)
	if d == nil {
		return nil, fmt.Errorf("face: yunet model %q: %s", path, takeErr(cerr))
	}
	return &YuNet{d: d, o: *o, grey: gocv.NewMat(), lap: gocv.NewMat(), small: gocv.NewMat()}, nil
}

// String names the detector.
func (y *YuNet) String() string { return "yunet" }

// Close frees the network and buffers; it is idempotent.
func (y *YuNet) Close() error {
	if y.d == nil {
		return nil
	}
	C.GGYuNet_Close(y.d)
	y.d = nil
	return errors.Join(y.grey.Close(), y.lap.Close(), y.small.Close())
}

// Detect returns the faces in img (BGR), each with its landmarks, sharpness
// and quality verdict. A frame with no face gives none and no error.
func (y *YuNet) Detect(img gocv.Mat) ([]vision.Face, error) {
	if y.d == nil {
		return nil, errors.New("face: yunet: detector closed")
	}
	if img.Empty() || img.Type() != gocv.MatTypeCV8UC3 {
		return nil, fmt.Errorf("face: want an 8-bit BGR image, got %dx%d with %d channels", img.Cols(), img.Rows(), img.Channels())
	}
	if img.Cols() > MaxSide || img.Rows() > MaxSide {
		return nil, fmt.Errorf("face: frame %dx%d exceeds %d pixels a side", img.Cols(), img.Rows(), MaxSide)
	}
	if img.Cols() < 16 || img.Rows() < 16 {
		return nil, nil
	}
	in, scale := img, float32(1)
	if w := y.o.DetectWidth; w >= 32 && img.Cols() > w {
		scale = float32(img.Cols()) / float32(w)
		h := max(int(float32(img.Rows())/scale+0.5), 16)
		gocv.Resize(img, &y.small, image.Pt(w, h), 0, 0, gocv.InterpolationArea)
		in = y.small
	}
	var out *C.float
	var cerr *C.char
	n := int(C.GGYuNet_Detect(y.d, unsafe.Pointer(in.Ptr()), &out, &cerr))
	if n < 0 {
		return nil, fmt.Errorf("face: yunet: %s", takeErr(cerr))
	}
	if n == 0 {
		return nil, nil
	}
	defer C.free(unsafe.Pointer(out))
	vals := unsafe.Slice((*float32)(unsafe.Pointer(out)), 15*n)
	for i := range vals {
		if i%15 != 14 { // all but the score are pixel coordinates
			vals[i] *= scale
		}
	}
	gocv.CvtColor(img, &y.grey, gocv.ColorBGRToGray)
	frame := image.Rect(0, 0, img.Cols(), img.Rows())
	faces := make([]vision.Face, 0, n)
	for i := range n {
		f, ok := yunetFace(vals[15*i:15*i+15], frame)
		if !ok || f.Box.Dx() < y.o.MinSize {
			continue
		}
		f.Sharpness = sharpness(y.grey, &y.lap, f.Box)
		faces = append(faces, vision.Assess(f, y.o.Quality))
	}
	return faces, nil
}

// yunetFace converts one row of FaceDetectorYN's output (box, five
// landmarks, score) to a face clipped to the frame; ok is false for a row
// with no area in the frame or values that are not numbers.
func yunetFace(v []float32, frame image.Rectangle) (vision.Face, bool) {
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) || math.Abs(float64(x)) > 1e6 {
			return vision.Face{}, false
		}
	}
	r := func(x float32) int { return int(math.Round(float64(x))) }
	box := image.Rect(r(v[0]), r(v[1]), r(v[0]+v[2]), r(v[1]+v[3])).Intersect(frame)
	if box.Empty() {
		return vision.Face{}, false
	}
	f := vision.Face{Box: box, HasLandmarks: true, Score: v[14]}
	for k := range 5 {
		f.Landmarks[k] = image.Pt(r(v[4+2*k]), r(v[5+2*k]))
	}
	return f, true
}

func takeErr(s *C.char) string {
	if s == nil {
		return "unknown error"
	}
	defer C.free(unsafe.Pointer(s))
	return C.GoString(s)
}
