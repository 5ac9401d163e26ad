package main

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/credential"
	"github.com/gateguard/gateguard/vision"
)

// credentialsConfig writes a config accepting every kind, with relative
// paths to a site pass key and a DCC signer beside it, and loads it. It
// returns the config and the pass signing key.
func credentialsConfig(t *testing.T) (*configs.Config, ed25519.PrivateKey) {
	t.Helper()
	dir := t.TempDir()
	pub, key, _ := credential.GenerateKey()
	pb, _ := credential.MarshalPublicKey(pub)
	mustWrite(t, filepath.Join(dir, "keys", "pass.pub"), pb)
	// A DCC signer certificate from the member states' vectors.
	var vec struct{ TESTCTX struct{ CERTIFICATE string } }
	b, err := os.ReadFile("../../../shared/testdata/dcc/common/CO3.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &vec); err != nil {
		t.Fatal(err)
	}
	der, _ := base64.StdEncoding.DecodeString(vec.TESTCTX.CERTIFICATE)
	mustWrite(t, filepath.Join(dir, "signers", "co3.der"), der)

	yaml := `site: s1
gate: lane-1
mqtt: {enabled: false}
credentials:
  mode: verified
  accept: [site_pass, dcc, health_code]
  site_pass: {public_keys: [keys/pass.pub], revocation_list: revoked.txt}
  dcc: {trust_list: [signers]}
  health_code: {colour_only_insecure: true}
  anti_passback: {mode: timed, window: 1m}
`
	cfgPath := filepath.Join(dir, "gateguard.yaml")
	mustWrite(t, cfgPath, []byte(yaml))
	cfg, err := configs.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, key
}

// TestBuildCredentials wires every kind from a config whose relative paths
// resolve against the config file.
func TestBuildCredentials(t *testing.T) {
	cfg, key := credentialsConfig(t)
	v, sink, err := verifier(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if sink == nil {
		t.Fatal("anti-passback on but no admission sink")
	}
	now := time.Now().Truncate(time.Second)
	text, err := credential.IssuePass(credential.Pass{ID: "p-1", Holder: "h", NotBefore: now.Add(-time.Minute), NotAfter: now.Add(time.Minute)}, key)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c := v.Verify(ctx, vision.Code{Text: text})
	if c.Status != gate.StatusGreen || !c.Verified {
		t.Fatalf("pass: %+v", c)
	}
	sink.Admitted(c, now)
	if c := v.Verify(ctx, vision.Code{Text: text}); c.Status != credential.StatusPassback {
		t.Errorf("replay: %s", c.Status)
	}
	if c := v.Verify(ctx, vision.Code{Text: "HC1:6BF"}); c.Kind != credential.KindDCC {
		t.Errorf("DCC routed to %q", c.Kind)
	}
	if c := v.Verify(ctx, vision.Code{Text: "xyz", Colour: vision.ColourGreen}); c.Status != gate.StatusGreen || !c.Insecure {
		t.Errorf("colour-only health code: %+v", c)
	}
}

// TestBuildCredentialsNamesBrokenKeys: each broken path is reported under
// its key.
func TestBuildCredentialsNamesBrokenKeys(t *testing.T) {
	cfg, _ := credentialsConfig(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tc := range []struct{ edit, key string }{
		{"keys/pass.pub", "credentials.site_pass.public_keys"},
		{"signers", "credentials.dcc.trust_list"},
	} {
		t.Run(tc.key, func(t *testing.T) {
			bad := *cfg
			bad.Credentials.SitePass.PublicKeys = []string{"keys/pass.pub"}
			bad.Credentials.DCC.TrustList = []string{"signers"}
			switch tc.edit {
			case "keys/pass.pub":
				bad.Credentials.SitePass.PublicKeys = []string{"keys/missing.pub"}
			case "signers":
				bad.Credentials.DCC.TrustList = []string{"keys"} // a folder with no certificates
			}
			if _, _, err := verifier(&bad, log); err == nil || !strings.HasPrefix(err.Error(), tc.key+":") {
				t.Errorf("error %v, want one naming %s", err, tc.key)
			}
		})
	}
}

func mustWrite(t *testing.T, name string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestHealthCodeOnlineWiring builds the verifier from a config exactly as
// the daemon does (verifier, as wire.go calls it) with an online platform
// and offline: colour_only. The online check must be made and its answer
// must beat the colour in the image; only when the platform is down does the
// colour decide, marked insecure.
func TestHealthCodeOnlineWiring(t *testing.T) {
	var calls atomic.Int32
	platform := healthPlatform(&calls)
	defer platform.Close()
	v := healthCodeOnlineVerifier(t, platform)
	ctx := context.Background()
	for _, tt := range []struct {
		code   string
		colour vision.Colour
		want   gate.CredentialStatus
	}{
		{"red:dave", vision.ColourGreen, gate.StatusRed},       // a doctored green image: the platform wins
		{"green:alice", vision.ColourYellow, gate.StatusGreen}, // the platform's green, whatever the picture
	} {
		before := calls.Load()
		c := v.Verify(ctx, vision.Code{Text: tt.code, Colour: tt.colour})
		if calls.Load() != before+1 {
			t.Fatalf("%s: the platform was asked %d times, want once", tt.code, calls.Load()-before)
		}
		if c.Status != tt.want || !c.Verified || c.Insecure || c.Kind != credential.KindHealthCode {
			t.Errorf("%s with a %s image: %s verified=%v insecure=%v %v; want %s, verified, secure",
				tt.code, tt.colour, c.Status, c.Verified, c.Insecure, c.Reasons, tt.want)
		}
	}
	platform.Close() // down: offline colour_only applies
	c := v.Verify(ctx, vision.Code{Text: "green:bob", Colour: vision.ColourGreen})
	if c.Status != gate.StatusGreen || !c.Insecure || c.Verified ||
		!strings.Contains(strings.Join(c.Reasons, ";"), "online check unavailable") {
		t.Errorf("platform down: %s verified=%v insecure=%v %v; want green from the colour, insecure", c.Status, c.Verified, c.Insecure, c.Reasons)
	}
	if c := v.Verify(ctx, vision.Code{Text: "green:carol", Colour: vision.ColourRed}); c.Status != gate.StatusRed || !c.Insecure {
		t.Errorf("platform down, red image: %s insecure=%v %v", c.Status, c.Insecure, c.Reasons)
	}
}

// healthPlatform is a health code platform answering "STATUS:HOLDER" codes
// with that status, counting its calls.
func healthPlatform(calls *atomic.Int32) *httptest.Server {
	return httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		var req struct{ Code, Site, Gate string }
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Site != "s1" || req.Gate != "lane-1" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		status, holder, _ := strings.Cut(req.Code, ":")
		json.NewEncoder(w).Encode(map[string]any{"status": status, "holder": holder})
	}))
}

// healthCodeOnlineVerifier builds the verifier from a config naming
// platform, with offline: colour_only, as the daemon does.
func healthCodeOnlineVerifier(t *testing.T, platform *httptest.Server) gate.Verifier {
	t.Helper()
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, "tls", "platform-ca.pem"),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: platform.Certificate().Raw}))
	yaml := `site: s1
gate: lane-1
mqtt: {enabled: false}
credentials:
  mode: verified
  accept: [health_code]
  health_code: {url: "` + platform.URL + `/check", ca_file: tls/platform-ca.pem, timeout: 2s, offline: colour_only}
`
	cfgPath := filepath.Join(dir, "gateguard.yaml")
	mustWrite(t, cfgPath, []byte(yaml))
	cfg, err := configs.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	v, _, err := verifier(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return v
}
