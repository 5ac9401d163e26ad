package gate

import "time"

// Info is the gate's retained info payload: what it runs.
type Info struct {
	V             int       `json:"v"`
	Site          string    `json:"site"`
	Gate          string    `json:"gate"`
	Version       string    `json:"version"`
	ConfigHash    string    `json:"config_hash"`
	CalibrationID string    `json:"calibration_id"`
	Started       time.Time `json:"started"`
}
