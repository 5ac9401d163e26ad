package convert

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
)

// Files of face-api's face recognition model, as @vladmandic/face-api ships
// them in its model/ folder.
const (
	ManifestFile = "face_recognition_model-weights_manifest.json"
	WeightsFile  = "face_recognition_model.bin"
)

// The pinned release of the weights: @vladmandic/face-api 1.7.15 (MIT).
// Convert refuses other files, so a descriptor computed on one gate means the
// same on every other.
const (
	FaceAPIVersion = "1.7.15"
	ManifestSHA256 = "cbaffa501b0b9275a12b63357a6843e7e30c054e1c9151e1a5f879b26e32986b"
	WeightsSHA256  = "b413e420d6840b2775fba32008db6f3cddb07d485967fb42cfcf379c16a8c589"
)

// Tensor is one weight tensor: its shape (TF layout: filters are HWIO) and
// values, dequantised to float32.
type Tensor struct {
	Shape []int
	Data  []float32
}

func (t Tensor) size() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Weights are a tfjs weights manifest's tensors by name.
type Weights map[string]Tensor

type manifestGroup struct {
	Paths   []string `json:"paths"`
	Weights []struct {
		Name         string `json:"name"`
		Shape        []int  `json:"shape"`
		Dtype        string `json:"dtype"`
		Quantization *struct {
			Dtype string  `json:"dtype"`
			Scale float64 `json:"scale"`
			Min   float64 `json:"min"`
		} `json:"quantization"`
	} `json:"weights"`
}

// maxTensor bounds one tensor's element count (the largest here has 589,824).
const maxTensor = 1 << 24

// ParseWeights decodes a TensorFlow.js weights manifest and its weight
// buffer (the manifest's paths concatenated, in order). Tensors are float32,
// either raw (little-endian) or uint8-quantised per tensor, value = q·scale +
// min, computed as tfjs does (in float64, stored as float32).
func ParseWeights(manifest, buf []byte) (Weights, error) {
	var groups []manifestGroup
	if err := json.Unmarshal(manifest, &groups); err != nil {
		return nil, fmt.Errorf("convert: weights manifest: %w", err)
	}
	if len(groups) == 0 {
		return nil, errors.New("convert: weights manifest: no weight groups")
	}
	w := Weights{}
	off := 0
	for _, g := range groups {
		for _, e := range g.Weights {
			t := Tensor{Shape: e.Shape}
			n := t.size()
			switch {
			case e.Name == "":
				return nil, errors.New("convert: weights manifest: a tensor has no name")
			case n <= 0 || n > maxTensor:
				return nil, fmt.Errorf("convert: tensor %s: shape %v", e.Name, e.Shape)
			case e.Dtype != "float32":
				return nil, fmt.Errorf("convert: tensor %s: dtype %q, want float32", e.Name, e.Dtype)
			case w[e.Name].Data != nil:
				return nil, fmt.Errorf("convert: tensor %s: listed twice", e.Name)
			}
			q := e.Quantization
			width := 4
			if q != nil {
				if q.Dtype != "uint8" {
					return nil, fmt.Errorf("convert: tensor %s: quantisation %q, want uint8", e.Name, q.Dtype)
				}
				width = 1
			}
			if off+n*width > len(buf) {
				return nil, fmt.Errorf("convert: tensor %s: needs bytes %d–%d, the weights have %d", e.Name, off, off+n*width, len(buf))
			}
			b := buf[off : off+n*width]
			off += n * width
			t.Data = make([]float32, n)
			for i := range t.Data {
				if q != nil {
					t.Data[i] = float32(float64(b[i])*q.Scale + q.Min)
				} else {
					t.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
				}
			}
			w[e.Name] = t
		}
	}
	if off != len(buf) {
		return nil, fmt.Errorf("convert: weights: %d bytes left over after the last tensor", len(buf)-off)
	}
	return w, nil
}

// LoadWeights reads face-api's face recognition model from dir (ManifestFile
// and WeightsFile) and checks both against the pinned release's SHA-256.
func LoadWeights(dir string) (Weights, error) {
	manifest, err := readPinned(filepath.Join(dir, ManifestFile), ManifestSHA256)
	if err != nil {
		return nil, err
	}
	buf, err := readPinned(filepath.Join(dir, WeightsFile), WeightsSHA256)
	if err != nil {
		return nil, err
	}
	return ParseWeights(manifest, buf)
}
