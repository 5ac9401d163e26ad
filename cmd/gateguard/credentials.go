package main

import (
	"fmt"
	"log/slog"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/credential"
)

// buildCredentials wires credentials.mode: verified — the checkers for the
// accepted kinds, the revocation list and anti-passback. Each error names
// its config key.
func buildCredentials(cfg *configs.Config, log *slog.Logger) (gate.Verifier, gate.AdmissionSink, error) {
	c := cfg.Credentials
	v := &credential.Verifier{Log: log}
	if c.Accepts(configs.KindSitePass) {
		var paths []string
		for _, p := range c.SitePass.PublicKeys {
			paths = append(paths, cfg.Resolve(p))
		}
		keys, err := credential.LoadPassKeys(paths...)
		if err != nil {
			return nil, nil, fmt.Errorf("credentials.site_pass.public_keys: %w", err)
		}
		pv := &credential.PassVerifier{Keys: keys, Gate: cfg.Gate, Skew: c.SitePass.ClockSkew}
		if c.SitePass.RevocationList != "" {
			rl, err := credential.OpenRevocationList(cfg.Resolve(c.SitePass.RevocationList))
			if err != nil {
				return nil, nil, fmt.Errorf("credentials.site_pass.revocation_list: %w", err)
			}
			pv.Revoked = rl
			log.Info("revocation list loaded; re-read whenever it changes", "path", rl.Path(), "revoked", rl.Len())
		}
		v.Pass = pv
		log.Info("site passes accepted", "keys", keys.Len())
	}
	if c.Accepts(configs.KindDCC) {
		var paths []string
		for _, p := range c.DCC.TrustList {
			paths = append(paths, cfg.Resolve(p))
		}
		tl, err := credential.LoadTrustList(paths...)
		if err != nil {
			return nil, nil, fmt.Errorf("credentials.dcc.trust_list: %w", err)
		}
		if tl.Len() == 0 {
			return nil, nil, fmt.Errorf("credentials.dcc.trust_list: no signer certificates found in %v", paths)
		}
		v.DCC = &credential.DCCVerifier{Trust: tl, Skew: c.DCC.ClockSkew}
		log.Info("EU digital COVID certificates accepted", "signers", tl.Len())
	}
	if c.Accepts(configs.KindHealthCode) {
		h := c.HealthCode
		hv, err := credential.NewHealthCodeVerifier(credential.HealthCodeOpts{
			URL: h.URL, CAFile: cfg.Resolve(h.CAFile), Timeout: h.Timeout, CacheTTL: h.CacheTTL,
			Offline: h.Offline, ColourOnly: h.ColourOnlyInsecure, Site: cfg.Site, Gate: cfg.Gate,
		})
		if err != nil {
			return nil, nil, fmt.Errorf("credentials.health_code: %w", err)
		}
		v.HealthCode = hv
		if h.ColourOnlyInsecure {
			log.Warn("INSECURE: health codes are judged by their colour alone; every admission says insecure_credential")
		} else {
			log.Info("health codes accepted", "url", h.URL, "offline", h.Offline)
		}
	}
	if c.AntiPassback.Mode != "off" {
		pb, err := credential.NewPassback(credential.PassbackMode(c.AntiPassback.Mode), c.AntiPassback.Window)
		if err != nil {
			return nil, nil, fmt.Errorf("credentials.anti_passback: %w", err)
		}
		v.Passback = pb
		// The tracker lives in memory: say so, since a restart forgets it.
		log.Info("anti-passback on; its state starts empty (not kept across restarts)",
			"mode", c.AntiPassback.Mode, "window", c.AntiPassback.Window)
		return v, v, nil
	}
	return v, nil, nil
}
