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
// Net, chosen on ORL identities s1–s12 by eval-faces' rule (midway between
// the largest threshold with no false accept there, 0.5276, and the
// smallest with no false reject, 0.4765: 0.5020, rounded); see README.
const NetThreshold = 0.50

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
	n := &Net{net: net, id: NetName + "@" + hex.EncodeToString(sum[:8]), open: true}
	return n, nil
}

// Name is NetName.
func (n *Net) Name() string { return NetName }

// ModelID is NetName and the first 8 bytes of the model file's SHA-256.
func (n *Net) ModelID() string { return n.id }

// Threshold is NetThreshold.
func (n *Net) Threshold() float64 { return NetThreshold }

// Distance is the euclidean distance.
func (n *Net) Distance(a, b []float32) float64 { return Distance(a, b) }

// Embed computes the 128-d descriptor of a BGR chip from Align.
func (n *Net) Embed(chip gocv.Mat) ([]float32, error) {
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
