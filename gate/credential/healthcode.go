package credential

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/vision"
)

// KindHealthCode is the credential kind of a colour-coded health code.
const KindHealthCode = "health_code"

// Offline policies: what a health code gets when the online check cannot
// answer (network error, timeout, server error).
const (
	// OfflineDeny denies: the status is timed_out or check_failed.
	OfflineDeny = "deny"
	// OfflineColourOnly falls back to the colour read from the image,
	// marked Insecure so that the event says insecure_credential.
	OfflineColourOnly = "colour_only"
)

// HealthCodeOpts configures a HealthCodeVerifier.
type HealthCodeOpts struct {
	// URL is the platform's HTTPS verification endpoint. Empty means no
	// online check: only ColourOnly may then be set.
	URL string
	// CAFile, when set, is a PEM bundle of the CAs that may sign the
	// server's certificate (instead of the system roots).
	CAFile string
	// Timeout bounds one online call (the gate's check timeout bounds it too).
	Timeout time.Duration
	// CacheTTL is how long an authoritative answer is reused; 0 disables.
	CacheTTL time.Duration
	// Offline is OfflineDeny or OfflineColourOnly.
	Offline string
	// ColourOnly is the explicit insecure mode: no online call, the image's
	// colour decides, and every credential is marked Insecure.
	ColourOnly bool
	// Site and Gate are sent with each request.
	Site, Gate string
	// Client, when set, replaces the HTTP client built from CAFile and
	// Timeout (tests).
	Client *http.Client
	// Now returns the clock; nil means time.Now.
	Now func() time.Time
}

// HealthCodeVerifier verifies colour-coded health codes: the colour read from
// the image is a hint; the platform's online answer is the authority.
//
// The online call is POST URL with JSON {"code", "site", "gate", "colour"}
// and expects 200 with JSON {"status": green|yellow|red|expired|not_found,
// "holder": "...", "valid_until": RFC 3339 (optional), "id": "..." (optional)}.
type HealthCodeVerifier struct {
	o      HealthCodeOpts
	client *http.Client
	now    func() time.Time

	mu    sync.Mutex // guards cache
	cache map[string]cachedAnswer
}

type cachedAnswer struct {
	cred    gate.Credential
	expires time.Time
}

// maxCache bounds the answer cache.
const maxCache = 10000

// NewHealthCodeVerifier builds a verifier.
func NewHealthCodeVerifier(o HealthCodeOpts) (*HealthCodeVerifier, error) {
	switch {
	case o.URL == "" && !o.ColourOnly:
		return nil, errors.New("credential: health code: a verification URL is required unless colour-only (insecure) is set")
	case o.Offline != OfflineDeny && o.Offline != OfflineColourOnly:
		return nil, fmt.Errorf("credential: health code: offline policy %q is not %s or %s", o.Offline, OfflineDeny, OfflineColourOnly)
	}
	v := &HealthCodeVerifier{o: o, client: o.Client, now: o.Now, cache: map[string]cachedAnswer{}}
	if v.now == nil {
		v.now = time.Now
	}
	if v.client == nil && o.URL != "" {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if o.CAFile != "" {
			pem, err := os.ReadFile(o.CAFile)
			if err != nil {
				return nil, fmt.Errorf("credential: health code CA: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("credential: health code CA %s: no PEM certificate", o.CAFile)
			}
			tc.RootCAs = pool
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = tc
		v.client = &http.Client{Transport: tr, Timeout: o.Timeout}
	}
	if v.client != nil {
		// A copy, so that a caller's client keeps its own policy.
		c := *v.client
		c.CheckRedirect = checkRedirect
		v.client = &c
	}
	return v, nil
}

// ErrInsecureRedirect is returned when the platform redirects an HTTPS
// check to plain HTTP: the answer would come over a connection anyone on
// the path can forge, so it is never asked for.
var ErrInsecureRedirect = errors.New("credential: health code: platform redirected from HTTPS to an insecure URL")

// checkRedirect follows at most 10 redirects and none that leaves HTTPS.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("credential: health code: stopped after 10 redirects")
	}
	if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
		return fmt.Errorf("%w: %s", ErrInsecureRedirect, req.URL.Redacted())
	}
	return nil
}

// healthAnswer is the platform's JSON answer.
type healthAnswer struct {
	Status     string     `json:"status"`
	Holder     string     `json:"holder"`
	ID         string     `json:"id"`
	ValidUntil *time.Time `json:"valid_until"`
}

// errOffline marks failures the offline policy applies to.
type errOffline struct {
	status gate.CredentialStatus
	err    error
}

func (e *errOffline) Error() string { return e.err.Error() }
func (e *errOffline) Unwrap() error { return e.err }

// Verify returns the verdict on a health code.
func (v *HealthCodeVerifier) Verify(ctx context.Context, code vision.Code) gate.Credential {
	if code.Text == "" {
		return gate.Credential{Kind: KindHealthCode, Status: gate.StatusCheckFailed, Reasons: []string{"empty payload"}}
	}
	if v.o.ColourOnly {
		c := v.colourOnly(code)
		c.Reasons = append(c.Reasons, "colour-only mode (insecure): no online verification")
		return c
	}
	key := codeKey(code.Text)
	if c, ok := v.cached(key); ok {
		return c
	}
	c, err := v.online(ctx, code, key)
	if err == nil {
		v.store(key, c)
		return c
	}
	var off *errOffline
	if !errors.As(err, &off) {
		return gate.Credential{Kind: KindHealthCode, ID: key, Status: gate.StatusCheckFailed, Reasons: []string{err.Error()}}
	}
	if v.o.Offline == OfflineColourOnly {
		c := v.colourOnly(code)
		c.Reasons = append(c.Reasons, "online check unavailable, colour only (insecure): "+err.Error())
		return c
	}
	return gate.Credential{Kind: KindHealthCode, ID: key, Status: off.status, Reasons: []string{err.Error()}}
}

// codeKey names a code without keeping its text (which may be a personal
// identifier) in events and memory longer than needed.
func codeKey(text string) string {
	sum := sha256.Sum256([]byte(text))
	return "hc-" + hex.EncodeToString(sum[:8])
}

// colourOnly makes a credential from the image's colour alone.
func (v *HealthCodeVerifier) colourOnly(code vision.Code) gate.Credential {
	c := gate.Credential{Kind: KindHealthCode, ID: codeKey(code.Text), Holder: codeKey(code.Text), Insecure: true}
	switch code.Colour {
	case vision.ColourGreen:
		c.Status = gate.StatusGreen
	case vision.ColourYellow:
		c.Status = gate.StatusYellow
	case vision.ColourRed:
		c.Status = gate.StatusRed
	default:
		c.Status = gate.StatusCheckFailed
		c.Insecure = false
		c.Reasons = append(c.Reasons, fmt.Sprintf("colour %s is not a health-code colour", code.Colour))
	}
	return c
}

func (v *HealthCodeVerifier) cached(key string) (gate.Credential, bool) {
	if v.o.CacheTTL <= 0 {
		return gate.Credential{}, false
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	a, ok := v.cache[key]
	if !ok || !v.now().Before(a.expires) {
		delete(v.cache, key)
		return gate.Credential{}, false
	}
	c := a.cred
	c.Reasons = append(append([]string(nil), c.Reasons...), "cached online answer")
	return c, true
}

func (v *HealthCodeVerifier) store(key string, c gate.Credential) {
	if v.o.CacheTTL <= 0 {
		return
	}
	now := v.now()
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.cache) >= maxCache {
		for k, a := range v.cache {
			if !now.Before(a.expires) {
				delete(v.cache, k)
			}
		}
		if len(v.cache) >= maxCache {
			clear(v.cache)
		}
	}
	v.cache[key] = cachedAnswer{cred: c, expires: now.Add(v.o.CacheTTL)}
}

// online asks the platform. Network failures, timeouts and server errors
// are *errOffline; a malformed answer is a plain error.
func (v *HealthCodeVerifier) online(ctx context.Context, code vision.Code, key string) (gate.Credential, error) {
	if v.o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, v.o.Timeout)
		defer cancel()
	}
	body, _ := json.Marshal(map[string]string{"code": code.Text, "site": v.o.Site, "gate": v.o.Gate, "colour": code.Colour.String()})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.o.URL, bytes.NewReader(body))
	if err != nil {
		return gate.Credential{}, fmt.Errorf("credential: health code: request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := v.client.Do(req)
	if errors.Is(err, ErrInsecureRedirect) {
		// Not "offline": a downgrade is an attack or a misconfiguration,
		// and the colour must not stand in for the answer.
		return gate.Credential{}, fmt.Errorf("credential: health code: online check: %w", err)
	}
	if err != nil {
		st := gate.StatusCheckFailed
		if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			st = gate.StatusTimedOut
		}
		return gate.Credential{}, &errOffline{st, fmt.Errorf("credential: health code: online check: %w", err)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		st := gate.StatusCheckFailed
		if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			st = gate.StatusTimedOut
		}
		return gate.Credential{}, &errOffline{st, fmt.Errorf("credential: health code: read answer: %w", err)}
	}
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
		return gate.Credential{}, &errOffline{gate.StatusCheckFailed, fmt.Errorf("credential: health code: online check: HTTP %d", resp.StatusCode)}
	}
	if resp.StatusCode != http.StatusOK {
		return gate.Credential{}, fmt.Errorf("credential: health code: online check: HTTP %d", resp.StatusCode)
	}
	var a healthAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		return gate.Credential{}, fmt.Errorf("credential: health code: answer: %w", err)
	}
	c := gate.Credential{Kind: KindHealthCode, Holder: a.Holder, ID: a.ID, Issuer: v.o.URL, Verified: true, ValidUntil: a.ValidUntil}
	if c.ID == "" {
		c.ID = key
	}
	if c.Holder == "" {
		c.Holder = key
	}
	switch a.Status {
	case "green":
		c.Status = gate.StatusGreen
	case "yellow":
		c.Status = gate.StatusYellow
	case "red":
		c.Status = gate.StatusRed
	case "expired":
		c.Status = gate.StatusExpired
	case "not_found":
		c.Status = gate.StatusUnknownIssuer
		c.Reasons = append(c.Reasons, "code not found by the platform")
	default:
		return gate.Credential{}, fmt.Errorf("credential: health code: answer: unknown status %q", a.Status)
	}
	if c.Status == gate.StatusGreen && a.ValidUntil != nil && v.now().After(*a.ValidUntil) {
		c.Status = gate.StatusExpired
		c.Reasons = append(c.Reasons, "platform answer valid until "+a.ValidUntil.Format(time.RFC3339))
	}
	if want := colourStatus(code.Colour); want != "" && want != c.Status {
		c.Reasons = append(c.Reasons, fmt.Sprintf("colour mismatch: image shows %s, platform says %s (doctored image?)", code.Colour, a.Status))
	}
	return c, nil
}

func colourStatus(c vision.Colour) gate.CredentialStatus {
	switch c {
	case vision.ColourGreen:
		return gate.StatusGreen
	case vision.ColourYellow:
		return gate.StatusYellow
	case vision.ColourRed:
		return gate.StatusRed
	}
	return ""
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}
