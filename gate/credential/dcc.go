package credential

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/veraison/go-cose"

	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/vision"
)

// DCCPrefix starts the QR text of an EU Digital COVID Certificate.
const DCCPrefix = "HC1:"

// KindDCC is the credential kind of an EU Digital COVID Certificate.
const KindDCC = "dcc"

// Errors of DCC checks.
var (
	ErrPrefix    = errors.New("credential: missing HC1: prefix")
	ErrNoSigner  = errors.New("credential: no trusted signer with this key id")
	ErrSignature = errors.New("credential: signature does not verify")
	ErrKeyUsage  = errors.New("credential: signer may not sign this certificate type")
	ErrExpired   = errors.New("credential: expired")
	ErrNotYet    = errors.New("credential: not yet valid")
	ErrHCert     = errors.New("credential: invalid health certificate payload")
	ErrNoExpiry  = errors.New("credential: no expiry (CWT claim 4)")
)

// Unprefix strips the HC1: prefix.
func Unprefix(text string) (string, error) {
	if !strings.HasPrefix(text, DCCPrefix) {
		return "", ErrPrefix
	}
	return text[len(DCCPrefix):], nil
}

// DecodeDCCText runs the transport steps on a QR text: prefix, base45, zlib
// (uncompressed COSE is accepted too) and COSE_Sign1, with size limits.
func DecodeDCCText(text string) (*Sign1, error) {
	if len(text) > MaxText {
		return nil, fmt.Errorf("%w: %d characters > %d", ErrTooLarge, len(text), MaxText)
	}
	b45, err := Unprefix(text)
	if err != nil {
		return nil, err
	}
	z, err := Base45Decode(b45)
	if err != nil {
		return nil, err
	}
	raw := z
	if len(z) > 1 && z[0]&0x0f == 8 && z[0]>>4 <= 7 { // zlib CMF: deflate, window ≤ 32 KiB
		if raw, err = Inflate(z, MaxInflated); err != nil {
			return nil, err
		}
	}
	return ParseSign1(raw)
}

// VerifyWith checks the message's signature with a signer's public key. An
// algorithm named only in the unprotected header (seen in some member
// states' files) must still match the key's type.
func (s *Sign1) VerifyWith(sg *Signer) error {
	v, err := cose.NewVerifier(s.Alg, sg.PublicKey())
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSignature, err)
	}
	if !s.AlgUnprotected {
		err = s.Msg.Verify(nil, v)
	} else {
		err = s.verifyUnprotectedAlg(v)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSignature, err)
	}
	return nil
}

// verifyUnprotectedAlg verifies when go-cose refuses to (no algorithm in the
// protected header): it builds the RFC 9052 Sig_structure with the CBOR
// library and lets go-cose's verifier check the signature.
func (s *Sign1) verifyUnprotectedAlg(v cose.Verifier) error {
	var protected []byte
	if err := decMode.Unmarshal(s.Msg.Headers.RawProtected, &protected); err != nil {
		return fmt.Errorf("protected header: %w", err)
	}
	if protected == nil {
		protected = []byte{}
	}
	tbs, err := cbor.Marshal([]any{"Signature1", protected, []byte{}, s.Msg.Payload})
	if err != nil {
		return err
	}
	return v.Verify(tbs, s.Msg.Signature)
}

// HCert is the part of a DCC payload the gate uses.
type HCert struct {
	// Type is DCCVaccination, DCCTest or DCCRecovery ("" when none).
	Type string
	// Holder is the standardised name, "FAMILY<<GIVEN".
	Holder string
	// ID is the first entry's unique certificate identifier (UVCI).
	ID string
	// Body is the whole certificate, as decoded.
	Body map[string]any
}

// ParseHCert decodes the certificate in claim -260/1.
func ParseHCert(b cbor.RawMessage) (*HCert, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: claim -260/1 is missing", ErrHCert)
	}
	var body map[string]any
	if err := decMode.Unmarshal(b, &body); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrHCert, err)
	}
	h := &HCert{Body: body}
	for _, t := range []string{DCCVaccination, DCCTest, DCCRecovery} {
		entries, ok := body[t].([]any)
		if !ok || len(entries) == 0 {
			continue
		}
		if h.Type != "" {
			return nil, fmt.Errorf("%w: holds both %q and %q entries", ErrHCert, h.Type, t)
		}
		h.Type = t
		if e, ok := entries[0].(map[any]any); ok {
			h.ID, _ = e["ci"].(string)
		}
	}
	if nam, ok := body["nam"].(map[any]any); ok {
		fnt, _ := nam["fnt"].(string)
		gnt, _ := nam["gnt"].(string)
		h.Holder = fnt + "<<" + gnt
	}
	return h, nil
}

// CheckValidity checks the claims' time window at now, allowing skew for
// clocks that disagree. A certificate is still valid at the second of its
// exp: the member states' test vectors put VALIDATIONCLOCK exactly there and
// expect it valid (14 of 177 files say so), unlike a site pass.
func (c *Claims) CheckValidity(now time.Time, skew time.Duration) error {
	if !c.Expires.IsZero() && now.After(c.Expires) {
		return fmt.Errorf("%w: expired at %s", ErrExpired, c.Expires.Format(time.RFC3339))
	}
	if !c.IssuedAt.IsZero() && c.IssuedAt.After(now.Add(skew)) {
		return fmt.Errorf("%w: issued at %s", ErrNotYet, c.IssuedAt.Format(time.RFC3339))
	}
	if !c.NotBefore.IsZero() && c.NotBefore.After(now.Add(skew)) {
		return fmt.Errorf("%w: valid from %s", ErrNotYet, c.NotBefore.Format(time.RFC3339))
	}
	return nil
}

// DCCVerifier verifies EU Digital COVID Certificates against a trust list.
type DCCVerifier struct {
	// Trust holds the signer certificates.
	Trust *TrustList
	// Now returns the verifier's clock; nil means time.Now.
	Now func() time.Time
	// Skew is the tolerance for an issue time, or a signer certificate's
	// start, ahead of the verifier's clock.
	Skew time.Duration
}

// Verify returns the verdict on a DCC's QR text. Only a certificate whose
// signature verifies with a trusted signer allowed to sign its type, that
// holds a v, t or r entry and an expiry, within its validity window and
// within its signer certificate's, is green.
func (v *DCCVerifier) Verify(_ context.Context, code vision.Code) gate.Credential {
	cred := gate.Credential{Kind: KindDCC}
	fail := func(st gate.CredentialStatus, err error) gate.Credential { return rejected(cred, st, err) }
	now := clockNow(v.Now)
	s, err := DecodeDCCText(code.Text)
	if err != nil {
		return fail(gate.StatusCheckFailed, err)
	}
	signers := v.Trust.Lookup(s.KID)
	if len(signers) == 0 {
		return fail(gate.StatusUnknownIssuer, fmt.Errorf("%w: kid %s", ErrNoSigner, KIDString(s.KID)))
	}
	var signer *Signer
	for _, sg := range signers {
		if err = s.VerifyWith(sg); err == nil {
			signer = sg
			break
		}
	}
	if signer == nil {
		return fail(gate.StatusForged, err)
	}
	claims, err := ParseClaims(s.Msg.Payload)
	if err != nil {
		return fail(gate.StatusCheckFailed, err)
	}
	hc, err := ParseHCert(claims.HCert)
	if err != nil {
		return fail(gate.StatusCheckFailed, err)
	}
	cred.Holder, cred.ID, cred.Issuer = hc.Holder, hc.ID, claims.Issuer
	cred.ValidFrom, cred.ValidUntil = timePtr(claims.IssuedAt), timePtr(claims.Expires)
	if hc.Type == "" {
		return fail(gate.StatusCheckFailed, fmt.Errorf("%w: no vaccination (v), test (t) or recovery (r) entry", ErrHCert))
	}
	if claims.Expires.IsZero() {
		// The HCERT spec requires an expiry; without one the certificate
		// would be valid for ever.
		return fail(gate.StatusCheckFailed, ErrNoExpiry)
	}
	if !signer.MaySign(hc.Type) {
		return fail(gate.StatusUnknownIssuer, fmt.Errorf("%w: type %q, signer allows %v", ErrKeyUsage, hc.Type, signer.Usage))
	}
	if err := claims.CheckValidity(now, v.Skew); err != nil {
		if errors.Is(err, ErrExpired) {
			return fail(gate.StatusExpired, err)
		}
		return fail(gate.StatusNotYetValid, err)
	}
	if now.After(signer.Cert.NotAfter) {
		return fail(gate.StatusExpired, fmt.Errorf("%w: signer certificate expired at %s", ErrExpired,
			signer.Cert.NotAfter.Format(time.RFC3339)))
	}
	if signer.Cert.NotBefore.After(now.Add(v.Skew)) {
		return fail(gate.StatusNotYetValid, fmt.Errorf("%w: signer certificate valid from %s", ErrNotYet,
			signer.Cert.NotBefore.Format(time.RFC3339)))
	}
	cred.Status, cred.Verified = gate.StatusGreen, true
	return cred
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
