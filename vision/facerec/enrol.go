package facerec

import (
	"errors"
	"fmt"
	"math"
	"os"

	"gocv.io/x/gocv"

	"github.com/gateguard/gateguard/vision"
	"github.com/gateguard/gateguard/vision/imagefile"
)

// Detector finds faces with landmarks in an image (vision/face's YuNet).
type Detector interface {
	Detect(img gocv.Mat) ([]vision.Face, error)
}

// PhotoReason says why a photo was refused for enrolment.
type PhotoReason string

// Reasons a photo is refused.
const (
	PhotoUnreadable PhotoReason = "unreadable" // not a file, or not an image
	PhotoNoFace     PhotoReason = "no_face"
	PhotoTwoFaces   PhotoReason = "two_faces" // more than one face: whose?
	PhotoTooSmall   PhotoReason = "too_small"
	PhotoBlurred    PhotoReason = "blurred"
	PhotoTurned     PhotoReason = "turned"
)

// PhotoError is a photo refused for enrolment, with the reason and what
// was measured.
type PhotoError struct {
	Path   string
	Reason PhotoReason
	Detail string
}

func (e *PhotoError) Error() string {
	return fmt.Sprintf("facerec: photo %s: %s: %s", e.Path, e.Reason, e.Detail)
}

// EnrolQuality are the limits an enrolment photo's face must meet. They are
// looser on size than the gate's (a passport photo is small) but refuse a
// turned or tilted head: a template taken turned away matches badly for
// ever.
type EnrolQuality struct {
	// MinEyeDistance is the least distance between the eyes, in pixels.
	MinEyeDistance float64
	// MinSharpness is the least variance of the Laplacian over the face.
	MinSharpness float64
	// MaxYawDeg and MaxRollDeg bound the head's turn and tilt.
	MaxYawDeg, MaxRollDeg float64
}

// DefaultEnrolQuality: eyes at least 20 pixels apart (the chip puts them
// about 50 apart: more upscaling than that only blurs), sharpness 15,
// turned at most 20° and tilted at most 20°.
var DefaultEnrolQuality = EnrolQuality{MinEyeDistance: 20, MinSharpness: 15, MaxYawDeg: 20, MaxRollDeg: 20}

// Enroller computes enrolment descriptors from photos: each photo's one
// face is found, quality-checked, aligned and described. It is not safe
// for concurrent use.
type Enroller struct {
	Detector   Detector
	Descriptor Descriptor
	Quality    EnrolQuality
}

// Photo returns the descriptor of the one face in the image file at path,
// or a *PhotoError saying why the photo cannot be used.
func (e *Enroller) Photo(path string) ([]float32, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, &PhotoError{path, PhotoUnreadable, err.Error()}
	}
	img, err := imagefile.Read(path)
	if err != nil {
		return nil, &PhotoError{path, PhotoUnreadable, "not a readable image (JPEG, PNG, WebP, BMP, TIFF, PGM…): " + err.Error()}
	}
	defer img.Close()
	faces, err := e.Detector.Detect(img)
	if err != nil {
		return nil, fmt.Errorf("facerec: photo %s: detect: %w", path, err)
	}
	f, err := e.onlyFace(path, faces)
	if err != nil {
		return nil, err
	}
	chip := gocv.NewMat()
	defer chip.Close()
	if err := AlignFace(img, f, &chip); err != nil {
		return nil, &PhotoError{path, PhotoTurned, err.Error()}
	}
	d, err := e.Descriptor.Embed(chip)
	if err != nil {
		return nil, fmt.Errorf("facerec: photo %s: %w", path, err)
	}
	return d, nil
}

// onlyFace returns the photo's one face, checked against the quality limits.
func (e *Enroller) onlyFace(path string, faces []vision.Face) (vision.Face, error) {
	switch len(faces) {
	case 0:
		return vision.Face{}, &PhotoError{path, PhotoNoFace, "no face found"}
	case 1:
	default:
		return vision.Face{}, &PhotoError{path, PhotoTwoFaces, fmt.Sprintf("%d faces found: use a photo of the one person", len(faces))}
	}
	f := faces[0]
	if !f.HasLandmarks {
		return f, &PhotoError{path, PhotoNoFace, "the detector gives no landmarks (use YuNet)"}
	}
	return f, CheckEnrolFace(path, f, e.Quality)
}

// CheckEnrolFace checks a detected face against the enrolment limits q; it
// returns a *PhotoError naming the first limit missed.
func CheckEnrolFace(path string, f vision.Face, q EnrolQuality) error {
	eye, yaw, roll, ok := vision.Pose(f)
	switch {
	case !ok || eye < q.MinEyeDistance:
		return &PhotoError{path, PhotoTooSmall, fmt.Sprintf("eyes %.0f px apart, at least %.0f needed", eye, q.MinEyeDistance)}
	case !(f.Sharpness >= q.MinSharpness):
		// Before the pose: blurred landmarks give a pose of no meaning.
		return &PhotoError{path, PhotoBlurred, fmt.Sprintf("sharpness %.0f, at least %.0f", f.Sharpness, q.MinSharpness)}
	case q.MaxYawDeg > 0 && math.Abs(yaw) > q.MaxYawDeg:
		return &PhotoError{path, PhotoTurned, fmt.Sprintf("head turned %.0f°, at most %.0f°", math.Abs(yaw), q.MaxYawDeg)}
	case q.MaxRollDeg > 0 && math.Abs(roll) > q.MaxRollDeg:
		return &PhotoError{path, PhotoTurned, fmt.Sprintf("head tilted %.0f°, at most %.0f°", math.Abs(roll), q.MaxRollDeg)}
	}
	return nil
}

// IsPhotoError reports whether err is a refused photo (as opposed to a
// failure of the detector or the descriptor), and returns it.
func IsPhotoError(err error) (*PhotoError, bool) {
	var pe *PhotoError
	ok := errors.As(err, &pe)
	return pe, ok
}

// Describer computes the descriptor of a face in a camera frame: it aligns
// the face onto a chip it keeps between frames and embeds it. vision/scan
// uses it to fill vision.Face.Descriptor. It is not safe for concurrent
// use.
type Describer struct {
	d    Descriptor
	chip gocv.Mat
}

// NewDescriber returns a Describer over d; Close frees its chip (not d).
func NewDescriber(d Descriptor) *Describer { return &Describer{d: d, chip: gocv.NewMat()} }

// Describe returns the descriptor of f, seen in frame.
func (s *Describer) Describe(frame gocv.Mat, f vision.Face) ([]float32, error) {
	if err := AlignFace(frame, f, &s.chip); err != nil {
		return nil, err
	}
	return s.d.Embed(s.chip)
}

// Close frees the chip; it is idempotent.
func (s *Describer) Close() error {
	if s.chip.Ptr() != nil {
		s.chip.Close()
	}
	return nil
}
