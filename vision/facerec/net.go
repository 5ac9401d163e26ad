package facerec

/*
#cgo CPPFLAGS: -I/usr/include/opencv4
#cgo LDFLAGS: -lopencv_face -lopencv_dnn -lopencv_imgproc -lopencv_core
#cgo CXXFLAGS: -std=c++11
#include <stdlib.h>
#include "facerec.h"
*/
import "C"

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"os"
	"unsafe"

	"gocv.io/x/gocv"

	"github.com/gateguard/gateguard/vision/facerec/convert"
)

// NetName names the ResNet descriptor.
const NetName = "faceapi-resnet128"

// NetThreshold is the default largest euclidean distance of a match for
// Net, chosen on ORL identities s1–s12 only (docs/face-verification.md):
// with mirror-averaged descriptors and mean-template scoring, midway
// between the largest threshold with no false accept there (0.5077) and
// the smallest with no false reject (0.4392): 0.4734, not rounded (rounded
// to 0.47 the held-out identities lose one more genuine attempt of 91).
const NetThreshold = 0.4734

// Net is face-api's 128-d ResNet face descriptor, converted to ONNX (see
// vision/facerec/convert), run by OpenCV's dnn module through gocv.
type Net struct {
	net  gocv.Net
	id   string
	open bool
}

var _ Descriptor = (*Net)(nil)

// NewNet loads the converted ONNX model at path.
func NewNet(path string) (*Net, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("facerec: model: %w", err)
	}
	// gocv does not catch OpenCV's exceptions: check the model loads first,
	// so a bad file is an error and not an abort.
	cs := C.CString(path)
	defer C.free(unsafe.Pointer(cs))
	if cerr := C.GGFacerec_CheckONNX(cs); cerr != nil {
		return nil, fmt.Errorf("facerec: model %q: %s", path, takeErr(cerr))
	}
	net := gocv.ReadNetFromONNX(path)
	if net.Empty() {
		return nil, fmt.Errorf("facerec: model %q: OpenCV read no layers", path)
	}
	sum := sha256.Sum256(b)
	// "+mirror": descriptors are mirror-averaged (Embed), so templates
	// enrolled with single-pass descriptors are refused as another model.
	n := &Net{net: net, id: NetName + "+mirror@" + hex.EncodeToString(sum[:8]), open: true}
	return n, nil
}

// Name is NetName.
func (n *Net) Name() string { return NetName }

// ModelID is NetName, "+mirror", and the first 8 bytes of the model file's
// SHA-256.
func (n *Net) ModelID() string { return n.id }

// Threshold is NetThreshold.
func (n *Net) Threshold() float64 { return NetThreshold }

// Distance is the euclidean distance.
func (n *Net) Distance(a, b []float32) float64 { return Distance(a, b) }

// Embed computes the 128-d descriptor of a BGR chip from Align: the mean of
// the network's descriptors of the chip and of its mirror image (test-time
// augmentation; on ORL s1–s12 it, with mean-template scoring, widened the
// gap between genuine and impostor distances the most, see
// docs/face-verification.md).
func (n *Net) Embed(chip gocv.Mat) ([]float32, error) {
	a, err := n.EmbedSingle(chip)
	if err != nil {
		return nil, err
	}
	mirror := gocv.NewMat()
	defer mirror.Close()
	gocv.Flip(chip, &mirror, 1)
	b, err := n.EmbedSingle(mirror)
	if err != nil {
		return nil, err
	}
	for i := range a {
		a[i] = (a[i] + b[i]) / 2
	}
	return a, nil
}

// EmbedSingle computes the network's 128-d descriptor of a BGR chip in one
// pass, as face-api itself does (the converter's reference).
func (n *Net) EmbedSingle(chip gocv.Mat) ([]float32, error) {
	if !n.open {
		return nil, errors.New("facerec: net closed")
	}
	if err := checkChip(chip); err != nil {
		return nil, err
	}
	// RGB planes, 0–255: the graph subtracts face-api's mean and scales.
	blob := gocv.BlobFromImage(chip, 1, image.Pt(ChipSize, ChipSize), gocv.NewScalar(0, 0, 0, 0), true, false)
	defer blob.Close()
	n.net.SetInput(blob, convert.InputName)
	out := n.net.Forward(convert.OutputName)
	defer out.Close()
	if out.Total() != convert.Dim {
		return nil, fmt.Errorf("facerec: net gave %d values, want %d", out.Total(), convert.Dim)
	}
	v, err := out.DataPtrFloat32()
	if err != nil {
		return nil, fmt.Errorf("facerec: net output: %w", err)
	}
	return append([]float32(nil), v...), nil
}

// Close frees the network; it is idempotent.
func (n *Net) Close() error {
	if !n.open {
		return nil
	}
	n.open = false
	return n.net.Close()
}

func takeErr(s *C.char) string {
	if s == nil {
		return "unknown error"
	}
	defer C.free(unsafe.Pointer(s))
	return C.GoString(s)
}
