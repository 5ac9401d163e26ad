// Package credential turns a decoded QR payload into the gate's credential
// verdict (gate.Credential): EU Digital COVID Certificates ("HC1:", COSE
// signed, checked against a trust list of signer certificates), GateGuard
// site passes for employees and visitors ("GGP1:", Ed25519-signed COSE,
// with a revocation list), and colour-coded health codes (checked online;
// the colour read from the image is only a hint). Verifier routes a payload
// to the right checker and applies anti-passback. It is pure Go; the daemon
// (cmd/gateguard) wires it as the gate's Verifier port.
//
// Only a signature or an authoritative online answer makes a credential
// Verified; the gate admits only green and verified credentials, or green
// ones the site explicitly accepted as Insecure (colour-only mode), which
// every event then flags.
package credential

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/vision"
)

// Verifier is the gate's credential verifier: it routes a payload by its
// prefix to the checker of its kind. A nil checker means the kind is not
// accepted at this gate.
type Verifier struct {
	// DCC checks EU Digital COVID Certificates ("HC1:").
	DCC *DCCVerifier
	// Pass checks site passes ("GGP1:").
	Pass *PassVerifier
	// HealthCode checks every other payload as a colour-coded health code.
	HealthCode *HealthCodeVerifier
	// Passback, when set, applies anti-passback to green credentials.
	Passback *Passback
	// Now returns the clock for anti-passback; nil means time.Now.
	Now func() time.Time
	// Log, when set, receives a warning for every anti-passback violation
	// (soft ones are admitted, so the log and the event are their trace).
	Log *slog.Logger
}

var _ gate.Verifier = (*Verifier)(nil)
var _ gate.AdmissionSink = (*Verifier)(nil)

// Verify returns the verdict on one decoded code.
func (v *Verifier) Verify(ctx context.Context, code vision.Code) gate.Credential {
	c := v.route(ctx, code)
	if v.Passback != nil {
		before := len(c.Reasons)
		c = v.Passback.Apply(c, clockNow(v.Now))
		if v.Log != nil && len(c.Reasons) > before {
			v.Log.Warn("anti-passback", "mode", v.Passback.Mode(), "kind", c.Kind, "id", c.ID,
				"holder", c.Holder, "status", c.Status, "detail", c.Reasons[len(c.Reasons)-1])
		}
	}
	return c
}

func (v *Verifier) route(ctx context.Context, code vision.Code) gate.Credential {
	reject := func(kind, why string) gate.Credential {
		return gate.Credential{Kind: kind, Status: gate.StatusCheckFailed, Reasons: []string{why}}
	}
	switch {
	case code.Text == "":
		return reject("", "payload is not text (binary QR code)")
	case strings.HasPrefix(code.Text, DCCPrefix):
		if v.DCC == nil {
			return reject(KindDCC, "EU digital COVID certificates are not accepted at this gate")
		}
		return v.DCC.Verify(ctx, code)
	case strings.HasPrefix(code.Text, PassPrefix):
		if v.Pass == nil {
			return reject(KindSitePass, "site passes are not accepted at this gate")
		}
		return v.Pass.Verify(ctx, code)
	case v.HealthCode != nil:
		return v.HealthCode.Verify(ctx, code)
	}
	return reject("", "unrecognised payload: not a credential kind this gate accepts")
}

// Admitted tells anti-passback that the gate admitted c at time at.
func (v *Verifier) Admitted(c gate.Credential, at time.Time) {
	if v.Passback != nil {
		v.Passback.Admitted(c, at)
	}
}

// rejected returns cred with status st and err as one more reason.
func rejected(cred gate.Credential, st gate.CredentialStatus, err error) gate.Credential {
	cred.Status = st
	cred.Reasons = append(cred.Reasons, err.Error())
	return cred
}

// clockNow reads a verifier's clock; a nil clock is time.Now.
func clockNow(now func() time.Time) time.Time {
	if now == nil {
		return time.Now()
	}
	return now()
}
