package command

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
)

// Options configures a Verifier.
type Options struct {
	// Site and Gate are this gate's names; a command must name both.
	Site, Gate string
	// Operators are the keys allowed to sign commands.
	Operators []Operator
	// Nonces stores the last nonce accepted from each operator. Required.
	Nonces NonceStore
	// MaxBytes bounds a command's size; 0 means 4096.
	MaxBytes int
	// MaxEnrollBytes bounds an enroll command's size, which carries
	// descriptors; 0 means 65536.
	MaxEnrollBytes int
	// FaceModel and FaceDim are the gate's face descriptor's ModelID and
	// length: an enroll command's descriptors must be of that model and
	// length. FaceDim 0 refuses enroll (no descriptor configured).
	FaceModel string
	FaceDim   int
	// MaxTTL bounds how far in the future a command may expire; 0 means 5 minutes.
	MaxTTL time.Duration
	// Skew is the clock difference tolerated on issued; 0 means 1 minute.
	Skew time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Verifier authenticates commands. It is safe for concurrent use; the nonce
// check and its commit are atomic.
type Verifier struct {
	o Options

	nonceMu sync.Mutex // held from a nonce's check to its commit

	mu        sync.Mutex // guards the fields below
	operators map[string]Operator
}

// NewVerifier returns a verifier; it fails when an operator is listed twice
// or has a malformed key, or when no nonce store is given.
func NewVerifier(o Options) (*Verifier, error) {
	if o.Nonces == nil {
		return nil, fmt.Errorf("command: a nonce store is required")
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = 4096
	}
	if o.MaxEnrollBytes <= 0 {
		o.MaxEnrollBytes = 65536
	}
	if o.MaxTTL <= 0 {
		o.MaxTTL = 5 * time.Minute
	}
	if o.Skew <= 0 {
		o.Skew = time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	v := &Verifier{o: o}
	if err := v.SetOperators(o.Operators); err != nil {
		return nil, err
	}
	return v, nil
}

// SetOperators replaces the list of operator keys (on a config reload).
func (v *Verifier) SetOperators(ops []Operator) error {
	m := make(map[string]Operator, len(ops))
	for _, op := range ops {
		if _, dup := m[op.ID]; dup {
			return fmt.Errorf("command: operator %q is listed twice", op.ID)
		}
		if len(op.Key) != ed25519.PublicKeySize {
			return fmt.Errorf("command: operator %q: key is %d bytes, want %d", op.ID, len(op.Key), ed25519.PublicKeySize)
		}
		m[op.ID] = op
	}
	v.mu.Lock()
	v.operators = m
	v.mu.Unlock()
	return nil
}

// Authenticate checks what needs no state: the size, the format, the
// retain flag, the signature and that the key is listed. It returns the
// signed body and its operator, or a *Rejection. It commits nothing and
// costs one Ed25519 verification (about 40 µs), so a receiver can call it
// before queueing a command: junk never takes the place of an authentic
// command. Verify calls it again.
func (v *Verifier) Authenticate(topicName string, retained bool, payload []byte) (*Body, Operator, error) {
	limit := v.o.MaxBytes
	if topicName == Enroll {
		limit = max(limit, v.o.MaxEnrollBytes)
	}
	if len(payload) > limit {
		return nil, Operator{}, reject(ReasonOversized, nil, "%d bytes, at most %d", len(payload), limit)
	}
	env, b, err := Parse(payload)
	if retained {
		// Never act on a retained command: it would fire again on every
		// reconnect. Echo its id if it has one.
		return nil, Operator{}, reject(ReasonRetained, b, "a retained command is never acted on")
	}
	if err != nil {
		return nil, Operator{}, err
	}
	if env.Sig == "" {
		return nil, Operator{}, reject(ReasonUnsigned, b, "no sig")
	}
	sig, err := base64.StdEncoding.DecodeString(env.Sig)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, Operator{}, reject(ReasonBadSignature, b, "sig is not a base64 Ed25519 signature")
	}
	v.mu.Lock()
	op, ok := v.operators[b.Operator]
	v.mu.Unlock()
	if !ok {
		return nil, Operator{}, reject(ReasonUnknownOp, b, "operator %q is not listed in commands.operators", b.Operator)
	}
	if !ed25519.Verify(op.Key, signed(env.Body), sig) {
		return nil, Operator{}, reject(ReasonBadSignature, b, "signature does not verify with operator %q's key", b.Operator)
	}
	return b, op, nil
}

// Verify authenticates a command that arrived on cmd/<topicName>, and on
// success commits its nonce: the same command is never accepted twice. It
// returns the body, or a *Rejection saying why the command must not be
// acted on.
func (v *Verifier) Verify(topicName string, retained bool, payload []byte) (*Body, error) {
	b, op, err := v.Authenticate(topicName, retained, payload)
	if err != nil {
		return nil, err
	}
	// From here on the body is authentic.
	if err := v.checkTarget(topicName, b); err != nil {
		return nil, err
	}
	if err := checkArgs(op, b); err != nil {
		return nil, err
	}
	if err := v.checkFaceArgs(b); err != nil {
		return nil, err
	}
	now := v.o.Now()
	switch {
	case !now.Before(b.Expires):
		return nil, reject(ReasonExpired, b, "expired at %s", b.Expires.UTC().Format(time.RFC3339))
	case b.Issued.After(now.Add(v.o.Skew)):
		return nil, reject(ReasonNotYetValid, b, "issued at %s, in the future", b.Issued.UTC().Format(time.RFC3339))
	case b.Expires.Sub(now) > v.o.MaxTTL:
		return nil, reject(ReasonTooLong, b, "expires more than %v from now", v.o.MaxTTL)
	}
	// A nonce far ahead would lock the operator out (every later nonce is
	// "replayed"), for ever with 2^64-1: it may not exceed the issue time in
	// microseconds plus the allowed skew. issued itself is at most Skew in
	// the future, so no signed command can push the operator's nonce more
	// than 2×Skew ahead of the gate's clock.
	if lim := b.Issued.UnixMicro() + v.o.Skew.Microseconds(); lim < 0 || b.Nonce > uint64(lim) {
		return nil, reject(ReasonNonceTooFar, b, "nonce %d is beyond issued in microseconds plus the allowed skew of %v (%d): use the issue time in microseconds", b.Nonce, v.o.Skew, max(lim, 0))
	}
	// The nonce check and its commit are one step.
	v.nonceMu.Lock()
	defer v.nonceMu.Unlock()
	last, err := v.o.Nonces.Last(b.Operator)
	if err != nil {
		return nil, reject(ReasonNonceStore, b, "%v", err)
	}
	if b.Nonce <= last {
		return nil, reject(ReasonReplayed, b, "nonce %d is not greater than %d, the last accepted from %q", b.Nonce, last, b.Operator)
	}
	// Persist before acting, so that a crash after acting cannot let the
	// same command through again.
	if err := v.o.Nonces.Commit(b.Operator, b.Nonce); err != nil {
		return nil, reject(ReasonNonceStore, b, "%v", err)
	}
	return b, nil
}

func (v *Verifier) checkTarget(topicName string, b *Body) error {
	if b.Site != v.o.Site || b.Gate != v.o.Gate {
		return reject(ReasonWrongTarget, b, "addressed to %s/%s, this is %s/%s", b.Site, b.Gate, v.o.Site, v.o.Gate)
	}
	if b.Name != topicName {
		return reject(ReasonWrongTarget, b, "body.name %q does not match the topic's %q", b.Name, topicName)
	}
	if !slices.Contains(Names, b.Name) {
		return reject(ReasonUnknownCommand, b, "%q is not one of %v", b.Name, Names)
	}
	return nil
}

func checkArgs(op Operator, b *Body) error {
	a := b.Args
	switch b.Name {
	case SetMode:
		if !slices.Contains(Modes, a.Mode) {
			return reject(ReasonBadArgs, b, "args.mode %q is not one of %v", a.Mode, Modes)
		}
	default:
		if a.Mode != "" {
			return reject(ReasonBadArgs, b, "%s takes no args.mode", b.Name)
		}
	}
	if a.Override && b.Name != Open && b.Name != SetMode {
		return reject(ReasonBadArgs, b, "%s takes no args.override", b.Name)
	}
	if a.Reason != "" && b.Name != Open && b.Name != SetMode {
		return reject(ReasonBadArgs, b, "%s takes no args.reason", b.Name)
	}
	if err := CheckReason(a.Reason); err != nil {
		return reject(ReasonBadArgs, b, "%v", err)
	}
	if a.Override && strings.TrimSpace(a.Reason) == "" {
		return reject(ReasonBadArgs, b, "args.override needs args.reason: say why the override is needed")
	}
	perm := b.Name
	if perm == Unenroll {
		perm = PermEnroll
	}
	if !op.May(perm) {
		return reject(ReasonNotPermitted, b, "operator %q may not use %s", op.ID, b.Name)
	}
	if a.Override && !op.May(PermOverride) {
		return reject(ReasonNotPermitted, b, "operator %q has no override permission", op.ID)
	}
	return nil
}

// checkFaceArgs checks enroll's and unenroll's arguments, and that no
// other command carries them.
func (v *Verifier) checkFaceArgs(b *Body) error {
	a := b.Args
	face := b.Name == Enroll || b.Name == Unenroll
	if !face {
		if a.Person != "" || a.Name != "" || a.Department != "" || a.Model != "" || a.Descriptors != nil {
			return reject(ReasonBadArgs, b, "%s takes no person, name, department, model or descriptors", b.Name)
		}
		return nil
	}
	if !personPattern.MatchString(a.Person) {
		return reject(ReasonBadArgs, b, "args.person %q must be 1–64 letters, digits or . _ @ : -", a.Person)
	}
	if b.Name == Unenroll {
		if a.Name != "" || a.Department != "" || a.Model != "" || a.Descriptors != nil {
			return reject(ReasonBadArgs, b, "unenroll takes only args.person")
		}
		return nil
	}
	if len(a.Name) > 128 || len(a.Department) > 128 {
		return reject(ReasonBadArgs, b, "args.name and args.department are at most 128 bytes")
	}
	if v.o.FaceDim <= 0 {
		return reject(ReasonBadArgs, b, "this gate has no face descriptor configured (faces.model)")
	}
	if a.Model != v.o.FaceModel {
		return reject(ReasonBadArgs, b, "args.model %q is not this gate's descriptor %q: compute the descriptors with the gate's model", a.Model, v.o.FaceModel)
	}
	if len(a.Descriptors) == 0 || len(a.Descriptors) > MaxDescriptors {
		return reject(ReasonBadArgs, b, "args.descriptors has %d descriptors, want 1–%d", len(a.Descriptors), MaxDescriptors)
	}
	for i, d := range a.Descriptors {
		if len(d) != v.o.FaceDim {
			return reject(ReasonBadArgs, b, "args.descriptors[%d] has %d values, the gate's descriptor has %d", i, len(d), v.o.FaceDim)
		}
		for _, x := range d {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return reject(ReasonBadArgs, b, "args.descriptors[%d] has a value that is not a finite number", i)
			}
		}
	}
	return nil
}
