package command

import (
	"encoding/json"
	"errors"
	"time"
)

// Result statuses.
const (
	// StatusOK: the command was carried out.
	StatusOK = "ok"
	// StatusRejected: the command failed authentication or validation and
	// was not acted on; Reason is a Reason.
	StatusRejected = "rejected"
	// StatusRefused: the command was authentic but the gate declined it
	// (a fever denial, a fire alarm, the lane busy); Reason says why.
	StatusRefused = "refused"
	// StatusFailed: the gate tried and failed (a relay fault, a bad config
	// on reload); Detail says what.
	StatusFailed = "failed"
)

// Result answers a command on cmd/<name>/result.
type Result struct {
	V int `json:"v"`
	// ID echoes the request id; empty when the command was unreadable.
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Site     string    `json:"site"`
	Gate     string    `json:"gate"`
	Time     time.Time `json:"time"`
	Operator string    `json:"operator,omitempty"`
	Status   string    `json:"status"`
	Reason   string    `json:"reason,omitempty"`
	Detail   string    `json:"detail,omitempty"`
	// Event is the id of the access event the command caused (open, set_mode).
	Event string `json:"event,omitempty"`
	// State is the gate's current state (get_state).
	State json.RawMessage `json:"state,omitempty"`
	// Applied lists the config keys a reload applied live.
	Applied []string `json:"applied,omitempty"`
	// RestartRequired lists the changed config keys that take effect only
	// after a restart (reload).
	RestartRequired []string `json:"restart_required,omitempty"`
}

// Rejected builds the result for a command Verify rejected.
func Rejected(name, site, gate string, now time.Time, err error) Result {
	r := Result{V: Version, Name: name, Site: site, Gate: gate, Time: now.UTC(), Status: StatusRejected,
		Reason: string(ReasonMalformed), Detail: err.Error()}
	var rej *Rejection
	if errors.As(err, &rej) {
		r.Reason, r.Detail = string(rej.Reason), rej.Detail
		if rej.Body != nil {
			r.ID, r.Operator = rej.Body.ID, rej.Body.Operator
		}
	}
	return r
}

// ParseResult decodes a result strictly.
func ParseResult(payload []byte) (*Result, error) {
	var r Result
	if err := strictDecode(payload, &r); err != nil {
		return nil, errors.Join(errors.New("command: result"), err)
	}
	if r.V != Version {
		return nil, errors.New("command: result: unknown version")
	}
	switch r.Status {
	case StatusOK, StatusRejected, StatusRefused, StatusFailed:
	default:
		return nil, errors.New("command: result: unknown status " + r.Status)
	}
	return &r, nil
}
