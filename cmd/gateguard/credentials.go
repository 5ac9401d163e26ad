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
	var err error
	if c.Accepts(configs.KindSitePass) {
		if v.Pass, err = sitePassVerifier(cfg, log); err != nil {
			return nil, nil, err
		}
	}
	if c.Accepts(configs.KindDCC) {
		if v.DCC, err = dccVerifier(cfg, log); err != nil {
			return nil, nil, err
		}
	}
	if c.Accepts(configs.KindHealthCode) {
		if v.HealthCode, err = healthCodeVerifier(cfg, log); err != nil {
			return nil, nil, err
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

// sitePassVerifier checks site passes against credentials.site_pass: the
// signing keys and the revocation list.
func sitePassVerifier(cfg *configs.Config, log *slog.Logger) (*credential.PassVerifier, error) {
	sp := cfg.Credentials.SitePass
	var paths []string
	for _, p := range sp.PublicKeys {
		paths = append(paths, cfg.Resolve(p))
	}
	keys, err := credential.LoadPassKeys(paths...)
	if err != nil {
		return nil, fmt.Errorf("credentials.site_pass.public_keys: %w", err)
	}
	pv := &credential.PassVerifier{Keys: keys, Gate: cfg.Gate, Skew: sp.ClockSkew}
	if sp.RevocationList != "" {
		rl, err := credential.OpenRevocationList(cfg.Resolve(sp.RevocationList))
		if err != nil {
			return nil, fmt.Errorf("credentials.site_pass.revocation_list: %w", err)
		}
		pv.Revoked = rl
		log.Info("revocation list loaded; re-read whenever it changes", "path", rl.Path(), "revoked", rl.Len())
	}
	log.Info("site passes accepted", "keys", keys.Len())
	return pv, nil
}

// dccVerifier checks EU digital COVID certificates against
// credentials.dcc.trust_list.
func dccVerifier(cfg *configs.Config, log *slog.Logger) (*credential.DCCVerifier, error) {
	d := cfg.Credentials.DCC
	var paths []string
	for _, p := range d.TrustList {
		paths = append(paths, cfg.Resolve(p))
	}
	tl, err := credential.LoadTrustList(paths...)
	if err != nil {
		return nil, fmt.Errorf("credentials.dcc.trust_list: %w", err)
	}
	if tl.Len() == 0 {
		return nil, fmt.Errorf("credentials.dcc.trust_list: no signer certificates found in %v", paths)
	}
	log.Info("EU digital COVID certificates accepted", "signers", tl.Len())
	return &credential.DCCVerifier{Trust: tl, Skew: d.ClockSkew}, nil
}

// healthCodeVerifier checks health codes as credentials.health_code says.
func healthCodeVerifier(cfg *configs.Config, log *slog.Logger) (*credential.HealthCodeVerifier, error) {
	h := cfg.Credentials.HealthCode
	hv, err := credential.NewHealthCodeVerifier(credential.HealthCodeOpts{
		URL: h.URL, CAFile: cfg.Resolve(h.CAFile), Timeout: h.Timeout, CacheTTL: h.CacheTTL,
		Offline: h.Offline, ColourOnly: h.ColourOnlyInsecure, Site: cfg.Site, Gate: cfg.Gate,
	})
	if err != nil {
		return nil, fmt.Errorf("credentials.health_code: %w", err)
	}
	if h.ColourOnlyInsecure {
		log.Warn("INSECURE: health codes are judged by their colour alone; every admission says insecure_credential")
	} else {
		log.Info("health codes accepted", "url", h.URL, "offline", h.Offline)
	}
	return hv, nil
}
