// Package enrolfile is the portable enrolment file: the face descriptors
// of enrolled people, exported from an enrolment station's templates file
// (`gateguard enroll export`) and imported into gatewatch's console, which
// pushes them to its gates as signed enroll commands. gatewatch never sees
// a photo and needs no OpenCV: the file carries descriptors only.
//
// The file is JSON:
//
//	{"format": "gateguard-enrolment/1",
//	 "body": {"station": ID, "exported": TIME, "model": MODEL, "dim": N,
//	          "people": [{"id", "name", "department", "enrolled", "descriptors": [[…]]}]},
//	 "sig": BASE64}
//
// sig is the Ed25519 signature, by the station's key (`gateguard keygen`),
// of the exact bytes of body. A checksum would catch a damaged file but not
// an edited one (whoever edits a file can recompute its checksum), and a
// descriptor decides whose face opens a lane for a person's pass: the
// console accepts only files signed by a station its config lists, so a
// file altered or made anywhere else is refused.
//
// Read checks everything and reports every problem at once, naming the
// person and what is wrong; a file with any problem is refused whole.
// It is pure Go.
package enrolfile

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"time"

	"github.com/gateguard/gateguard/gate/command"
)

// Format is the file's format field.
const Format = "gateguard-enrolment/1"

// MaxDescriptors is how many descriptors one person may carry: as many as
// one enroll command takes (command.MaxDescriptors).
const MaxDescriptors = command.MaxDescriptors

// MaxBytes bounds the size of a file Read accepts.
const MaxBytes = 16 << 20

var idPattern = regexp.MustCompile(`^[A-Za-z0-9._@:-]{1,64}$`)

// ErrInvalid is wrapped by every error Read returns for a bad file.
var ErrInvalid = errors.New("enrolment file refused")

// Person is one person's enrolment.
type Person struct {
	ID          string      `json:"id"`
	Name        string      `json:"name,omitempty"`
	Department  string      `json:"department,omitempty"`
	Enrolled    time.Time   `json:"enrolled"`
	Descriptors [][]float32 `json:"descriptors"`
}

// Body is the signed part of the file.
type Body struct {
	// Station is the id of the enrolment station whose key signed the file.
	Station string `json:"station"`
	// Exported is when the file was written.
	Exported time.Time `json:"exported"`
	// Model is the descriptor's ModelID, Dim its length.
	Model  string   `json:"model"`
	Dim    int      `json:"dim"`
	People []Person `json:"people"`
}

type envelope struct {
	Format string          `json:"format"`
	Body   json.RawMessage `json:"body"`
	Sig    string          `json:"sig"`
}

// Sign returns the file for b, signed with the station's key.
func Sign(b Body, key ed25519.PrivateKey) ([]byte, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, errors.New("enrolfile: sign: not an Ed25519 private key")
	}
	body, err := json.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("enrolfile: sign: %w", err)
	}
	// Marshal, not MarshalIndent: indenting would rewrite the signed bytes.
	out, err := json.Marshal(envelope{Format: Format, Body: body,
		Sig: base64.StdEncoding.EncodeToString(ed25519.Sign(key, body))})
	if err != nil {
		return nil, fmt.Errorf("enrolfile: sign: %w", err)
	}
	return append(out, '\n'), nil
}

// Checks are what Read holds a file against.
type Checks struct {
	// Stations are the enrolment stations' public keys by station id.
	Stations map[string]ed25519.PublicKey
	// Model and Dim are the gates' descriptor's ModelID and length.
	Model string
	Dim   int
	// OnRoster reports whether a person id is on the roster; nil accepts
	// every id.
	OnRoster func(id string) bool
}

// Read parses and checks a file: its format, its signature by a listed
// station, the model, and each person (id, on the roster, not twice,
// 1–MaxDescriptors descriptors of Dim finite values). Every problem is
// reported, joined, each wrapping ErrInvalid.
func Read(data []byte, c Checks) (*Body, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, a...)...)
	}
	if len(data) > MaxBytes {
		return nil, bad("%d bytes, at most %d", len(data), MaxBytes)
	}
	var env envelope
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		return nil, bad("not an enrolment file (%v)", err)
	}
	if env.Format != Format {
		return nil, bad("format %q, want %q", env.Format, Format)
	}
	var b Body
	bdec := json.NewDecoder(bytes.NewReader(env.Body))
	bdec.DisallowUnknownFields()
	if err := bdec.Decode(&b); err != nil {
		return nil, bad("body: %v", err)
	}
	key, ok := c.Stations[b.Station]
	if !ok {
		return nil, bad("signed by station %q, which is not in console.enrolment.stations", b.Station)
	}
	sig, err := base64.StdEncoding.DecodeString(env.Sig)
	if err != nil || !ed25519.Verify(key, env.Body, sig) {
		return nil, bad("the signature of station %q does not verify: the file was changed after export, or signed with another key", b.Station)
	}
	if err := checkBody(&b, c); err != nil {
		return nil, err
	}
	return &b, nil
}

// checkBody checks the model and every person, joining every problem.
func checkBody(b *Body, c Checks) error {
	var errs []error
	add := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, a...)...))
	}
	if b.Model != c.Model {
		add("model %q is not the gates' model %q (console.enrolment.model): enrol again with the gates' faces.model", b.Model, c.Model)
	}
	if b.Dim != c.Dim {
		add("dim %d, the gates' descriptor has %d values", b.Dim, c.Dim)
	}
	if len(b.People) == 0 {
		add("nobody in the file")
	}
	seen := map[string]int{}
	for i, p := range b.People {
		at := fmt.Sprintf("people[%d] (%s)", i, p.ID)
		switch {
		case !idPattern.MatchString(p.ID):
			add("people[%d]: id %q must be 1–64 letters, digits or . _ @ : -", i, p.ID)
		case seen[p.ID] > 0:
			add("%s: appears twice (also people[%d])", at, seen[p.ID]-1)
		case c.OnRoster != nil && !c.OnRoster(p.ID):
			add("%s: not on the roster (import the roster first)", at)
		}
		seen[p.ID] = i + 1
		if len(p.Name) > 128 || len(p.Department) > 128 {
			add("%s: name and department are at most 128 bytes", at)
		}
		if n := len(p.Descriptors); n == 0 || n > MaxDescriptors {
			add("%s: %d descriptors, want 1–%d", at, n, MaxDescriptors)
		}
		for j, d := range p.Descriptors {
			if len(d) != c.Dim {
				add("%s: descriptors[%d] has %d values, the gates' descriptor has %d", at, j, len(d), c.Dim)
				continue
			}
			for _, x := range d {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					add("%s: descriptors[%d] has a value that is not a finite number", at, j)
					break
				}
			}
		}
	}
	return errors.Join(errs...)
}
