package configs

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// GatewatchEnrolment lets the console import enrolment files (`gateguard
// enroll export` on an enrolment station) and push them to the gates as
// signed enroll commands. Without a model, import is off.
type GatewatchEnrolment struct {
	// Model is the gates' face descriptor's model id, as `gateguard enroll
	// list` prints it on a gate (e.g. facenet+mirror@…); a file computed
	// with another model is refused.
	Model string `yaml:"model"`
	// Dim is the descriptor's length; default 128 (the ResNet's).
	Dim int `yaml:"dim"`
	// Stations are the enrolment stations whose signed files are accepted.
	Stations []GatewatchStation `yaml:"stations"`
}

// GatewatchStation is one enrolment station and its public key.
type GatewatchStation struct {
	// ID is the station's id (`gateguard enroll export -station ID`).
	ID string `yaml:"id"`
	// PublicKey is the station key's public half as `gateguard keygen`
	// prints it (ed25519:BASE64).
	PublicKey string `yaml:"public_key"`
}

// EnrolmentDim returns console.enrolment.dim, defaulted to 128.
func (e GatewatchEnrolment) EnrolmentDim() int {
	if e.Dim <= 0 {
		return 128
	}
	return e.Dim
}

// StationKeys returns the stations' public keys (32 bytes each) by id;
// call it on a validated config.
func (e GatewatchEnrolment) StationKeys() map[string][]byte {
	out := map[string][]byte{}
	for _, s := range e.Stations {
		b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s.PublicKey, "ed25519:"))
		if err == nil && len(b) == 32 {
			out[s.ID] = b
		}
	}
	return out
}

func validateEnrolment(e GatewatchEnrolment) []error {
	v := &validator{}
	const key = "console.enrolment"
	if e.Model == "" {
		if len(e.Stations) > 0 || e.Dim != 0 {
			v.add(key+".model", "is required with stations or dim (the gates' faces model id, from gateguard enroll list)")
		}
		return v.errs
	}
	if e.Dim != 0 {
		v.intRange(key+".dim", e.Dim, 1, 4096)
	}
	if len(e.Stations) == 0 {
		v.add(key+".stations", "is required with a model: list the enrolment stations whose files are accepted")
	}
	seen := map[string]bool{}
	for i, s := range e.Stations {
		k := key + ".stations[" + strconv.Itoa(i) + "]"
		v.name(k+".id", s.ID)
		if seen[s.ID] {
			v.add(k+".id", "%q is listed twice", s.ID)
		}
		seen[s.ID] = true
		if b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s.PublicKey, "ed25519:")); err != nil || len(b) != 32 {
			v.add(k+".public_key", "is not an Ed25519 public key as gateguard keygen prints it (ed25519:BASE64)")
		}
	}
	return v.errs
}
