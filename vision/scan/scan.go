// Package scan is the face camera's pipeline: it reads frames from a camera
// source, finds QR codes and faces in each, and hands the gate one
// vision.Observation per frame, with each code marked when it is first seen
// (vision.CodeTracker) and a failed or stalled camera reported as an
// Observation with Err set. It owns no goroutine of its own: Run is called by
// its owner and returns when the context ends (a camera.Live source's capture
// goroutine is started by Run on that context).
package scan

import (
	"context"
	"fmt"
	"image"
	"log/slog"
	"time"

	"gocv.io/x/gocv"

	"github.com/gateguard/gateguard/vision"
)

// Source is a camera: Read blocks until the next frame and fills m.
type Source interface {
	Read(ctx context.Context, m *gocv.Mat) error
	Close() error
	String() string
}

// CodeDecoder finds QR codes in a frame (vision/qr implements it).
type CodeDecoder interface {
	Decode(img gocv.Mat) ([]vision.Code, error)
}

// FaceDetector finds faces in a frame (vision/face implements it).
type FaceDetector interface {
	Detect(img gocv.Mat) ([]vision.Face, error)
}

// FaceDescriber computes a face's descriptor from the frame it was found in
// (vision/facerec's Describer implements it).
type FaceDescriber interface {
	Describe(frame gocv.Mat, f vision.Face) ([]float32, error)
}

// Scanner runs the pipeline on one source.
type Scanner struct {
	Source Source
	Codes  CodeDecoder  // nil: no QR decoding
	Faces  FaceDetector // nil: no face detection
	// Describer, when set, fills the Descriptor of every good face with
	// landmarks, for matching against enrolled faces.
	Describer FaceDescriber
	Log       *slog.Logger
	// Retry is the wait after a failed read before the next; it doubles up to
	// MaxRetry while reads keep failing.
	Retry, MaxRetry time.Duration
	// CodeGap is how many frames in a row a code may be missed and still be
	// the same presentation (see vision.CodeTracker).
	CodeGap uint64

	codes vision.CodeTracker
}

// starter is a source with its own capture goroutine (camera.Live).
type starter interface {
	Start(ctx context.Context)
}

// Run reads and processes frames until ctx ends, calling emit for each frame
// and for each failed read (with Observation.Err set).
func (s *Scanner) Run(ctx context.Context, emit func(vision.Observation)) {
	log := s.log()
	retry := s.Retry
	if retry <= 0 {
		retry = 100 * time.Millisecond
	}
	maxRetry := max(s.MaxRetry, retry)
	wait := retry
	if st, ok := s.Source.(starter); ok {
		st.Start(ctx)
	}
	s.codes.Gap = s.CodeGap
	frame := gocv.NewMat()
	defer frame.Close()
	var seq uint64
	for ctx.Err() == nil {
		err := s.Source.Read(ctx, &frame)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			log.Warn("camera read failed", "camera", s.Source.String(), "err", err)
			emit(vision.Observation{Time: time.Now(), Err: fmt.Errorf("camera %s: %w", s.Source, err)})
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			wait = min(2*wait, maxRetry)
			continue
		}
		wait = retry
		seq++
		o := s.Process(frame, seq)
		s.codes.Mark(seq, o.Codes)
		for _, c := range o.Codes {
			if c.FirstSeen {
				log.Info("qr code seen", "text_len", len(c.Text), "encoding", c.Encoding,
					"colour", c.Colour.String(), "method", c.Method, "frame", seq)
			}
		}
		emit(o)
	}
}

// Process finds codes and faces in one frame.
func (s *Scanner) Process(frame gocv.Mat, seq uint64) vision.Observation {
	o := vision.Observation{Seq: seq, Time: time.Now(), Size: image.Pt(frame.Cols(), frame.Rows())}
	if s.Codes != nil {
		codes, err := s.Codes.Decode(frame)
		if err != nil {
			s.log().Warn("qr decode failed", "err", err)
		}
		o.Codes = codes
	}
	if s.Faces != nil {
		faces, err := s.Faces.Detect(frame)
		if err != nil {
			s.log().Warn("face detection failed", "err", err)
		}
		o.Faces = faces
		s.describe(frame, o.Faces)
	}
	return o
}

func (s *Scanner) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

// describe fills the descriptors of the good faces with landmarks.
func (s *Scanner) describe(frame gocv.Mat, faces []vision.Face) {
	if s.Describer == nil {
		return
	}
	for i, f := range faces {
		if !f.HasLandmarks || (f.Quality.Assessed && !f.Quality.Good) {
			continue
		}
		d, err := s.Describer.Describe(frame, f)
		if err != nil {
			s.log().Debug("no face descriptor", "err", err)
			continue
		}
		faces[i].Descriptor = d
	}
}
