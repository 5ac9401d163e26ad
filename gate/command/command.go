// Package command parses, authenticates and answers the signed commands a
// gate accepts on <prefix>/<site>/<gate>/cmd/<name> (docs/mqtt.md).
//
// A command is JSON: {"v":1,"body":{…},"sig":"…"}. sig is the standard
// base64 Ed25519 signature, by an operator key listed in the gate's config,
// of SignContext followed by the exact bytes of body as they appear in the
// message, so no canonical re-encoding is needed. body names the operator,
// the target site, gate and command, a request id, an expiry and a nonce that
// must be greater than the last one accepted from that operator (persisted by
// a NonceStore so that a restart does not accept a replay) and at most the
// issue time in microseconds plus the allowed skew (so that no nonce can lock
// an operator out).
//
// The Verifier rejects, with a Reason, every command that is retained,
// oversized, malformed, unsigned, badly signed, from an unknown operator,
// aimed at another gate or command, expired, replayed, or asks for something
// its key may not do. Nothing in this package acts on a command: the caller
// does, only after Verify returned no error. It is pure Go, used by the gate's
// MQTT side and by the operator's `gateguard command` tool.
package command

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"
	"unicode"
	"unicode/utf8"
)

// Version is the version of the command and result payloads.
const Version = 1

// SignContext prefixes the signed bytes so that a signature over a command
// body can never be mistaken for a signature over anything else.
const SignContext = "gateguard/v1 command\n"

// Command names.
const (
	Open     = "open"
	SetMode  = "set_mode"
	Reload   = "reload"
	GetState = "get_state"
	// Enroll enrols a person's face templates (descriptors, never images),
	// replacing any earlier ones; Unenroll removes them. Both need the
	// PermEnroll permission.
	Enroll   = "enroll"
	Unenroll = "unenroll"
)

// Names lists every command the gate knows.
var Names = []string{Open, SetMode, Reload, GetState, Enroll, Unenroll}

// PermEnroll is the permission that lets a key enrol and unenrol faces.
const PermEnroll = "enroll"

// MaxDescriptors is how many descriptors one enroll command may carry.
const MaxDescriptors = 20

var personPattern = regexp.MustCompile(`^[A-Za-z0-9._@:-]{1,64}$`)

// PermOverride is the permission that lets a key override a fever denial or
// a latched fire alarm.
const PermOverride = "override"

// MaxReason is the most characters (Unicode code points) args.reason may hold.
const MaxReason = 200

// CheckReason reports what is wrong with s as a command's args.reason: not
// UTF-8, longer than MaxReason characters, or holding a control character
// (C0, DEL, C1, or a bidirectional override or isolate, which could make
// the log read otherwise than it is). The error names args.reason.
func CheckReason(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("args.reason is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n > MaxReason {
		return fmt.Errorf("args.reason is %d characters, at most %d", n, MaxReason)
	}
	for i, r := range []rune(s) {
		if unicode.IsControl(r) || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) {
			return fmt.Errorf("args.reason holds a control character (U+%04X) at character %d: write it on one line, as plain text", r, i+1)
		}
	}
	return nil
}

// Modes are the values set_mode accepts.
var Modes = []string{"normal", "locked", "free", "maintenance"}

// Envelope is the message as it arrives on a cmd topic.
type Envelope struct {
	V    int             `json:"v"`
	Body json.RawMessage `json:"body"`
	Sig  string          `json:"sig"`
}

// Body is the signed part of a command.
type Body struct {
	// ID is the request id, echoed in the result: 1–64 of A–Z a–z 0–9 . _ -.
	ID string `json:"id"`
	// Name is the command; it must match the topic.
	Name string `json:"name"`
	// Site and Gate name the target; they must match the gate's own.
	Site string `json:"site"`
	Gate string `json:"gate"`
	// Operator names the key that signed the command.
	Operator string `json:"operator"`
	// Nonce must be greater than the last nonce accepted from Operator,
	// and at most Issued in Unix microseconds plus the verifier's Skew
	// (`gateguard command` uses Issued in microseconds).
	Nonce uint64 `json:"nonce"`
	// Issued is when the command was signed.
	Issued time.Time `json:"issued"`
	// Expires is when the command stops being valid.
	Expires time.Time `json:"expires"`
	// Args are the command's arguments.
	Args Args `json:"args"`
}

// Args are a command's arguments. Only set_mode takes Mode; Override is
// accepted on open and set_mode from keys with the override permission,
// with a Reason; Reason is accepted on open and set_mode; Person is
// enroll's and unenroll's, and only enroll takes Name, Department, Model
// and Descriptors.
type Args struct {
	// Mode is set_mode's new operating mode.
	Mode string `json:"mode,omitempty"`
	// Override asks to override a fever denial (open) or a latched fire
	// alarm (set_mode). It is logged loudly and recorded in the event, and
	// needs a Reason.
	Override bool `json:"override,omitempty"`
	// Reason is the operator's free text saying why (who asked, what was
	// checked): at most MaxReason characters, no control characters
	// (CheckReason). Required with Override; the gate records it in the
	// remote_open or mode_change event, so it is covered by the signature
	// and reaches the central log.
	Reason string `json:"reason,omitempty"`
	// Person is the id of the person enrolled or unenrolled: the holder
	// their credentials name.
	Person string `json:"person,omitempty"`
	// Name and Department describe the person for listings.
	Name       string `json:"name,omitempty"`
	Department string `json:"department,omitempty"`
	// Model is the ModelID of the descriptor that computed Descriptors; it
	// must be the gate's own.
	Model string `json:"model,omitempty"`
	// Descriptors are the person's face descriptors, 1–MaxDescriptors of
	// the gate's descriptor length.
	Descriptors [][]float32 `json:"descriptors,omitempty"`
}

// Reason says why a command was rejected.
type Reason string

// Rejection reasons, as they appear in the result's reason field.
const (
	ReasonRetained       Reason = "retained"
	ReasonOversized      Reason = "oversized"
	ReasonMalformed      Reason = "malformed"
	ReasonUnsigned       Reason = "unsigned"
	ReasonBadSignature   Reason = "bad_signature"
	ReasonUnknownOp      Reason = "unknown_operator"
	ReasonWrongTarget    Reason = "wrong_target"
	ReasonUnknownCommand Reason = "unknown_command"
	ReasonBadArgs        Reason = "bad_args"
	ReasonExpired        Reason = "expired"
	ReasonNotYetValid    Reason = "not_yet_valid"
	ReasonTooLong        Reason = "expiry_too_far"
	ReasonReplayed       Reason = "replayed"
	ReasonNonceTooFar    Reason = "nonce_too_far"
	ReasonNotPermitted   Reason = "not_permitted"
	ReasonNonceStore     Reason = "nonce_store_failed"
)

// Rejection is the error Verify returns: a Reason and what was wrong.
type Rejection struct {
	Reason Reason
	Detail string
	// Body is the parsed body when the command got that far (its id is
	// echoed in the result); nil otherwise. It is not authenticated unless
	// Reason comes after the signature check.
	Body *Body
}

func (r *Rejection) Error() string {
	return fmt.Sprintf("command: rejected: %s: %s", r.Reason, r.Detail)
}

func reject(reason Reason, body *Body, format string, args ...any) *Rejection {
	return &Rejection{Reason: reason, Detail: fmt.Sprintf(format, args...), Body: body}
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Parse decodes a command strictly (unknown fields, keys given twice or in
// another case, trailing data and a wrong version are malformed) without
// authenticating it. The returned Body is nil
// when the envelope itself is unreadable.
func Parse(payload []byte) (*Envelope, *Body, error) {
	var env Envelope
	if err := strictDecode(payload, &env); err != nil {
		return nil, nil, reject(ReasonMalformed, nil, "envelope: %v", err)
	}
	if env.V != Version {
		return nil, nil, reject(ReasonMalformed, nil, "v is %d, want %d", env.V, Version)
	}
	if len(env.Body) == 0 || env.Body[0] != '{' {
		return nil, nil, reject(ReasonMalformed, nil, "body must be a JSON object")
	}
	var b Body
	if err := strictDecode(env.Body, &b); err != nil {
		return nil, nil, reject(ReasonMalformed, nil, "body: %v", err)
	}
	if !idPattern.MatchString(b.ID) {
		return &env, nil, reject(ReasonMalformed, nil, "body.id %q must be 1–64 letters, digits, '.', '_' or '-'", b.ID)
	}
	// Exact keys, each once: the typed decode matches keys
	// case-insensitively and keeps the last of duplicates.
	if err := checkKeys(payload, envelopeShape); err != nil {
		return &env, &b, reject(ReasonMalformed, &b, "%v", err)
	}
	for _, f := range []struct{ key, val string }{
		{"name", b.Name}, {"site", b.Site}, {"gate", b.Gate}, {"operator", b.Operator},
	} {
		if f.val == "" || len(f.val) > 64 {
			return &env, &b, reject(ReasonMalformed, &b, "body.%s must be 1–64 characters", f.key)
		}
	}
	if b.Issued.IsZero() || b.Expires.IsZero() {
		return &env, &b, reject(ReasonMalformed, &b, "body.issued and body.expires are required")
	}
	if !b.Expires.After(b.Issued) {
		return &env, &b, reject(ReasonMalformed, &b, "body.expires must be after body.issued")
	}
	if b.Nonce == 0 {
		return &env, &b, reject(ReasonMalformed, &b, "body.nonce must be a positive integer")
	}
	return &env, &b, nil
}

func strictDecode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	// Decode leaves whitespace and anything after one value unread; More
	// reports only further values, so check the rest is whitespace.
	rest := data[dec.InputOffset():]
	if len(bytes.TrimSpace(rest)) != 0 {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// Operator is a key allowed to sign commands.
type Operator struct {
	// ID names the operator; it is the body's operator field.
	ID string
	// Key is the operator's Ed25519 public key.
	Key ed25519.PublicKey
	// Allow lists the commands the key may sign, and PermOverride. The key
	// may use only what is listed: empty allows nothing (the config refuses
	// an empty list; this is the second line of defence).
	Allow []string
}

// May reports whether the operator may use perm (a command name or
// PermOverride): only when Allow lists it.
func (o Operator) May(perm string) bool {
	return slices.Contains(o.Allow, perm)
}

// ParsePublicKey decodes a public key as `gateguard keygen` prints it: the
// standard base64 of the 32 key bytes, optionally prefixed "ed25519:".
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	s = trimPrefix(s, "ed25519:")
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("command: public key is not base64: %w", err)
	}
	if len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("command: public key is %d bytes, want %d", len(b), ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}

// FormatPublicKey returns the text form ParsePublicKey reads.
func FormatPublicKey(k ed25519.PublicKey) string {
	return "ed25519:" + base64.StdEncoding.EncodeToString(k)
}

func trimPrefix(s, p string) string {
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}

// Sign builds a signed command payload from b with the operator's private key.
func Sign(b Body, key ed25519.PrivateKey) ([]byte, error) {
	body, err := json.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("command: encode body: %w", err)
	}
	sig := ed25519.Sign(key, signed(body))
	out, err := json.Marshal(Envelope{V: Version, Body: body, Sig: base64.StdEncoding.EncodeToString(sig)})
	if err != nil {
		return nil, fmt.Errorf("command: encode envelope: %w", err)
	}
	return out, nil
}

func signed(body []byte) []byte {
	msg := make([]byte, 0, len(SignContext)+len(body))
	return append(append(msg, SignContext...), body...)
}
