package credential

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/vision"
)

// platform is a fake health-code platform behind real TLS.
type platform struct {
	srv    *httptest.Server
	calls  atomic.Int32
	answer atomic.Value // func(w, code string)
	caFile string
}

func newPlatform(t *testing.T) *platform {
	t.Helper()
	p := &platform{}
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	p.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.calls.Add(1)
		var req struct{ Code, Site, Gate, Colour string }
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || r.Method != http.MethodPost {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		switch req.Code {
		case "hang": // never answers: the connection is dropped once the client gives up
			select {
			case <-r.Context().Done():
			case <-release:
			}
			panic(http.ErrAbortHandler)
		case "boom":
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		case "teapot":
			w.WriteHeader(http.StatusTeapot)
			return
		case "garbage":
			w.Write([]byte("{not json"))
			return
		}
		status, holder, _ := strings.Cut(req.Code, ":")
		json.NewEncoder(w).Encode(map[string]any{"status": status, "holder": holder})
	}))
	t.Cleanup(p.srv.Close)
	p.caFile = filepath.Join(t.TempDir(), "ca.pem")
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.srv.Certificate().Raw})
	if err := os.WriteFile(p.caFile, ca, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestHealthCodeOnline(t *testing.T) {
	p := newPlatform(t)
	v, err := NewHealthCodeVerifier(HealthCodeOpts{URL: p.srv.URL, CAFile: p.caFile, Timeout: 2 * time.Second,
		Offline: OfflineDeny, Site: "s", Gate: "g"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		code     string
		colour   vision.Colour
		want     gate.CredentialStatus
		verified bool
		reason   string
	}{
		{"green:alice", vision.ColourGreen, gate.StatusGreen, true, ""},
		{"yellow:bob", vision.ColourYellow, gate.StatusYellow, true, ""},
		{"red:carol", vision.ColourRed, gate.StatusRed, true, ""},
		{"red:dave", vision.ColourGreen, gate.StatusRed, true, "colour mismatch"}, // doctored image
		{"expired:erin", vision.ColourGreen, gate.StatusExpired, true, "colour mismatch"},
		{"not_found:x", vision.ColourGreen, gate.StatusUnknownIssuer, true, "not found"},
		{"purple:x", vision.ColourGreen, gate.StatusCheckFailed, false, "unknown status"},
		{"garbage", vision.ColourGreen, gate.StatusCheckFailed, false, "answer"},
		{"teapot", vision.ColourGreen, gate.StatusCheckFailed, false, "HTTP 418"},
		{"boom", vision.ColourGreen, gate.StatusCheckFailed, false, "HTTP 503"},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			c := v.Verify(context.Background(), vision.Code{Text: tt.code, Colour: tt.colour})
			if c.Status != tt.want || c.Verified != tt.verified || c.Insecure {
				t.Fatalf("%s verified=%v insecure=%v %v; want %s verified=%v", c.Status, c.Verified, c.Insecure, c.Reasons, tt.want, tt.verified)
			}
			if tt.reason != "" && !strings.Contains(strings.Join(c.Reasons, ";"), tt.reason) {
				t.Errorf("reasons %q lack %q", c.Reasons, tt.reason)
			}
		})
	}
	if c := v.Verify(context.Background(), vision.Code{Text: "green:alice"}); c.Holder != "alice" || c.Kind != KindHealthCode {
		t.Errorf("holder %q kind %q", c.Holder, c.Kind)
	}
}

func TestHealthCodeTLSVerification(t *testing.T) {
	p := newPlatform(t)
	// Without the test CA the server's certificate is unknown: the check
	// fails and the offline policy applies.
	v, err := NewHealthCodeVerifier(HealthCodeOpts{URL: p.srv.URL, Timeout: 2 * time.Second, Offline: OfflineDeny})
	if err != nil {
		t.Fatal(err)
	}
	c := v.Verify(context.Background(), vision.Code{Text: "green:alice", Colour: vision.ColourGreen})
	if c.Status != gate.StatusCheckFailed || !strings.Contains(strings.Join(c.Reasons, ";"), "certificate") {
		t.Fatalf("untrusted server: %s %v", c.Status, c.Reasons)
	}
	if p.calls.Load() != 0 {
		t.Errorf("handler reached %d times over an unverified connection", p.calls.Load())
	}
	if _, err := NewHealthCodeVerifier(HealthCodeOpts{URL: p.srv.URL, CAFile: filepath.Join(t.TempDir(), "none.pem"), Offline: OfflineDeny}); err == nil {
		t.Error("missing CA file accepted")
	}
}

// TestHealthCodeRefusesHTTPRedirect: a platform that redirects its HTTPS
// check to plain HTTP is refused (check_failed, saying why) under either
// offline policy; the plain server is never asked and its "green" never
// believed. A redirect that stays on HTTPS is still followed.
func TestHealthCodeRefusesHTTPRedirect(t *testing.T) {
	p := newPlatform(t)
	var plainCalls atomic.Int32
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plainCalls.Add(1)
		json.NewEncoder(w).Encode(map[string]any{"status": "green", "holder": "mallory"})
	}))
	t.Cleanup(plain.Close)
	tls := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := plain.URL + "/check"
		if r.URL.Path == "/stay" {
			target = p.srv.URL + "/"
		}
		http.Redirect(w, r, target, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(tls.Close)
	for _, tt := range []struct {
		name, path, offline string
		want                gate.CredentialStatus
		reason              string
	}{
		{"to http, offline deny", "/", OfflineDeny, gate.StatusCheckFailed, "redirected from HTTPS to an insecure URL"},
		{"to http, offline colour_only", "/", OfflineColourOnly, gate.StatusCheckFailed, "redirected from HTTPS to an insecure URL"},
		{"to https", "/stay", OfflineDeny, gate.StatusGreen, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			client := tls.Client() // trusts the redirecting server's certificate
			client.Transport.(*http.Transport).TLSClientConfig.RootCAs.AddCert(p.srv.Certificate())
			v := mustHC(t, HealthCodeOpts{URL: tls.URL + tt.path, Client: client, Timeout: 2 * time.Second, Offline: tt.offline})
			c := v.Verify(context.Background(), vision.Code{Text: "green:alice", Colour: vision.ColourGreen})
			if c.Status != tt.want || c.Insecure {
				t.Fatalf("status %s insecure=%v %v, want %s", c.Status, c.Insecure, c.Reasons, tt.want)
			}
			if tt.reason != "" && !strings.Contains(strings.Join(c.Reasons, ";"), tt.reason) {
				t.Errorf("reasons %q lack %q", c.Reasons, tt.reason)
			}
			if tt.want == gate.StatusGreen && c.Holder != "alice" {
				t.Errorf("holder %q, want alice from the HTTPS platform", c.Holder)
			}
		})
	}
	if n := plainCalls.Load(); n != 0 {
		t.Errorf("the plain HTTP server was asked %d times", n)
	}
}

func TestHealthCodeTimeoutAndOfflinePolicy(t *testing.T) {
	p := newPlatform(t)
	for _, tc := range []struct {
		policy   string
		colour   vision.Colour
		want     gate.CredentialStatus
		insecure bool
	}{
		{OfflineDeny, vision.ColourGreen, gate.StatusTimedOut, false},
		{OfflineColourOnly, vision.ColourGreen, gate.StatusGreen, true},
		{OfflineColourOnly, vision.ColourRed, gate.StatusRed, true},
		{OfflineColourOnly, vision.ColourBlack, gate.StatusCheckFailed, false},
	} {
		t.Run(tc.policy+"/"+tc.colour.String(), func(t *testing.T) {
			v, err := NewHealthCodeVerifier(HealthCodeOpts{URL: p.srv.URL, CAFile: p.caFile, Timeout: 100 * time.Millisecond, Offline: tc.policy})
			if err != nil {
				t.Fatal(err)
			}
			c := v.Verify(context.Background(), vision.Code{Text: "hang", Colour: tc.colour})
			if c.Status != tc.want || c.Insecure != tc.insecure || c.Verified {
				t.Fatalf("%s insecure=%v verified=%v %v", c.Status, c.Insecure, c.Verified, c.Reasons)
			}
			if tc.insecure && !strings.Contains(strings.Join(c.Reasons, ";"), "colour only") {
				t.Errorf("reasons %q do not say colour only", c.Reasons)
			}
			// The gate decides: an insecure green admits with the reason.
			if tc.want == gate.StatusGreen {
				v := gate.Decide(gate.Policy{FeverC: 37.5, ColdC: 34, MinSkinC: 30}, gate.Attempt{Mode: gate.ModeNormal, Credential: &c, FaceSeen: true})
				if !v.Admit || v.Reasons[len(v.Reasons)-1] != gate.ReasonInsecure {
					t.Errorf("Decide: %v", v)
				}
			}
		})
	}
	// The caller's context (the gate's check timeout) bounds the call too.
	v, _ := NewHealthCodeVerifier(HealthCodeOpts{URL: p.srv.URL, CAFile: p.caFile, Offline: OfflineDeny})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if c := v.Verify(ctx, vision.Code{Text: "hang"}); c.Status != gate.StatusTimedOut {
		t.Errorf("context deadline: %s %v", c.Status, c.Reasons)
	}
	// A server that is gone is offline too.
	dead := httptest.NewTLSServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()
	v, _ = NewHealthCodeVerifier(HealthCodeOpts{URL: url, CAFile: p.caFile, Timeout: time.Second, Offline: OfflineColourOnly})
	if c := v.Verify(context.Background(), vision.Code{Text: "green:a", Colour: vision.ColourGreen}); c.Status != gate.StatusGreen || !c.Insecure {
		t.Errorf("server gone, colour only: %s insecure=%v", c.Status, c.Insecure)
	}
}

func TestHealthCodeCache(t *testing.T) {
	p := newPlatform(t)
	now := testClock
	v, err := NewHealthCodeVerifier(HealthCodeOpts{URL: p.srv.URL, CAFile: p.caFile, Timeout: time.Second,
		CacheTTL: time.Minute, Offline: OfflineDeny, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	code := vision.Code{Text: "green:alice", Colour: vision.ColourGreen}
	for range 3 {
		if c := v.Verify(context.Background(), code); c.Status != gate.StatusGreen {
			t.Fatal(c.Status)
		}
	}
	if n := p.calls.Load(); n != 1 {
		t.Errorf("%d online calls within the TTL, want 1", n)
	}
	now = now.Add(time.Minute)
	v.Verify(context.Background(), code)
	if n := p.calls.Load(); n != 2 {
		t.Errorf("%d online calls after the TTL, want 2", n)
	}
	// Failures are not cached.
	v.Verify(context.Background(), vision.Code{Text: "boom"})
	v.Verify(context.Background(), vision.Code{Text: "boom"})
	if n := p.calls.Load(); n != 4 {
		t.Errorf("%d calls, want 4: errors must not be cached", n)
	}
}

func TestHealthCodeColourOnlyMode(t *testing.T) {
	if _, err := NewHealthCodeVerifier(HealthCodeOpts{Offline: OfflineDeny}); err == nil {
		t.Error("no URL and not colour-only accepted")
	}
	v, err := NewHealthCodeVerifier(HealthCodeOpts{ColourOnly: true, Offline: OfflineDeny})
	if err != nil {
		t.Fatal(err)
	}
	c := v.Verify(context.Background(), vision.Code{Text: "anything", Colour: vision.ColourGreen})
	if c.Status != gate.StatusGreen || !c.Insecure || c.Verified {
		t.Fatalf("%+v", c)
	}
	if c := v.Verify(context.Background(), vision.Code{Text: "anything", Colour: vision.ColourYellow}); c.Status != gate.StatusYellow {
		t.Errorf("yellow: %s", c.Status)
	}
}

func TestVerifierRouting(t *testing.T) {
	pub, key, _ := GenerateKey()
	ec := newTestSigner(t, false)
	clock := func() time.Time { return testClock }
	full := &Verifier{
		DCC:        &DCCVerifier{Trust: NewTrustList(ec.signer), Now: clock},
		Pass:       &PassVerifier{Keys: NewPassKeys(pub), Gate: "lane-1", Now: clock},
		HealthCode: mustHC(t, HealthCodeOpts{ColourOnly: true, Offline: OfflineDeny}),
	}
	passOnly := &Verifier{Pass: full.Pass}
	dcc, pass := makeDCC(t, ec, dccOpts{}), mustIssue(t, testPass("p-1"), key)
	for _, tc := range []struct {
		v    *Verifier
		text string
		kind string
		want gate.CredentialStatus
	}{
		{full, dcc, KindDCC, gate.StatusGreen},
		{full, pass, KindSitePass, gate.StatusGreen},
		{full, "some code", KindHealthCode, gate.StatusGreen},
		{full, "", "", gate.StatusCheckFailed},
		{passOnly, dcc, KindDCC, gate.StatusCheckFailed},
		{passOnly, "some code", "", gate.StatusCheckFailed},
		{passOnly, pass, KindSitePass, gate.StatusGreen},
	} {
		c := tc.v.Verify(context.Background(), vision.Code{Text: tc.text, Colour: vision.ColourGreen})
		if c.Kind != tc.kind || c.Status != tc.want {
			t.Errorf("%.20q: kind %q status %s %v; want %q %s", tc.text, c.Kind, c.Status, c.Reasons, tc.kind, tc.want)
		}
	}
}

func mustHC(t *testing.T, o HealthCodeOpts) *HealthCodeVerifier {
	t.Helper()
	v, err := NewHealthCodeVerifier(o)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
