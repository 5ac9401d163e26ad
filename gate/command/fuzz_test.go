package command

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// handSigned builds a signed command without this package's encoder: the
// body bytes as given, the signature over "gateguard/v1 command\n" + body
// by crypto/ed25519 directly, and the envelope by hand. A bug shared by
// Sign and Verify (a wrong context, a re-encoded body) cannot hide here.
func handSigned(key ed25519.PrivateKey, body string) []byte {
	sig := ed25519.Sign(key, []byte("gateguard/v1 command\n"+body))
	return []byte(`{"v":1,"body":` + body + `,"sig":"` + base64.StdEncoding.EncodeToString(sig) + `"}`)
}

const handOpen = `{"id":"req-1","name":"open","site":"plant-1","gate":"lane-1","operator":"alice","nonce":10,` +
	`"issued":"2026-11-27T12:00:00Z","expires":"2026-11-27T12:01:00Z","args":{}}`

const handSetMode = `{"id":"req-2","name":"set_mode","site":"plant-1","gate":"lane-1","operator":"alice","nonce":11,` +
	`"issued":"2026-11-27T12:00:00Z","expires":"2026-11-27T12:01:00Z","args":{"mode":"free","override":true,"reason":"fire brigade on site: lane held open by order of the chief"}}`

// TestHandSignedAccepted: commands signed by hand, independently of Sign,
// verify; so the fuzzer's seeds are valid commands.
func TestHandSignedAccepted(t *testing.T) {
	v := newVerifier(t, Open, SetMode, PermOverride)
	// In nonce order (10, then 11).
	for _, c := range []struct {
		topic   string
		payload []byte
	}{{Open, handSigned(aliceSK, handOpen)}, {SetMode, handSigned(aliceSK, handSetMode)}} {
		if _, err := v.Verify(c.topic, false, c.payload); err != nil {
			t.Errorf("%s: %v", c.topic, err)
		}
	}
}

// FuzzVerify feeds arbitrary payloads to the whole verification path: it
// must never panic, and anything it accepts must be a well-formed body that
// alice's key really signed, checked with an independent decoding and
// crypto/ed25519 directly.
func FuzzVerify(f *testing.F) {
	f.Add(handSigned(aliceSK, handOpen), Open, false)
	f.Add(handSigned(aliceSK, handSetMode), SetMode, false)
	f.Add(handSigned(aliceSK, strings.Replace(handSetMode, `"mode":"free"`, `"mode":"free","mode":"locked"`, 1)), SetMode, false)
	f.Add(handSigned(malSK, handOpen), Open, false)
	f.Add(handSigned(aliceSK, strings.Replace(handSetMode, `"reason":"fire`, `"reason":"\nfire`, 1)), SetMode, false)
	f.Add(handSigned(aliceSK, strings.Replace(handSetMode, `,"reason":"fire brigade on site: lane held open by order of the chief"`, ``, 1)), SetMode, false)
	f.Add([]byte(`{"v":1,"body":{},"sig":""}`), Open, false)
	f.Add([]byte(`{"v":1,"body":{"id":"x","nonce":1e99},"sig":"AA=="}`), Open, true)
	f.Add([]byte(`null`), Reload, false)
	pub := aliceSK.Public().(ed25519.PublicKey)
	f.Fuzz(func(t *testing.T, payload []byte, topic string, retained bool) {
		v, err := NewVerifier(Options{Site: "plant-1", Gate: "lane-1", Nonces: &MemoryNonces{},
			Operators: []Operator{{ID: "alice", Key: pub, Allow: []string{Open, SetMode, PermOverride}}},
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
		// Independently of Parse: the raw body bytes and the signature.
		var env struct {
			Body json.RawMessage `json:"body"`
			Sig  string          `json:"sig"`
		}
		if err := json.Unmarshal(payload, &env); err != nil {
			t.Fatalf("accepted a payload that is not JSON: %q", payload)
		}
		sig, err := base64.StdEncoding.DecodeString(env.Sig)
		if err != nil || !ed25519.Verify(pub, append([]byte("gateguard/v1 command\n"), env.Body...), sig) {
			t.Fatalf("accepted a payload whose signature does not verify: %q", payload)
		}
		// The reason the gate records is one line of at most MaxReason
		// characters, and an override always has one.
		if err := CheckReason(got.Args.Reason); err != nil || (got.Args.Override && strings.TrimSpace(got.Args.Reason) == "") {
			t.Fatalf("accepted args.reason %q (override %v): %v", got.Args.Reason, got.Args.Override, err)
		}
		// A key given twice reads differently to different decoders:
		// never accepted.
		if n := strings.Count(string(env.Body), `"mode"`); n > 1 {
			t.Fatalf("accepted a body naming mode %d times: %s", n, env.Body)
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

// FuzzNonceFile: parsing a nonce file never panics; a file that parses is a
// version-1 JSON document whose state round-trips through a commit and a
// re-parse identically; a file that does not parse is an error naming the
// file and is left exactly as it was (never an empty store that would
// accept replays, never rewritten).
func FuzzNonceFile(f *testing.F) {
	f.Add([]byte(`{"v":1,"nonces":{"alice":11}}`))
	f.Add([]byte(`{"v":1,"nonces":null}`))
	f.Add([]byte(`{"v":1,"nonces":{"alice":1,"alice":18446744073709551615}}`))
	f.Add([]byte(`{"v":1,"nonces":{"a":1,"b":0}} `))
	f.Add([]byte(`{"v":1,"nonces":{"alice":18446744073709551616}}`))
	f.Add([]byte(`{"v":2,"nonces":{}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "n.json")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		ns, err := OpenFileNonces(path)
		if err != nil {
			if !strings.Contains(err.Error(), path) && !strings.Contains(err.Error(), "nonce file") {
				t.Errorf("error does not name the nonce file: %v", err)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(after, data) {
				t.Fatalf("a rejected nonce file was changed")
			}
			return
		}
		if !json.Valid(data) {
			t.Fatalf("accepted a file that is not JSON: %q", data)
		}
		parsed := maps.Clone(ns.last)
		// What an independent decode reads from the same bytes.
		var indep struct {
			V      int               `json:"v"`
			Nonces map[string]uint64 `json:"nonces"`
		}
		if err := json.Unmarshal(data, &indep); err != nil || indep.V != 1 {
			t.Fatalf("accepted %q: decodes as %+v, %v; want version 1", data, indep, err)
		}
		if !maps.Equal(parsed, indep.Nonces) && len(parsed)+len(indep.Nonces) > 0 {
			t.Fatalf("parsed %v from %q, want %v", parsed, data, indep.Nonces)
		}
		// Commit one operator's own nonce again (or a new operator's):
		// the file is rewritten, and parses back to the same state.
		op, n := "fuzz-new", uint64(1)
		for k, v := range parsed {
			op, n = k, v
			break
		}
		if err := ns.Commit(op, n); err != nil {
			t.Fatal(err)
		}
		want := maps.Clone(parsed)
		want[op] = n
		again, err := OpenFileNonces(path)
		if err != nil {
			t.Fatalf("the rewritten file does not parse: %v", err)
		}
		if !maps.Equal(again.last, want) || !maps.Equal(ns.last, want) {
			t.Fatalf("round trip: parsed %v, after commit %v, re-parsed %v", parsed, ns.last, again.last)
		}
		for k, v := range want {
			if got, _ := again.Last(k); got != v {
				t.Fatalf("Last(%q) = %d after the round trip, want %d", k, got, v)
			}
		}
	})
}
