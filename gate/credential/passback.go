package credential

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/gateguard/gateguard/gate"
)

// PassbackMode is how the gate treats a credential used again soon.
type PassbackMode string

// Anti-passback modes.
const (
	// PassbackOff keeps no state.
	PassbackOff PassbackMode = "off"
	// PassbackSoft admits a re-use within the window, flags it in the
	// credential's reasons (every event shows it) and logs it.
	PassbackSoft PassbackMode = "soft"
	// PassbackHard denies a re-use until Exited is called for the
	// credential (an exit reader) or, failing that, the window (the reset
	// interval, e.g. 12 h) has passed since its admission.
	PassbackHard PassbackMode = "hard"
	// PassbackTimed denies re-entry within the window after an admission.
	PassbackTimed PassbackMode = "timed"
)

// ReasonPassbackSoft starts the credential reason of a soft violation.
const ReasonPassbackSoft = gate.PassbackSoftReason

// maxPassbackEntries bounds the tracker's memory; the oldest half is
// dropped when it is reached.
const maxPassbackEntries = 100000

// Passback tracks admitted credentials for anti-passback and for spotting
// the same pass used twice in a window (a shared or copied pass). The state
// lives in memory only: a restart forgets it, so the first use of each pass
// after a restart is never a violation (the daemon logs this at start).
// Verify calls Apply before the gate decides; the controller calls Admitted
// after it records an admission (gate.AdmissionSink).
type Passback struct {
	mode   PassbackMode
	window time.Duration

	mu   sync.Mutex // guards last
	last map[string]time.Time
}

// NewPassback returns a tracker; window must be positive unless mode is off.
func NewPassback(mode PassbackMode, window time.Duration) (*Passback, error) {
	switch mode {
	case PassbackOff, PassbackSoft, PassbackHard, PassbackTimed:
	default:
		return nil, fmt.Errorf("credential: anti-passback mode %q is not off, soft, hard or timed", mode)
	}
	if mode != PassbackOff && window <= 0 {
		return nil, fmt.Errorf("credential: anti-passback window %v must be positive", window)
	}
	return &Passback{mode: mode, window: window, last: map[string]time.Time{}}, nil
}

// Mode returns the tracker's mode.
func (p *Passback) Mode() PassbackMode { return p.mode }

func passbackKey(c gate.Credential) string {
	id := c.ID
	if id == "" {
		id = c.Holder
	}
	if id == "" {
		return ""
	}
	return c.Kind + "\x00" + id
}

// Apply checks a green credential against earlier admissions at now: a hard
// or timed violation turns it into StatusPassback; a soft one adds a reason.
func (p *Passback) Apply(c gate.Credential, now time.Time) gate.Credential {
	if p == nil || p.mode == PassbackOff || c.Status != gate.StatusGreen {
		return c
	}
	key := passbackKey(c)
	if key == "" {
		return c
	}
	p.mu.Lock()
	last, ok := p.last[key]
	p.mu.Unlock()
	if !ok || now.Sub(last) >= p.window || now.Before(last) {
		return c
	}
	ago := now.Sub(last).Round(time.Second)
	switch p.mode {
	case PassbackSoft:
		c.Reasons = append(c.Reasons, fmt.Sprintf("%s: %s used again %s after its last admission", ReasonPassbackSoft, c.ID, ago))
	default:
		c.Status = StatusPassback
		c.Reasons = append(c.Reasons, fmt.Sprintf("anti-passback (%s): %s was admitted %s ago; re-entry allowed %s after an admission",
			p.mode, c.ID, ago, p.window))
	}
	return c
}

// Admitted records an admission. It is the gate.AdmissionSink port.
func (p *Passback) Admitted(c gate.Credential, at time.Time) {
	if p == nil || p.mode == PassbackOff {
		return
	}
	key := passbackKey(c)
	if key == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.last) >= maxPassbackEntries {
		p.prune(at)
	}
	p.last[key] = at
}

// Exited forgets a credential: its holder left through an exit reader.
func (p *Passback) Exited(c gate.Credential) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.last, passbackKey(c))
}

// prune drops entries outside the window, then, if the tracker is still
// full, the older half of the rest.
func (p *Passback) prune(now time.Time) {
	for k, t := range p.last {
		if now.Sub(t) >= p.window {
			delete(p.last, k)
		}
	}
	if len(p.last) < maxPassbackEntries {
		return
	}
	times := make([]time.Time, 0, len(p.last))
	for _, t := range p.last {
		times = append(times, t)
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	cut := times[len(times)/2]
	for k, t := range p.last {
		if t.Before(cut) {
			delete(p.last, k)
		}
	}
}

// Len returns the number of tracked credentials.
func (p *Passback) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.last)
}
