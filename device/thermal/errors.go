package thermal

import "errors"

// Errors a thermometer (the fusion of a face and a thermal frame) returns
// when it cannot give a reading the gate may decide on. The gate tells them
// apart with errors.Is.
var (
	// ErrUnavailable means screening is paused: the blackbody reference is
	// missing or unstable, so no reading can be trusted. The gate applies
	// its thermal fail mode and raises a device fault.
	ErrUnavailable = errors.New("thermal: screening unavailable")
	// ErrTooFar means the face is too small to measure: step closer.
	ErrTooFar = errors.New("thermal: face too far to measure")
	// ErrTooClose means the face overfills the view: step back.
	ErrTooClose = errors.New("thermal: face too close to measure")
	// ErrTurned means the face is turned away from the camera: the inner
	// canthi are not seen square-on, so they read low. Face the camera.
	ErrTurned = errors.New("thermal: face turned away from the camera")
)
