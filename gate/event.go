package gate

import (
	"encoding/json"
	"time"
)

// PayloadVersion is the version of every JSON payload the gate publishes.
const PayloadVersion = 1

// Topics relative to the gate's prefix (<prefix>/<site>/<gate>/).
const (
	TopicAccess       = "event/access"
	TopicAlert        = "event/alert"
	TopicState        = "state"
	TopicInfo         = "info"
	TopicAvailability = "availability"
)

// Event kinds in access events.
const (
	KindEntry      = "entry"       // a credential was presented
	KindExitButton = "exit_button" // the request-to-exit button opened the lane
	KindPassage    = "passage"     // the end of an opening: passed or timed out
	KindFireAlarm  = "fire_alarm"  // the lane opened, or was reset, for a fire alarm
	KindModeChange = "mode_change" // the operating mode changed
	KindRemoteOpen = "remote_open" // an operator's signed command opened the lane
)

// DecisionUnauthorised is the decision of a passage event nobody was
// admitted for: the lane was secured, or its opening already passed.
const DecisionUnauthorised = "unauthorised"

// Event is an entry-log record, published on event/access.
type Event struct {
	V        int       `json:"v"`
	ID       string    `json:"id"`
	Seq      uint64    `json:"seq"`
	Site     string    `json:"site"`
	Gate     string    `json:"gate"`
	Time     time.Time `json:"time"`
	Kind     string    `json:"kind"`
	Decision string    `json:"decision"` // admitted, denied, passed, not_passed, unauthorised, opened, reset
	Reasons  []Reason  `json:"reasons"`
	// Attempt links a passage event to the entry event it closes.
	Attempt    string      `json:"attempt,omitempty"`
	Holder     string      `json:"holder,omitempty"`
	Credential *Credential `json:"credential,omitempty"`
	Colour     string      `json:"colour,omitempty"`
	FaceSeen   bool        `json:"face_seen"`
	Reading    *Reading    `json:"temperature,omitempty"`
	// Face is the comparison of the presenting face with the holder's
	// enrolled face (or, for a face credential, the person recognised):
	// the person id, the distance and the threshold, never a descriptor.
	Face *FaceMatch `json:"face,omitempty"`
	Mode Mode       `json:"mode"`
	// Operator and Request name the signed command behind a remote_open or
	// mode_change event.
	Operator string `json:"operator,omitempty"`
	Request  string `json:"request,omitempty"`
	// OperatorReason is the free-text reason the operator signed into the
	// command (args.reason; always there for an override).
	OperatorReason string `json:"operator_reason,omitempty"`
	// Replayed is set by the publisher on events sent after a reconnect.
	Replayed bool `json:"replayed"`
}

// Alert types.
const (
	AlertFever       = "fever"
	AlertSpoof       = "spoof"
	AlertFireAlarm   = "fire_alarm"
	AlertDeviceFault = "device_fault"
	AlertOutbox      = "outbox"
	AlertPassback    = "passback" // the same pass used twice in the anti-passback window
	// AlertTailgating is a passage nobody was admitted for, or more than
	// one face in the checking zone for one credential; rate-limited per
	// lane with Options.AlertWindow.
	AlertTailgating = "tailgating"
)

// Alert states in an alert's lifecycle.
const (
	AlertNew    = "new"
	AlertUpdate = "update"
	AlertEnd    = "end"
)

// Alert is published on event/alert. AlertID is stable across an alert's
// lifecycle (new → update → end); ID is unique per message.
type Alert struct {
	V        int       `json:"v"`
	ID       string    `json:"id"`
	AlertID  string    `json:"alert_id"`
	Seq      uint64    `json:"seq"`
	Site     string    `json:"site"`
	Gate     string    `json:"gate"`
	Time     time.Time `json:"time"`
	Type     string    `json:"type"`
	State    string    `json:"state"`
	Severity string    `json:"severity"` // info, warning, critical
	Message  string    `json:"message"`
	// Event is the id of the access event that raised the alert, if any.
	Event   string   `json:"event,omitempty"`
	Holder  string   `json:"holder,omitempty"`
	Device  string   `json:"device,omitempty"`
	Reading *Reading `json:"temperature,omitempty"`
	// Face is the face comparison behind a face_mismatch alert.
	Face *FaceMatch `json:"face,omitempty"`
	// Count is how often a per-person alert (fever, spoof, passback) or a
	// lane's tailgating alert occurred since it was raised; see
	// Options.AlertWindow.
	Count int `json:"count,omitempty"`
	// Replayed is set by the publisher on alerts sent after a reconnect.
	Replayed bool `json:"replayed"`
}

// State is the gate's retained state, published on the state topic.
type State struct {
	V           int               `json:"v"`
	Site        string            `json:"site"`
	Gate        string            `json:"gate"`
	Time        time.Time         `json:"time"`
	Mode        Mode              `json:"mode"`
	Lane        string            `json:"lane"` // idle, checking, open, fire_alarm
	FireAlarm   bool              `json:"fire_alarm"`
	Devices     map[string]string `json:"devices"` // name → ok or the fault
	OutboxDepth int               `json:"outbox_depth"`
}

// Message is one record for the outbox: a topic relative to the gate's
// prefix and its JSON payload.
type Message struct {
	Seq     uint64
	ID      string
	Topic   string
	Payload []byte
}

func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Every type marshalled here is a plain struct of strings, numbers
		// and times: an error is a programming mistake.
		panic("gate: marshal: " + err.Error())
	}
	return b
}
