package credential

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veraison/go-cose"

	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/vision"
)

func testPass(id string) Pass {
	return Pass{ID: id, Holder: "emp-0042", Category: "employee", Issuer: "plant-1",
		NotBefore: testClock.Add(-time.Hour), NotAfter: testClock.Add(8 * time.Hour), IssuedAt: testClock.Add(-time.Hour),
		Gates: []string{"lane-1", "lane-2"}}
}

func mustIssue(t testing.TB, p Pass, key ed25519.PrivateKey) string {
	t.Helper()
	s, err := IssuePass(p, key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPassVerify(t *testing.T) {
	pub, key, _ := GenerateKey()
	_, other, _ := GenerateKey()
	v := &PassVerifier{Keys: NewPassKeys(pub), Gate: "lane-1", Now: func() time.Time { return testClock }}

	forged := func() string {
		// Signed by another key but carrying the trusted key's id.
		p := testPass("p-forged")
		text := mustIssue(t, p, other)
		s, _, err := DecodePass(text)
		if err != nil {
			t.Fatal(err)
		}
		s.Msg.Headers.Protected[cose.HeaderLabelKeyID] = KeyID(pub)
		s.Msg.Headers.RawProtected = nil
		s.Msg.Signature = nil
		sg, _ := cose.NewSigner(cose.AlgorithmEdDSA, other)
		if err := s.Msg.Sign(nil, nil, sg); err != nil {
			t.Fatal(err)
		}
		b, _ := (*cose.UntaggedSign1Message)(s.Msg).MarshalCBOR()
		return PassPrefix + Base45Encode(b)
	}
	tampered := func() string {
		s, _, err := DecodePass(mustIssue(t, testPass("p-1"), key))
		if err != nil {
			t.Fatal(err)
		}
		s.Msg.Payload = []byte(strings.Replace(string(s.Msg.Payload), "emp-0042", "emp-0001", 1))
		b, _ := (*cose.UntaggedSign1Message)(s.Msg).MarshalCBOR()
		return PassPrefix + Base45Encode(b)
	}
	with := func(f func(*Pass)) string {
		p := testPass("p-1")
		f(&p)
		return mustIssue(t, p, key)
	}
	tests := []struct {
		name string
		text string
		want gate.CredentialStatus
	}{
		{"green", mustIssue(t, testPass("p-1"), key), gate.StatusGreen},
		{"every gate", with(func(p *Pass) { p.Gates = nil }), gate.StatusGreen},
		{"other gate", with(func(p *Pass) { p.Gates = []string{"lane-9"} }), StatusWrongGate},
		{"expired", with(func(p *Pass) { p.NotAfter = testClock.Add(-time.Second) }), gate.StatusExpired},
		{"not yet valid", with(func(p *Pass) { p.NotBefore = testClock.Add(time.Hour) }), gate.StatusNotYetValid},
		{"unknown key", mustIssue(t, testPass("p-1"), other), gate.StatusUnknownIssuer},
		{"forged under a trusted kid", forged(), gate.StatusForged},
		{"payload altered", tampered(), gate.StatusForged},
		{"truncated", mustIssue(t, testPass("p-1"), key)[:60], gate.StatusCheckFailed},
		{"oversized", PassPrefix + strings.Repeat("A", MaxText), gate.StatusCheckFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := v.Verify(context.Background(), vision.Code{Text: tt.text})
			if c.Status != tt.want {
				t.Fatalf("status %s %v, want %s", c.Status, c.Reasons, tt.want)
			}
			if c.Verified != (tt.want == gate.StatusGreen) {
				t.Errorf("verified=%v", c.Verified)
			}
			if tt.want == gate.StatusGreen && (c.Holder != "emp-0042" || c.ID != "p-1" || c.Issuer != "plant-1" ||
				!c.ValidUntil.Equal(testClock.Add(8*time.Hour).Truncate(time.Second))) {
				t.Errorf("credential %+v", c)
			}
		})
	}
}

func TestPassCompact(t *testing.T) {
	_, key, _ := GenerateKey()
	text := mustIssue(t, testPass("p-0123456789abcdef"), key)
	// Ed25519 signature (64 bytes) + claims: a version-8 QR code at most.
	if len(text) > 300 {
		t.Errorf("pass text is %d characters", len(text))
	}
	for _, r := range text {
		if !strings.ContainsRune(base45Alphabet, r) && !strings.ContainsRune(PassPrefix, r) {
			t.Fatalf("%q is outside the QR alphanumeric set", r)
		}
	}
}

func TestIssuePassRejects(t *testing.T) {
	_, key, _ := GenerateKey()
	for name, p := range map[string]Pass{
		"no id":        {Holder: "h", NotAfter: testClock},
		"no holder":    {ID: "p", NotAfter: testClock},
		"empty window": {ID: "p", Holder: "h", NotBefore: testClock, NotAfter: testClock},
		// Ids a revocation list cannot hold: such a pass could never be revoked.
		"id with a space": {ID: "p 1", Holder: "h", NotAfter: testClock},
		"id with a tab":   {ID: "p\t1", Holder: "h", NotAfter: testClock},
		"id with a #":     {ID: "p#1", Holder: "h", NotAfter: testClock},
	} {
		if _, err := IssuePass(p, key); err == nil {
			t.Errorf("%s: issued", name)
		}
	}
}

func TestKeyFiles(t *testing.T) {
	pub, key, _ := GenerateKey()
	dir := t.TempDir()
	kb, _ := MarshalPrivateKey(key)
	pb, _ := MarshalPublicKey(pub)
	kf, pf := filepath.Join(dir, "pass.key"), filepath.Join(dir, "pass.pub")
	if err := os.WriteFile(kf, kb, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pf, pb, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadPrivateKey(kf); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("world-readable key: %v", err)
	}
	if err := os.Chmod(kf, 0o600); err != nil {
		t.Fatal(err)
	}
	k2, err := LoadPrivateKey(kf)
	if err != nil || !k2.Equal(key) {
		t.Fatalf("LoadPrivateKey: %v", err)
	}
	keys, err := LoadPassKeys(pf)
	if err != nil || keys.Len() != 1 {
		t.Fatalf("LoadPassKeys: %v", err)
	}
	if _, err := LoadPassKeys(kf); err == nil {
		t.Error("a private key file loaded as public keys")
	}
}

// TestPassReplay shows anti-passback on a pass presented again after an
// admission, in every mode.
func TestPassReplay(t *testing.T) {
	pub, key, _ := GenerateKey()
	text := mustIssue(t, testPass("p-1"), key)
	other := mustIssue(t, testPass("p-2"), key)
	for _, tc := range []struct {
		mode             PassbackMode
		again, afterWin  gate.CredentialStatus
		softReason, exit bool
	}{
		{PassbackOff, gate.StatusGreen, gate.StatusGreen, false, false},
		{PassbackSoft, gate.StatusGreen, gate.StatusGreen, true, false},
		{PassbackTimed, StatusPassback, gate.StatusGreen, false, false},
		{PassbackHard, StatusPassback, gate.StatusGreen, false, true},
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			now := testClock
			pb, err := NewPassback(tc.mode, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			var logged bytes.Buffer
			v := &Verifier{Pass: &PassVerifier{Keys: NewPassKeys(pub), Gate: "lane-1", Now: func() time.Time { return now }},
				Passback: pb, Now: func() time.Time { return now }, Log: slog.New(slog.NewTextHandler(&logged, nil))}
			c := v.Verify(context.Background(), vision.Code{Text: text})
			if c.Status != gate.StatusGreen {
				t.Fatalf("first use: %s %v", c.Status, c.Reasons)
			}
			v.Admitted(c, now)
			now = now.Add(30 * time.Second)
			c = v.Verify(context.Background(), vision.Code{Text: text})
			if c.Status != tc.again {
				t.Fatalf("replay: %s %v, want %s", c.Status, c.Reasons, tc.again)
			}
			if got := strings.Contains(strings.Join(c.Reasons, ";"), ReasonPassbackSoft); got != tc.softReason {
				t.Errorf("soft reason %v in %q", got, c.Reasons)
			}
			if got := strings.Contains(logged.String(), "anti-passback"); got != (tc.mode != PassbackOff) {
				t.Errorf("logged %v: %q", got, logged.String())
			}
			if c2 := v.Verify(context.Background(), vision.Code{Text: other}); c2.Status != gate.StatusGreen {
				t.Errorf("another pass: %s", c2.Status)
			}
			if tc.exit {
				pb.Exited(c)
				if c := v.Verify(context.Background(), vision.Code{Text: text}); c.Status != gate.StatusGreen {
					t.Errorf("after exit: %s", c.Status)
				}
				pb.Admitted(c, now)
			}
			now = now.Add(time.Minute)
			if c := v.Verify(context.Background(), vision.Code{Text: text}); c.Status != tc.afterWin {
				t.Errorf("after the window: %s, want %s", c.Status, tc.afterWin)
			}
		})
	}
	if _, err := NewPassback("sometimes", time.Minute); err == nil {
		t.Error("bad mode accepted")
	}
	if _, err := NewPassback(PassbackHard, 0); err == nil {
		t.Error("zero window accepted")
	}
}

func TestPassRevoked(t *testing.T) {
	pub, key, _ := GenerateKey()
	dir := t.TempDir()
	list := filepath.Join(dir, "revoked.txt")
	rl, err := OpenRevocationList(list) // missing: nothing revoked
	if err != nil {
		t.Fatal(err)
	}
	v := &PassVerifier{Keys: NewPassKeys(pub), Gate: "lane-1", Revoked: rl, Now: func() time.Time { return testClock }}
	text := mustIssue(t, testPass("p-7"), key)
	if c := v.Verify(context.Background(), vision.Code{Text: text}); c.Status != gate.StatusGreen {
		t.Fatalf("before revocation: %s %v", c.Status, c.Reasons)
	}
	if added, err := Revoke(list, "p-7", "lost badge", testClock); err != nil || !added {
		t.Fatalf("Revoke: %v %v", added, err)
	}
	c := v.Verify(context.Background(), vision.Code{Text: text})
	if c.Status != gate.StatusRevoked || !strings.Contains(c.Reasons[0], "lost badge") {
		t.Fatalf("after revocation (reloaded on change): %s %v", c.Status, c.Reasons)
	}
	// A corrupt list fails closed.
	if err := os.WriteFile(list, []byte("p-1\tnot-a-time\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if c := v.Verify(context.Background(), vision.Code{Text: mustIssue(t, testPass("p-1"), key)}); c.Status != gate.StatusCheckFailed {
		t.Fatalf("corrupt list: %s %v", c.Status, c.Reasons)
	}
}

func FuzzDecodePass(f *testing.F) {
	pub, key, _ := GenerateKey()
	f.Add(mustIssue(f, testPass("p-1"), key))
	f.Add(PassPrefix)
	f.Add(PassPrefix + "6BF")
	v := &PassVerifier{Keys: NewPassKeys(pub), Gate: "lane-1", Now: func() time.Time { return testClock }}
	f.Fuzz(func(t *testing.T, text string) {
		_, _, _ = DecodePass(text)
		c := v.Verify(context.Background(), vision.Code{Text: text})
		if c.Status == gate.StatusGreen && !c.Verified {
			t.Fatal("green without verification")
		}
	})
}

// TestPassbackBounded: the tracker never grows past its bound, and keeps
// the most recent admissions when it must drop some.
func TestPassbackBounded(t *testing.T) {
	pb, err := NewPassback(PassbackTimed, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	now := testClock
	for i := range maxPassbackEntries + 10 {
		pb.Admitted(gate.Credential{Kind: KindSitePass, ID: fmt.Sprint("p-", i), Status: gate.StatusGreen}, now.Add(time.Duration(i)*time.Millisecond))
	}
	if n := pb.Len(); n > maxPassbackEntries || n < maxPassbackEntries/2 {
		t.Fatalf("%d entries", n)
	}
	last := gate.Credential{Kind: KindSitePass, ID: fmt.Sprint("p-", maxPassbackEntries+9), Status: gate.StatusGreen}
	if c := pb.Apply(last, now.Add(2*time.Minute)); c.Status != StatusPassback {
		t.Errorf("the latest admission was dropped: %s", c.Status)
	}
}

// TestPassValidityEdges puts the verifier's clock at the edges of a pass's
// window, a nanosecond either side, with and without clock skew: from nbf
// (minus the skew) it is valid; on and after exp it is expired (RFC 8392
// exp: "on or after which" it must not be accepted), and the skew never
// extends exp.
func TestPassValidityEdges(t *testing.T) {
	pub, key, _ := GenerateKey()
	p := testPass("p-edge")
	nbf, exp := testClock, testClock.Add(8*time.Hour) // whole seconds, as a CWT carries them
	p.NotBefore, p.NotAfter, p.IssuedAt = nbf, exp, nbf
	text := mustIssue(t, p, key)
	const ns = time.Nanosecond
	tests := []struct {
		name string
		now  time.Time
		skew time.Duration
		want gate.CredentialStatus
	}{
		{"a nanosecond before nbf", nbf.Add(-ns), 0, gate.StatusNotYetValid},
		{"exactly at nbf", nbf, 0, gate.StatusGreen},
		{"a nanosecond after nbf", nbf.Add(ns), 0, gate.StatusGreen},
		{"a nanosecond before nbf-skew", nbf.Add(-time.Minute - ns), time.Minute, gate.StatusNotYetValid},
		{"exactly at nbf-skew", nbf.Add(-time.Minute), time.Minute, gate.StatusGreen},
		{"inside the skew", nbf.Add(-time.Second), time.Minute, gate.StatusGreen},
		{"a nanosecond before exp", exp.Add(-ns), 0, gate.StatusGreen},
		{"exactly at exp", exp, 0, gate.StatusExpired},
		{"a nanosecond after exp", exp.Add(ns), 0, gate.StatusExpired},
		{"skew does not extend exp", exp, time.Minute, gate.StatusExpired},
		{"skew, a nanosecond before exp", exp.Add(-ns), time.Minute, gate.StatusGreen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &PassVerifier{Keys: NewPassKeys(pub), Gate: "lane-1", Skew: tt.skew, Now: func() time.Time { return tt.now }}
			c := v.Verify(context.Background(), vision.Code{Text: text})
			if c.Status != tt.want {
				t.Fatalf("at %s (skew %s): %s %v, want %s", tt.now.Format(time.RFC3339Nano), tt.skew, c.Status, c.Reasons, tt.want)
			}
		})
	}
}

// TestHardPassbackEdges: after an admission, the same pass is refused until
// the holder exits or the window has passed; exactly at the window's end it
// is admitted again. Another pass is never affected.
func TestHardPassbackEdges(t *testing.T) {
	const window = 10 * time.Minute
	const ns = time.Nanosecond
	pass := func(id string) gate.Credential {
		return gate.Credential{Kind: KindSitePass, ID: id, Holder: "emp-0042", Status: gate.StatusGreen}
	}
	at := testClock
	tests := []struct {
		name   string
		cred   gate.Credential
		now    time.Time
		exited bool
		want   gate.CredentialStatus
	}{
		{"same pass at once", pass("p-1"), at, false, StatusPassback},
		{"same pass within the window", pass("p-1"), at.Add(window / 2), false, StatusPassback},
		{"a nanosecond before the window ends", pass("p-1"), at.Add(window - ns), false, StatusPassback},
		{"exactly at the window's end", pass("p-1"), at.Add(window), false, gate.StatusGreen},
		{"after the window", pass("p-1"), at.Add(window + ns), false, gate.StatusGreen},
		{"after an exit, within the window", pass("p-1"), at.Add(time.Second), true, gate.StatusGreen},
		{"another pass at once", pass("p-2"), at, false, gate.StatusGreen},
		{"same id, another kind", gate.Credential{Kind: KindDCC, ID: "p-1", Status: gate.StatusGreen}, at, false, gate.StatusGreen},
		{"not green stays as it is", gate.Credential{Kind: KindSitePass, ID: "p-1", Status: gate.StatusExpired}, at, false, gate.StatusExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pb, err := NewPassback(PassbackHard, window)
			if err != nil {
				t.Fatal(err)
			}
			pb.Admitted(pass("p-1"), at)
			if tt.exited {
				pb.Exited(pass("p-1"))
			}
			c := pb.Apply(tt.cred, tt.now)
			if c.Status != tt.want {
				t.Fatalf("%s at +%s: %s %v, want %s", tt.cred.ID, tt.now.Sub(at), c.Status, c.Reasons, tt.want)
			}
			if tt.want == StatusPassback && !strings.Contains(strings.Join(c.Reasons, ";"), "anti-passback (hard)") {
				t.Errorf("reasons %q do not say anti-passback (hard)", c.Reasons)
			}
		})
	}
}
