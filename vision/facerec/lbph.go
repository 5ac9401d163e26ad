package facerec

/*
#include <stdlib.h>
#include "facerec.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"math"
	"unsafe"

	"gocv.io/x/gocv"
)

// LBPHName names the LBPH fallback; the name itself warns that it is weak.
const LBPHName = "lbph-weak-fallback"

// LBPHThreshold is the default largest chi-square distance of a match for
// LBPH, chosen by the same rule as NetThreshold on ORL s1–s12 (the rule gave
// 55.91: no false accept there, but 26 % of genuine attempts rejected).
const LBPHThreshold = 55.9

// LBPH is the fallback descriptor: OpenCV's local binary pattern histograms
// (cv::face::LBPHFaceRecognizer, radius 1, 8 neighbours, 8×8 cells) of the
// grey chip, compared by chi-square distance as LBPH's own predict does. It
// needs no model file and is much weaker than Net: use it only when no
// model is installed.
type LBPH struct {
	l    C.GGLBPH
	grey gocv.Mat
}

var _ Descriptor = (*LBPH)(nil)

// NewLBPH makes the LBPH descriptor.
func NewLBPH() (*LBPH, error) {
	var cerr *C.char
	l := C.GGLBPH_New(1, 8, 8, 8, &cerr)
	if l == nil {
		return nil, fmt.Errorf("facerec: lbph: %s", takeErr(cerr))
	}
	return &LBPH{l: l, grey: gocv.NewMat()}, nil
}

// Name is LBPHName.
func (l *LBPH) Name() string { return LBPHName }

// ModelID names the LBPH parameters (there is no model file).
func (l *LBPH) ModelID() string { return LBPHName + "@r1n8g8x8" }

// Threshold is LBPHThreshold.
func (l *LBPH) Threshold() float64 { return LBPHThreshold }

// Embed computes the LBP histogram of the grey chip.
func (l *LBPH) Embed(chip gocv.Mat) ([]float32, error) {
	if l.l == nil {
		return nil, errors.New("facerec: lbph closed")
	}
	if err := checkChip(chip); err != nil {
		return nil, err
	}
	gocv.CvtColor(chip, &l.grey, gocv.ColorBGRToGray)
	var out *C.float
	var cerr *C.char
	n := int(C.GGLBPH_Histogram(l.l, unsafe.Pointer(l.grey.Ptr()), &out, &cerr))
	if n < 0 {
		return nil, fmt.Errorf("facerec: lbph: %s", takeErr(cerr))
	}
	defer C.free(unsafe.Pointer(out))
	return append([]float32(nil), unsafe.Slice((*float32)(unsafe.Pointer(out)), n)...), nil
}

// Distance is the chi-square distance OpenCV's LBPH uses (HISTCMP_CHISQR_ALT:
// 2·Σ (a−b)²/(a+b)); +Inf for histograms of different lengths.
func (l *LBPH) Distance(a, b []float32) float64 {
	if len(a) != len(b) || len(a) == 0 {
		return math.Inf(1)
	}
	var s float64
	for i := range a {
		if sum := float64(a[i]) + float64(b[i]); sum > 0 {
			d := float64(a[i]) - float64(b[i])
			s += d * d / sum
		}
	}
	return 2 * s
}

// Close frees the recognizer; it is idempotent.
func (l *LBPH) Close() error {
	if l.l == nil {
		return nil
	}
	C.GGLBPH_Close(l.l)
	l.l = nil
	return l.grey.Close()
}
