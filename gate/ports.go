package gate

import (
	"context"
	"image"
	"time"

	"github.com/gateguard/gateguard/device/thermal"
	"github.com/gateguard/gateguard/vision"
)

// Turnstile is the lane's actuator (device/relay implements it).
type Turnstile interface {
	// Release lets one person through: a pulse, or a hold, as configured.
	Release() error
	// Free holds the lane open until Secure (fire alarm, free mode).
	Free() error
	// Secure returns the lane to locked.
	Secure() error
}

// Recorder stores gate messages for publication. Record must store the
// message durably before it returns: the gate acts only on recorded events.
type Recorder interface {
	Record(m Message) error
	// Depth returns how many recorded messages are not yet published.
	Depth() int
	// LastSeq returns the highest sequence number ever recorded, so that
	// numbering continues across restarts.
	LastSeq() uint64
}

// StateSink receives the gate's retained state and keeps only the latest.
// SetState must not block.
type StateSink interface {
	SetState(payload []byte)
}

// Verifier turns a decoded QR code into a credential verdict. It is called
// with a context bounded by the check timeout.
type Verifier interface {
	Verify(ctx context.Context, code vision.Code) Credential
}

// VerifierFunc adapts a function to Verifier.
type VerifierFunc func(ctx context.Context, code vision.Code) Credential

// Verify calls f.
func (f VerifierFunc) Verify(ctx context.Context, code vision.Code) Credential { return f(ctx, code) }

// AdmissionSink learns of every admission after its entry event is
// recorded and the lane released (anti-passback keeps its state this way).
// Admitted is called from the controller's goroutine and must not block.
type AdmissionSink interface {
	Admitted(c Credential, at time.Time)
}

// PresenceVerifier is the insecure verifier for demos and bench tests: any
// non-empty payload is a green credential whose holder is the payload, marked
// Insecure so that every event says so.
var PresenceVerifier = VerifierFunc(func(_ context.Context, code vision.Code) Credential {
	if code.Text == "" {
		return Credential{Status: StatusCheckFailed, Kind: "presence", Reasons: []string{"empty payload"}}
	}
	return Credential{Status: StatusGreen, Kind: "presence", Holder: code.Text, Insecure: true}
})

// Thermometer measures the skin temperature of a face seen in a visible frame
// of the given size, from a thermal frame taken at about the same time.
type Thermometer interface {
	Measure(tf *thermal.Frame, face vision.Face, size image.Point) (Reading, error)
}

// InputKind names a digital input.
type InputKind int

// Inputs the gate reacts to.
const (
	InputPassage InputKind = iota
	InputExitButton
	InputFireAlarm
	InputFireReset
)

// Inputs lists every input the gate reacts to, in config order: the one
// list of them that the gate, the daemon's wiring and the scenario runner
// use. Each one's String is its key under gpio in the config.
var Inputs = []InputKind{InputPassage, InputExitButton, InputFireAlarm, InputFireReset}

var inputNames = [...]string{
	InputPassage:    "passage",
	InputExitButton: "exit_button",
	InputFireAlarm:  "fire_alarm",
	InputFireReset:  "fire_reset",
}

// String returns the input's config name (its key under gpio).
func (k InputKind) String() string {
	if k < 0 || int(k) >= len(inputNames) {
		return "unknown"
	}
	return inputNames[k]
}

// InputEvent is a debounced change of a digital input. Active is true when
// the input asserts (passage seen, button pressed, alarm raised).
type InputEvent struct {
	Kind   InputKind
	Active bool
}
