package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/vision"
	"github.com/gateguard/gateguard/vision/face"
	"github.com/gateguard/gateguard/vision/qr"
	"github.com/gateguard/gateguard/vision/scan"
)

// newScanner builds the camera loop on src: the QR decoder and the face
// detector the config selects. The detectors are handed to cl.
func newScanner(v configs.Vision, src scan.Source, log *slog.Logger, cl *closers) (*scan.Scanner, error) {
	// The slow QR strategies run on one frame in three: a code held up is
	// in view for many frames, and frames without one stay cheap.
	dec, err := qr.NewWithOpts(qr.Opts{SlowEvery: 3})
	if err != nil {
		return nil, err
	}
	cl.add(dec.Close)
	faces, err := newFaceDetector(v, cl)
	if err != nil {
		return nil, err
	}
	return &scan.Scanner{Source: src, Codes: dec, Faces: faces, Log: log,
		Retry: 100 * time.Millisecond, MaxRetry: 5 * time.Second, CodeGap: 2}, nil
}

// newFaceDetector builds YuNet when vision.face_model is set, else the Haar
// cascade, both with the configured quality gate.
func newFaceDetector(v configs.Vision, cl *closers) (scan.FaceDetector, error) {
	fq := v.Quality
	quality := vision.DefaultQuality
	quality.MinEyeDistance, quality.MinSharpness = float64(fq.MinEyePixels), fq.MinSharpness
	quality.MaxYawDeg, quality.MaxRollDeg = fq.MaxYawDeg, fq.MaxRollDeg
	if m := v.FaceModel; m != "" {
		o := face.DefaultYuNetOpts
		o.MinSize = v.MinFacePixels
		o.Quality = quality
		o.DetectWidth = 320 // a face at the gate is large; 4× fewer pixels
		y, err := face.NewYuNet(m, &o)
		if err != nil {
			return nil, fmt.Errorf("vision.face_model: %w", err)
		}
		cl.add(y.Close)
		return y, nil
	}
	h, err := face.NewHaar(v.HaarCascade, v.MinFacePixels)
	if err != nil {
		return nil, fmt.Errorf("vision.haar_cascade: %w", err)
	}
	h.Quality = quality
	cl.add(h.Close)
	return h, nil
}
