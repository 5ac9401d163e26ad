// Package vision holds the contract between the face camera's pipeline and the
// gate: what one processed frame yields (QR codes with their corners and colour,
// faces with their landmarks) and the quality measures the gate relies on. It is
// pure Go; the OpenCV code that fills these types lives in the packages below it
// (vision/face, vision/qr, vision/sim).
package vision

import (
	"image"
	"time"
)

// Colour is the colour class of a health code's dark modules. It is a hint
// only: a colour read from an image can be forged, so it never admits alone.
type Colour int

// Colour classes.
const (
	ColourUnknown Colour = iota
	ColourBlack
	ColourGreen
	ColourYellow
	ColourRed
	ColourOther
)

var colourNames = [...]string{"unknown", "black", "green", "yellow", "red", "other"}

// String returns the lower-case name used in events and configs.
func (c Colour) String() string {
	if c < 0 || int(c) >= len(colourNames) {
		return "unknown"
	}
	return colourNames[c]
}

// Code is one QR code found in a frame.
type Code struct {
	// Text is the decoded payload as text (decoded per the code's ECI or
	// guessed encoding, see Encoding); Raw holds the bytes as read.
	Text string
	// Raw is the payload's bytes as read, when known. It is the authority
	// for payloads that are not UTF-8 (Encoding says how Text was made).
	Raw []byte
	// Encoding names the character set Text was decoded from ("utf-8",
	// "shift_jis", "iso-8859-1"); empty when unknown.
	Encoding string
	// Method names the decoding strategy that read the code (diagnostics).
	Method string
	// FirstSeen is true in the first frame of a run of consecutive frames
	// showing this code (see CodeTracker); a consumer that wants each
	// presentation of a code once acts on it only then.
	FirstSeen bool
	// Corners are the four corners in frame pixels, clockwise from top left.
	Corners [4]image.Point
	// Colour is the colour class of the code's dark modules.
	Colour Colour
}

// Landmark indexes Face.Landmarks, in YuNet's order.
type Landmark int

// The five facial landmarks.
const (
	RightEye Landmark = iota // the subject's right eye (left in the image)
	LeftEye
	NoseTip
	MouthRight
	MouthLeft
)

// Face is one face found in a frame.
type Face struct {
	// Box is the face's bounding box in frame pixels.
	Box image.Rectangle
	// Landmarks are eyes, nose tip and mouth corners; valid when HasLandmarks.
	Landmarks [5]image.Point
	// HasLandmarks is false for detectors without landmarks (Haar cascade).
	HasLandmarks bool
	// Score is the detector's confidence, 0–1 (1 for Haar).
	Score float32
	// Sharpness is the variance of the Laplacian over the face (higher is sharper).
	Sharpness float64
	// EyeDistance is the distance between the eye landmarks in pixels; 0
	// without landmarks.
	EyeDistance float64
	// YawDeg and RollDeg are the head's turn and tilt estimated from the
	// landmarks, in degrees (0 is square-on); 0 without landmarks.
	YawDeg, RollDeg float64
	// Quality is the verdict of Assess: whether the face is good enough to
	// measure and identify, and if not, why.
	Quality Quality
	// Descriptor is the face's descriptor (vision/facerec) when the pipeline
	// computes one: only for good faces with landmarks. It is a biometric
	// template: it stays on the device and never goes into logs or events.
	Descriptor []float32
}

// Observation is everything found in one face-camera frame.
type Observation struct {
	// Seq counts frames from the camera, starting at 1.
	Seq uint64
	// Time is when the frame was captured.
	Time time.Time
	// Size is the frame's size in pixels.
	Size image.Point
	// Codes are the QR codes in the frame.
	Codes []Code
	// Faces are the faces in the frame, the subject (see Subject) among them.
	Faces []Face
	// Err is set when the camera failed; the other fields are then empty.
	Err error
}

// Subject returns the face of the person at the gate: the largest face, ties
// broken by closeness to the frame's centre. ok is false when there is none.
func (o *Observation) Subject() (f Face, ok bool) {
	centre := image.Pt(o.Size.X/2, o.Size.Y/2)
	best := -1
	var bestArea, bestDist int
	for i, c := range o.Faces {
		area := c.Box.Dx() * c.Box.Dy()
		m := c.Box.Min.Add(c.Box.Max).Div(2).Sub(centre)
		dist := m.X*m.X + m.Y*m.Y
		if best < 0 || area > bestArea || (area == bestArea && dist < bestDist) {
			best, bestArea, bestDist = i, area, dist
		}
	}
	if best < 0 {
		return Face{}, false
	}
	return o.Faces[best], true
}
