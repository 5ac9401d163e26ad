package credential

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/veraison/go-cose"

	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/vision"
)

// A site pass is a COSE_Sign1 message signed with Ed25519 (EdDSA, -8) whose
// payload is a CWT claims map, written in a QR code as PassPrefix + base45.
// COSE rather than JWS: the gate already decodes COSE and CBOR for EU
// certificates (one verified code path, go-cose and fxamacker/cbor), CBOR is
// about half the size of JSON, and base45 of binary fits the QR code's
// alphanumeric mode where base64url would need byte mode.

// PassPrefix starts the QR text of a GateGuard site pass.
const PassPrefix = "GGP1:"

// KindSitePass is the credential kind of a site pass.
const KindSitePass = "site_pass"

// Private CWT claim labels of a site pass (RFC 8392 allows negative
// integers below -65536 for private use).
const (
	claimGates    = -65537 // array of gate ids; absent or empty means every gate
	claimCategory = -65538 // "employee", "visitor", …
)

// Extra credential statuses of site passes. They are not green, so the
// gate denies them.
const (
	StatusWrongGate gate.CredentialStatus = "gate_not_allowed"
	StatusPassback  gate.CredentialStatus = gate.StatusAntiPassback
)

// Errors of site passes.
var (
	ErrPassPrefix = errors.New("credential: not a site pass (no " + PassPrefix + " prefix)")
	ErrPassKey    = errors.New("credential: invalid pass key")
	ErrPass       = errors.New("credential: invalid site pass")
)

// Pass is the content of a site pass.
type Pass struct {
	// ID identifies the pass; revocation lists name it.
	ID string
	// Holder identifies the employee or visitor.
	Holder string
	// Category is "employee", "visitor" or another site word; informative.
	Category string
	// Issuer names the site that issued the pass.
	Issuer string
	// NotBefore and NotAfter bound the validity window.
	NotBefore, NotAfter time.Time
	// IssuedAt is when the pass was signed.
	IssuedAt time.Time
	// Gates lists the gate ids the pass opens; empty means every gate.
	Gates []string
}

// AllowsGate reports whether the pass opens gate g.
func (p *Pass) AllowsGate(g string) bool { return len(p.Gates) == 0 || slices.Contains(p.Gates, g) }

// KeyID returns the key id of an Ed25519 public key: the first 8 bytes of
// the SHA-256 of its PKIX DER form (as a DCC signer's kid is of its
// certificate).
func KeyID(pub ed25519.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil
	}
	sum := sha256.Sum256(der)
	return sum[:8]
}

// NewPassID returns a random pass id.
func NewPassID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "p-" + hex.EncodeToString(b)
}

// IssuePass signs p with key and returns the QR text.
func IssuePass(p Pass, key ed25519.PrivateKey) (string, error) {
	// The id must be one a revocation list can hold, or the pass could
	// never be revoked.
	if err := checkPassID(p.ID); err != nil {
		return "", fmt.Errorf("%w: %w", ErrPass, err)
	}
	switch {
	case p.Holder == "" || len(p.Holder) > 128:
		return "", fmt.Errorf("%w: holder must be 1–128 characters", ErrPass)
	case p.NotAfter.IsZero() || !p.NotAfter.After(p.NotBefore):
		return "", fmt.Errorf("%w: validity window %s – %s is empty", ErrPass, p.NotBefore, p.NotAfter)
	}
	claims := map[int64]any{
		2: p.Holder,
		4: p.NotAfter.Unix(),
		7: []byte(p.ID),
	}
	if p.Issuer != "" {
		claims[1] = p.Issuer
	}
	if !p.NotBefore.IsZero() {
		claims[5] = p.NotBefore.Unix()
	}
	if !p.IssuedAt.IsZero() {
		claims[6] = p.IssuedAt.Unix()
	}
	if len(p.Gates) > 0 {
		claims[claimGates] = p.Gates
	}
	if p.Category != "" {
		claims[claimCategory] = p.Category
	}
	payload, err := encMode.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("credential: encode pass: %w", err)
	}
	signer, err := cose.NewSigner(cose.AlgorithmEdDSA, key)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrPassKey, err)
	}
	msg := cose.NewSign1Message()
	msg.Headers.Protected.SetAlgorithm(cose.AlgorithmEdDSA)
	msg.Headers.Protected[cose.HeaderLabelKeyID] = KeyID(key.Public().(ed25519.PublicKey))
	msg.Payload = payload
	if err := msg.Sign(rand.Reader, nil, signer); err != nil {
		return "", fmt.Errorf("credential: sign pass: %w", err)
	}
	b, err := (*cose.UntaggedSign1Message)(msg).MarshalCBOR()
	if err != nil {
		return "", fmt.Errorf("credential: encode pass: %w", err)
	}
	return PassPrefix + Base45Encode(b), nil
}

var encMode = func() cbor.EncMode {
	m, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		panic("credential: cbor options: " + err.Error())
	}
	return m
}()

// DecodePass decodes a pass's QR text without checking its signature; the
// signed message is returned for VerifyPass.
func DecodePass(text string) (*Sign1, *Pass, error) {
	if len(text) > MaxText {
		return nil, nil, fmt.Errorf("%w: %d characters > %d", ErrTooLarge, len(text), MaxText)
	}
	b45, ok := strings.CutPrefix(text, PassPrefix)
	if !ok {
		return nil, nil, ErrPassPrefix
	}
	raw, err := Base45Decode(b45)
	if err != nil {
		return nil, nil, err
	}
	s, err := ParseSign1(raw)
	if err != nil {
		return nil, nil, err
	}
	if s.Alg != cose.AlgorithmEdDSA || s.AlgUnprotected {
		return nil, nil, fmt.Errorf("%w: algorithm %v, want EdDSA in the protected header", ErrPass, s.Alg)
	}
	c, err := ParseClaims(s.Msg.Payload)
	if err != nil {
		return nil, nil, err
	}
	p := &Pass{ID: string(c.CWTID), Holder: c.Subject, Issuer: c.Issuer,
		NotBefore: c.NotBefore, NotAfter: c.Expires, IssuedAt: c.IssuedAt}
	if g, ok := c.Private[claimGates]; ok {
		if err := decMode.Unmarshal(g, &p.Gates); err != nil {
			return nil, nil, fmt.Errorf("%w: gates: %w", ErrPass, err)
		}
	}
	if g, ok := c.Private[claimCategory]; ok {
		if err := decMode.Unmarshal(g, &p.Category); err != nil {
			return nil, nil, fmt.Errorf("%w: category: %w", ErrPass, err)
		}
	}
	if p.ID == "" || p.Holder == "" || p.NotAfter.IsZero() {
		return nil, nil, fmt.Errorf("%w: id, holder and expiry are required", ErrPass)
	}
	return s, p, nil
}

// PassKeys are the public keys site passes are checked against.
type PassKeys struct {
	byKID map[string]ed25519.PublicKey
}

// NewPassKeys builds a key set.
func NewPassKeys(keys ...ed25519.PublicKey) *PassKeys {
	k := &PassKeys{byKID: map[string]ed25519.PublicKey{}}
	for _, pub := range keys {
		k.byKID[string(KeyID(pub))] = pub
	}
	return k
}

// Len returns the number of keys.
func (k *PassKeys) Len() int { return len(k.byKID) }

// Lookup returns the key with the given id.
func (k *PassKeys) Lookup(kid []byte) (ed25519.PublicKey, bool) {
	if k == nil {
		return nil, false
	}
	pub, ok := k.byKID[string(kid)]
	return pub, ok
}

// PassVerifier verifies site passes for one gate.
type PassVerifier struct {
	// Keys are the issuers' public keys.
	Keys *PassKeys
	// Gate is this gate's id, checked against a pass's gate list.
	Gate string
	// Revoked, when set, lists revoked pass ids.
	Revoked *RevocationList
	// Now returns the verifier's clock; nil means time.Now.
	Now func() time.Time
	// Skew is the tolerance for a window starting ahead of the clock.
	Skew time.Duration
}

// Verify returns the verdict on a site pass's QR text.
func (v *PassVerifier) Verify(_ context.Context, code vision.Code) gate.Credential {
	cred := gate.Credential{Kind: KindSitePass}
	fail := func(st gate.CredentialStatus, err error) gate.Credential { return rejected(cred, st, err) }
	now := clockNow(v.Now)
	s, p, err := DecodePass(code.Text)
	if err != nil {
		return fail(gate.StatusCheckFailed, err)
	}
	pub, ok := v.Keys.Lookup(s.KID)
	if !ok {
		return fail(gate.StatusUnknownIssuer, fmt.Errorf("%w: no pass key with kid %s", ErrNoSigner, KIDString(s.KID)))
	}
	ver, err := cose.NewVerifier(cose.AlgorithmEdDSA, pub)
	if err == nil {
		err = s.Msg.Verify(nil, ver)
	}
	if err != nil {
		return fail(gate.StatusForged, fmt.Errorf("%w: %w", ErrSignature, err))
	}
	cred.Holder, cred.ID, cred.Issuer = p.Holder, p.ID, p.Issuer
	cred.ValidFrom, cred.ValidUntil = timePtr(p.NotBefore), timePtr(p.NotAfter)
	if v.Revoked != nil {
		revoked, reason, err := v.Revoked.Check(p.ID)
		if err != nil {
			return fail(gate.StatusCheckFailed, err)
		}
		if revoked {
			return fail(gate.StatusRevoked, fmt.Errorf("pass %s revoked: %s", p.ID, reason))
		}
	}
	// CWT exp (RFC 8392, as JWT's RFC 7519): not accepted on or after it.
	if !now.Before(p.NotAfter) {
		return fail(gate.StatusExpired, fmt.Errorf("%w: pass expired at %s", ErrExpired, p.NotAfter.Format(time.RFC3339)))
	}
	if !p.NotBefore.IsZero() && p.NotBefore.After(now.Add(v.Skew)) {
		return fail(gate.StatusNotYetValid, fmt.Errorf("%w: pass valid from %s", ErrNotYet, p.NotBefore.Format(time.RFC3339)))
	}
	if !p.AllowsGate(v.Gate) {
		return fail(StatusWrongGate, fmt.Errorf("pass opens %v, not gate %q", p.Gates, v.Gate))
	}
	cred.Status, cred.Verified = gate.StatusGreen, true
	return cred
}

// GenerateKey returns a new Ed25519 key pair for signing passes.
func GenerateKey() (ed25519.PublicKey, ed25519.PrivateKey, error) {
	return ed25519.GenerateKey(rand.Reader)
}

// MarshalPrivateKey returns a PKCS #8 PEM block.
func MarshalPrivateKey(key ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// MarshalPublicKey returns a PKIX PEM block.
func MarshalPublicKey(pub ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// ParsePrivateKey reads a PKCS #8 PEM Ed25519 private key.
func ParsePrivateKey(b []byte) (ed25519.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%w: no PEM PRIVATE KEY block", ErrPassKey)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPassKey, err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: %T is not an Ed25519 key", ErrPassKey, k)
	}
	return ek, nil
}

// ParsePublicKeys reads every PEM PUBLIC KEY block (Ed25519) in b.
func ParsePublicKeys(b []byte) ([]ed25519.PublicKey, error) {
	var keys []ed25519.PublicKey
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "PUBLIC KEY" {
			continue
		}
		k, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrPassKey, err)
		}
		ek, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("%w: %T is not an Ed25519 key", ErrPassKey, k)
		}
		keys = append(keys, ek)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no PEM PUBLIC KEY block", ErrPassKey)
	}
	return keys, nil
}

// LoadPassKeys reads public key files (PEM, several keys per file allowed).
func LoadPassKeys(paths ...string) (*PassKeys, error) {
	var all []ed25519.PublicKey
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("credential: pass keys: %w", err)
		}
		keys, err := ParsePublicKeys(b)
		if err != nil {
			return nil, fmt.Errorf("credential: pass keys %s: %w", p, err)
		}
		all = append(all, keys...)
	}
	return NewPassKeys(all...), nil
}

// LoadPrivateKey reads a private key file, refusing one that others can read.
func LoadPrivateKey(path string) (ed25519.PrivateKey, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("credential: pass key: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("credential: pass key %s: mode %04o lets others read it; chmod 600 it", path, st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("credential: pass key: %w", err)
	}
	k, err := ParsePrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("credential: pass key %s: %w", path, err)
	}
	return k, nil
}
