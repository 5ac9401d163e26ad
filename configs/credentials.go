package configs

import (
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"time"
)

// Credential kinds a gate may accept in credentials.accept.
const (
	KindSitePass   = "site_pass"
	KindDCC        = "dcc"
	KindHealthCode = "health_code"
)

// SitePass configures GateGuard's signed site passes.
type SitePass struct {
	// PublicKeys are PEM files of the Ed25519 keys passes are signed with
	// (`gateguard pass keygen` writes them); several keys allow rotation.
	PublicKeys []string `yaml:"public_keys"`
	// RevocationList is the file `gateguard pass revoke` writes; the daemon
	// re-reads it whenever it changes. Missing means nothing revoked yet.
	RevocationList string `yaml:"revocation_list"`
	// ClockSkew tolerates a pass whose window starts a little ahead of this
	// gate's clock.
	ClockSkew time.Duration `yaml:"clock_skew"`
}

// DCC configures EU Digital COVID Certificate checks.
type DCC struct {
	// TrustList names PEM/DER files or folders of document signer
	// certificates.
	TrustList []string `yaml:"trust_list"`
	// ClockSkew tolerates an issue time a little ahead of this gate's clock.
	ClockSkew time.Duration `yaml:"clock_skew"`
}

// HealthCode configures colour-coded health codes.
type HealthCode struct {
	// URL is the platform's HTTPS verification endpoint.
	URL string `yaml:"url"`
	// CAFile is a PEM bundle of the CAs that sign the platform's certificate;
	// empty means the system's roots.
	CAFile string `yaml:"ca_file"`
	// Timeout bounds one online call.
	Timeout time.Duration `yaml:"timeout"`
	// CacheTTL is how long an online answer is reused; 0 disables the cache.
	CacheTTL time.Duration `yaml:"cache_ttl"`
	// Offline is what happens when the platform cannot answer: "deny", or
	// "colour_only" (the image's colour decides, flagged insecure).
	Offline string `yaml:"offline"`
	// ColourOnlyInsecure makes the image's colour alone decide, with no
	// online call: INSECURE (a screenshot or a doctored image passes), and
	// every event says insecure_credential.
	ColourOnlyInsecure bool `yaml:"colour_only_insecure"`
}

// AntiPassback configures anti-passback.
type AntiPassback struct {
	// Mode is off, soft (admit and flag a re-use within the window), hard
	// (deny until an exit or the window's end) or timed (deny re-entry
	// within the window).
	Mode string `yaml:"mode"`
	// Window is the re-use window (timed, soft) or reset interval (hard).
	Window time.Duration `yaml:"window"`
}

// defaultCredentials holds the credential defaults; Mode has none, so that
// a site must choose.
func defaultCredentials() Credentials {
	return Credentials{
		SitePass:     SitePass{ClockSkew: time.Minute},
		DCC:          DCC{ClockSkew: 5 * time.Minute},
		HealthCode:   HealthCode{Timeout: 2 * time.Second, CacheTTL: time.Minute, Offline: "deny"},
		AntiPassback: AntiPassback{Mode: "off"},
	}
}

// Resolve returns path made absolute from the config file's folder when it
// is relative and the config was loaded from a file. Load resolves every
// path key this way; a resolved path resolves to itself.
func (c *Config) Resolve(path string) string {
	if path == "" || filepath.IsAbs(path) || c.Path == "" {
		return path
	}
	p := filepath.Join(filepath.Dir(c.Path), path)
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

// Accepts reports whether the credentials section accepts kind.
func (c Credentials) Accepts(kind string) bool {
	return c.Mode == "verified" && slices.Contains(c.Accept, kind)
}

func (v *validator) credentials(c Credentials) {
	v.oneOf("credentials.mode", c.Mode, "presence", "verified")
	if c.Mode != "verified" {
		if len(c.Accept) > 0 {
			v.add("credentials.accept", "is only used with credentials.mode: verified")
		}
		if c.AntiPassback.Mode != "off" {
			v.add("credentials.anti_passback.mode", "is only used with credentials.mode: verified")
		}
		return
	}
	if len(c.Accept) == 0 {
		v.add("credentials.accept", "must list at least one of %s, %s, %s", KindSitePass, KindDCC, KindHealthCode)
	}
	seen := map[string]bool{}
	for i, k := range c.Accept {
		key := fmt.Sprintf("credentials.accept[%d]", i)
		v.oneOf(key, k, KindSitePass, KindDCC, KindHealthCode)
		if seen[k] {
			v.add(key, "%q is listed twice", k)
		}
		seen[k] = true
	}
	if seen[KindSitePass] {
		if len(c.SitePass.PublicKeys) == 0 {
			v.add("credentials.site_pass.public_keys", "is required when site_pass is accepted")
		}
		for i, p := range c.SitePass.PublicKeys {
			v.required(fmt.Sprintf("credentials.site_pass.public_keys[%d]", i), p)
		}
		v.duration("credentials.site_pass.clock_skew", c.SitePass.ClockSkew, 0, time.Hour)
	}
	if seen[KindDCC] {
		if len(c.DCC.TrustList) == 0 {
			v.add("credentials.dcc.trust_list", "is required when dcc is accepted")
		}
		v.duration("credentials.dcc.clock_skew", c.DCC.ClockSkew, 0, time.Hour)
	}
	if seen[KindHealthCode] {
		h := c.HealthCode
		switch {
		case h.ColourOnlyInsecure && h.URL != "":
			v.add("credentials.health_code.url", "must be empty with colour_only_insecure (no online check is made)")
		case !h.ColourOnlyInsecure && h.URL == "":
			v.add("credentials.health_code.url", "is required (or set colour_only_insecure: true, which is insecure)")
		case h.URL != "":
			if u, err := url.Parse(h.URL); err != nil || u.Scheme != "https" || u.Host == "" {
				v.add("credentials.health_code.url", "%q must be an https:// URL", h.URL)
			}
		}
		v.duration("credentials.health_code.timeout", h.Timeout, 100*time.Millisecond, 30*time.Second)
		v.duration("credentials.health_code.cache_ttl", h.CacheTTL, 0, 24*time.Hour)
		v.oneOf("credentials.health_code.offline", h.Offline, "deny", "colour_only")
	}
	a := c.AntiPassback
	v.oneOf("credentials.anti_passback.mode", a.Mode, "off", "soft", "hard", "timed")
	if a.Mode != "off" {
		v.duration("credentials.anti_passback.window", a.Window, time.Second, 7*24*time.Hour)
	}
}

// onlineTimeout checks the health-code online call against the gate's check
// timeout: the gate gives up on an attempt at policy.check_timeout, so an
// online call allowed as long or longer is cut off by the gate first, and
// the offline policy (colour_only) never gets to apply.
func (v *validator) onlineTimeout(c *Config) {
	h := c.Credentials.HealthCode
	if !c.Credentials.Accepts(KindHealthCode) || h.ColourOnlyInsecure || h.Timeout <= 0 || h.Timeout > 30*time.Second {
		return
	}
	if h.Timeout >= c.Policy.CheckTimeout {
		v.add("credentials.health_code.timeout", "%v must be shorter than policy.check_timeout (%v), or the gate gives up before the offline policy applies",
			h.Timeout, c.Policy.CheckTimeout)
	}
}
