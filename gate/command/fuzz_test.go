package command

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzVerify feeds arbitrary payloads to the whole verification path: it
// must never panic, and anything it accepts must be a well-formed body that
// a listed key really signed.
func FuzzVerify(f *testing.F) {
	good, _ := Sign(body(Open), aliceSK)
	b := body(SetMode)
	b.Args.Mode = "free"
	mode, _ := Sign(b, aliceSK)
	f.Add(good, Open, false)
	f.Add(mode, SetMode, false)
	f.Add([]byte(`{"v":1,"body":{},"sig":""}`), Open, false)
	f.Add([]byte(`{"v":1,"body":{"id":"x","nonce":1e99},"sig":"AA=="}`), Open, true)
	f.Add([]byte(`null`), Reload, false)
	f.Fuzz(func(t *testing.T, payload []byte, topic string, retained bool) {
		v, err := NewVerifier(Options{Site: "plant-1", Gate: "lane-1", Nonces: &MemoryNonces{},
			Operators: []Operator{{ID: "alice", Key: aliceSK.Public().(ed25519.PublicKey), Allow: []string{Open, SetMode, PermOverride}}},
			Now:       func() time.Time { return t0.Add(time.Second) }})
		if err != nil {
			t.Fatal(err)
		}
		got, err := v.Verify(topic, retained, payload)
		if err != nil {
			var rej *Rejection
			if !errors.As(err, &rej) || rej.Reason == "" {
				t.Fatalf("error is not a rejection with a reason: %v", err)
			}
			_ = Rejected(topic, "plant-1", "lane-1", t0, err)
			return
		}
		if retained || got.Name != topic || got.Operator != "alice" || !idPattern.MatchString(got.ID) {
			t.Fatalf("accepted %q on %q (retained %v): %+v", payload, topic, retained, got)
		}
		env, _, err := Parse(payload)
		if err != nil || !ed25519.Verify(aliceSK.Public().(ed25519.PublicKey), signed(env.Body), mustSig(env.Sig)) {
			t.Fatalf("accepted a payload whose signature does not verify: %q", payload)
		}
	})
}

// FuzzParseResult: the result decoder never panics.
func FuzzParseResult(f *testing.F) {
	f.Add([]byte(`{"v":1,"id":"r","name":"open","site":"s","gate":"g","time":"2026-11-27T12:00:00Z","status":"ok"}`))
	f.Add([]byte(`{"v":1,"status":"ok","state":{"v":1}}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		r, err := ParseResult(payload)
		if err == nil && r.V != Version {
			t.Fatalf("accepted version %d", r.V)
		}
	})
}

// FuzzNonceFile: a corrupt nonce file is an error, never a panic or an
// empty store that would accept replays.
func FuzzNonceFile(f *testing.F) {
	f.Add([]byte(`{"v":1,"nonces":{"alice":11}}`))
	f.Add([]byte(`{"v":1,"nonces":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "n.json")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		_, _ = OpenFileNonces(path)
	})
}

func mustSig(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil
	}
	return b
}
