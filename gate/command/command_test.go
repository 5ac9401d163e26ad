package command

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var (
	t0      = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	seed    = [32]byte{1, 2, 3}
	aliceSK = ed25519.NewKeyFromSeed(seed[:])
	malSK   = ed25519.NewKeyFromSeed(make([]byte, 32))
)

func body(name string) Body {
	return Body{ID: "req-1", Name: name, Site: "plant-1", Gate: "lane-1", Operator: "alice", Nonce: 10,
		Issued: t0, Expires: t0.Add(time.Minute)}
}

// newVerifier lists alice with allow (every command but override when none
// is given) and guard with open and get_state.
func newVerifier(t *testing.T, allow ...string) *Verifier {
	t.Helper()
	if len(allow) == 0 {
		allow = Names
	}
	v, err := NewVerifier(Options{Site: "plant-1", Gate: "lane-1", Nonces: &MemoryNonces{},
		Operators: []Operator{
			{ID: "alice", Key: aliceSK.Public().(ed25519.PublicKey), Allow: allow},
			{ID: "guard", Key: malSK.Public().(ed25519.PublicKey), Allow: []string{Open, GetState}},
		},
		Now: func() time.Time { return t0.Add(time.Second) }})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func sign(t *testing.T, b Body, k ed25519.PrivateKey) []byte {
	t.Helper()
	p, err := Sign(b, k)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVerifyAccepts(t *testing.T) {
	v := newVerifier(t)
	b := body(SetMode)
	b.Args.Mode = "locked"
	got, err := v.Verify(SetMode, false, sign(t, b, aliceSK))
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != "req-1" || got.Args.Mode != "locked" || got.Operator != "alice" {
		t.Errorf("body = %+v", got)
	}
}

// TestRejections covers every rejection reason.
func TestRejections(t *testing.T) {
	mut := func(name string, f func(*Body)) []byte {
		b := body(name)
		f(&b)
		p, err := Sign(b, aliceSK)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := mut(Open, func(*Body) {})
	var env map[string]any
	if err := json.Unmarshal(good, &env); err != nil {
		t.Fatal(err)
	}
	reenc := func(f func(map[string]any)) []byte {
		m := map[string]any{}
		for k, v := range env {
			m[k] = v
		}
		f(m)
		b, _ := json.Marshal(m)
		return b
	}
	tests := []struct {
		name     string
		topic    string
		retained bool
		payload  []byte
		want     Reason
		wantID   string
	}{
		{"retained", Open, true, good, ReasonRetained, "req-1"},
		{"oversized", Open, false, []byte(`{"v":1,"x":"` + strings.Repeat("a", 5000) + `"}`), ReasonOversized, ""},
		{"not json", Open, false, []byte(`open please`), ReasonMalformed, ""},
		{"unknown envelope field", Open, false, reenc(func(m map[string]any) { m["extra"] = 1 }), ReasonMalformed, ""},
		{"wrong version", Open, false, reenc(func(m map[string]any) { m["v"] = 2 }), ReasonMalformed, ""},
		{"trailing data", Open, false, append(append([]byte{}, good...), []byte(` {}`)...), ReasonMalformed, ""},
		{"body not an object", Open, false, []byte(`{"v":1,"body":"x","sig":""}`), ReasonMalformed, ""},
		{"bad id", Open, false, mut(Open, func(b *Body) { b.ID = "a b" }), ReasonMalformed, ""},
		{"no expiry", Open, false, mut(Open, func(b *Body) { b.Expires = time.Time{} }), ReasonMalformed, "req-1"},
		{"zero nonce", Open, false, mut(Open, func(b *Body) { b.Nonce = 0 }), ReasonMalformed, "req-1"},
		{"unsigned", Open, false, reenc(func(m map[string]any) { delete(m, "sig") }), ReasonUnsigned, "req-1"},
		{"sig not base64", Open, false, reenc(func(m map[string]any) { m["sig"] = "!!" }), ReasonBadSignature, "req-1"},
		{"signed by another key", Open, false, func() []byte {
			b := body(Open)
			p, _ := Sign(b, malSK) // claims to be alice
			return p
		}(), ReasonBadSignature, "req-1"},
		{"body altered after signing", Open, false, []byte(strings.Replace(string(good), `"nonce":10`, `"nonce":11`, 1)), ReasonBadSignature, "req-1"},
		{"unknown operator", Open, false, mut(Open, func(b *Body) { b.Operator = "mallory" }), ReasonUnknownOp, "req-1"},
		{"other gate", Open, false, mut(Open, func(b *Body) { b.Gate = "lane-2" }), ReasonWrongTarget, "req-1"},
		{"other site", Open, false, mut(Open, func(b *Body) { b.Site = "plant-2" }), ReasonWrongTarget, "req-1"},
		{"topic mismatch", Reload, false, good, ReasonWrongTarget, "req-1"},
		{"unknown command", "self_destruct", false, mut("self_destruct", func(*Body) {}), ReasonUnknownCommand, "req-1"},
		{"bad mode", SetMode, false, mut(SetMode, func(b *Body) { b.Args.Mode = "party" }), ReasonBadArgs, "req-1"},
		{"mode on open", Open, false, mut(Open, func(b *Body) { b.Args.Mode = "free" }), ReasonBadArgs, "req-1"},
		{"override on reload", Reload, false, mut(Reload, func(b *Body) { b.Args.Override = true }), ReasonBadArgs, "req-1"},
		{"override without permission", Open, false, mut(Open, func(b *Body) { b.Args.Override, b.Args.Reason = true, "clinic confirmed 36.9" }), ReasonNotPermitted, "req-1"},
		{"override without reason", Open, false, mut(Open, func(b *Body) { b.Args.Override = true }), ReasonBadArgs, "req-1"},
		{"override with a blank reason", Open, false, mut(Open, func(b *Body) { b.Args.Override, b.Args.Reason = true, "   " }), ReasonBadArgs, "req-1"},
		{"reason too long", Open, false, mut(Open, func(b *Body) { b.Args.Reason = strings.Repeat("因", MaxReason+1) }), ReasonBadArgs, "req-1"},
		{"reason with a newline", Open, false, mut(Open, func(b *Body) { b.Args.Reason = "ok\nFORGED LOG LINE" }), ReasonBadArgs, "req-1"},
		{"reason with a bidi override", Open, false, mut(Open, func(b *Body) { b.Args.Reason = "ok \u202edesrever" }), ReasonBadArgs, "req-1"},
		{"reason on reload", Reload, false, mut(Reload, func(b *Body) { b.Args.Reason = "why not" }), ReasonBadArgs, "req-1"},
		{"reason altered after signing", Open, false, []byte(strings.Replace(string(mut(Open, func(b *Body) { b.Args.Reason = "asked by the shift lead" })),
			"shift lead", "fire chief", 1)), ReasonBadSignature, "req-1"},
		{"expired", Open, false, mut(Open, func(b *Body) { b.Issued, b.Expires = t0.Add(-time.Hour), t0 }), ReasonExpired, "req-1"},
		{"issued in the future", Open, false, mut(Open, func(b *Body) {
			b.Issued, b.Expires = t0.Add(10*time.Minute), t0.Add(11*time.Minute)
		}), ReasonNotYetValid, "req-1"},
		{"nonce beyond issued plus skew", Open, false, mut(Open, func(b *Body) { b.Nonce = math.MaxUint64 }), ReasonNonceTooFar, "req-1"},
		{"expires too far", Open, false, mut(Open, func(b *Body) { b.Expires = t0.Add(time.Hour) }), ReasonTooLong, "req-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVerifier(t)
			_, err := v.Verify(tt.topic, tt.retained, tt.payload)
			var rej *Rejection
			if !errors.As(err, &rej) {
				t.Fatalf("err = %v, want a rejection %s", err, tt.want)
			}
			if rej.Reason != tt.want {
				t.Fatalf("reason = %s (%s), want %s", rej.Reason, rej.Detail, tt.want)
			}
			r := Rejected(tt.topic, "plant-1", "lane-1", t0, err)
			if r.ID != tt.wantID || r.Reason != string(tt.want) || r.Status != StatusRejected || r.Detail == "" {
				t.Errorf("result = %+v", r)
			}
		})
	}
}

func TestNotPermittedCommand(t *testing.T) {
	v := newVerifier(t)
	b := body(Reload)
	b.Operator = "guard"
	_, err := v.Verify(Reload, false, sign(t, b, malSK))
	var rej *Rejection
	if !errors.As(err, &rej) || rej.Reason != ReasonNotPermitted {
		t.Fatalf("err = %v", err)
	}
	b = body(Open)
	b.Operator = "guard"
	if _, err := v.Verify(Open, false, sign(t, b, malSK)); err != nil {
		t.Fatalf("guard may open: %v", err)
	}
}

// TestEmptyAllowPermitsNothing: a key may use only what its allow lists;
// an empty list allows nothing (it used to allow every command but
// override). The config refuses an empty list too; this is the second line.
func TestEmptyAllowPermitsNothing(t *testing.T) {
	for _, tc := range []struct {
		name  string
		allow []string
		perm  string
		want  bool
	}{
		{"empty: open", nil, Open, false},
		{"empty: set_mode", nil, SetMode, false},
		{"empty: reload", nil, Reload, false},
		{"empty: get_state", nil, GetState, false},
		{"empty: override", []string{}, PermOverride, false},
		{"listed", []string{GetState}, GetState, true},
		{"not listed", []string{GetState}, Open, false},
	} {
		if got := (Operator{ID: "x", Allow: tc.allow}).May(tc.perm); got != tc.want {
			t.Errorf("%s: May(%q) = %v, want %v", tc.name, tc.perm, got, tc.want)
		}
	}
	v, err := NewVerifier(Options{Site: "plant-1", Gate: "lane-1", Nonces: &MemoryNonces{},
		Operators: []Operator{{ID: "alice", Key: aliceSK.Public().(ed25519.PublicKey)}},
		Now:       func() time.Time { return t0.Add(time.Second) }})
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(Open, false, sign(t, body(Open), aliceSK))
	var rej *Rejection
	if !errors.As(err, &rej) || rej.Reason != ReasonNotPermitted {
		t.Fatalf("open from a key with no allow: err = %v, want not_permitted", err)
	}
}

func TestOverridePermission(t *testing.T) {
	v := newVerifier(t, Open, PermOverride)
	b := body(Open)
	b.Args.Override, b.Args.Reason = true, "clinic rechecked: 36.9 °C"
	got, err := v.Verify(Open, false, sign(t, b, aliceSK))
	if err != nil {
		t.Fatal(err)
	}
	if got.Args.Reason != "clinic rechecked: 36.9 °C" {
		t.Errorf("the verified body's reason is %q", got.Args.Reason)
	}
	b = body(SetMode)
	b.Nonce = 11
	b.Args.Mode = "locked"
	if _, err := v.Verify(SetMode, false, sign(t, b, aliceSK)); err == nil {
		t.Fatal("set_mode accepted from a key allowed only open and override")
	}
}

// TestReplay: the same command twice, a lower nonce, and a replay after a
// "restart" (a new verifier on the same nonce file) are rejected.
func TestReplay(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nonces.json")
	open := func() *Verifier {
		ns, err := OpenFileNonces(path)
		if err != nil {
			t.Fatal(err)
		}
		v, err := NewVerifier(Options{Site: "plant-1", Gate: "lane-1", Nonces: ns,
			Operators: []Operator{{ID: "alice", Key: aliceSK.Public().(ed25519.PublicKey), Allow: Names}},
			Now:       func() time.Time { return t0 }})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	v := open()
	p10 := sign(t, body(Open), aliceSK)
	if _, err := v.Verify(Open, false, p10); err != nil {
		t.Fatal(err)
	}
	wantReplay := func(v *Verifier, p []byte) {
		t.Helper()
		_, err := v.Verify(Open, false, p)
		var rej *Rejection
		if !errors.As(err, &rej) || rej.Reason != ReasonReplayed {
			t.Fatalf("err = %v, want replayed", err)
		}
	}
	wantReplay(v, p10)
	b := body(Open)
	b.Nonce = 9
	wantReplay(v, sign(t, b, aliceSK))
	v = open() // a restart
	wantReplay(v, p10)
	b.Nonce = 11
	if _, err := v.Verify(Open, false, sign(t, b, aliceSK)); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != `{"v":1,"nonces":{"alice":11}}` {
		t.Errorf("nonce file = %s", data)
	}
	if tmps, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*tmp*")); len(tmps) != 0 {
		t.Errorf("temporary files left behind: %v", tmps)
	}
}

// TestNonceStoreFailure: when the nonce cannot be persisted the command is
// rejected, and the in-memory state is unchanged.
func TestNonceStoreFailure(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "gone")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	ns, err := OpenFileNonces(filepath.Join(dir, "n.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(Options{Site: "plant-1", Gate: "lane-1", Nonces: ns,
		Operators: []Operator{{ID: "alice", Key: aliceSK.Public().(ed25519.PublicKey), Allow: Names}},
		Now:       func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(Open, false, sign(t, body(Open), aliceSK))
	var rej *Rejection
	if !errors.As(err, &rej) || rej.Reason != ReasonNonceStore {
		t.Fatalf("err = %v, want nonce_store_failed", err)
	}
	if n, _ := ns.Last("alice"); n != 0 {
		t.Errorf("last = %d after a failed commit", n)
	}
}

func TestOpenFileNoncesRejectsCorruptFile(t *testing.T) {
	for _, content := range []string{`{"v":1,"nonces":{"alice":`, `{"v":2,"nonces":{}}`, `{"v":1,"nonces":{"a":-1}}`} {
		path := filepath.Join(t.TempDir(), "n.json")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := OpenFileNonces(path); err == nil {
			t.Errorf("%s: accepted", content)
		}
	}
}

func TestSetOperatorsRejectsDuplicatesAndBadKeys(t *testing.T) {
	v := newVerifier(t)
	pk := aliceSK.Public().(ed25519.PublicKey)
	if err := v.SetOperators([]Operator{{ID: "a", Key: pk}, {ID: "a", Key: pk}}); err == nil {
		t.Error("duplicate operator accepted")
	}
	if err := v.SetOperators([]Operator{{ID: "a", Key: pk[:5]}}); err == nil {
		t.Error("short key accepted")
	}
}

func TestPublicKeyText(t *testing.T) {
	pk := aliceSK.Public().(ed25519.PublicKey)
	s := FormatPublicKey(pk)
	for _, in := range []string{s, strings.TrimPrefix(s, "ed25519:")} {
		got, err := ParsePublicKey(in)
		if err != nil || !got.Equal(pk) {
			t.Errorf("ParsePublicKey(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "ed25519:!!", base64.StdEncoding.EncodeToString([]byte("short"))} {
		if _, err := ParsePublicKey(bad); err == nil {
			t.Errorf("ParsePublicKey(%q) accepted", bad)
		}
	}
}

func TestParseResult(t *testing.T) {
	r := Rejected(Open, "s", "g", t0, errors.New("x"))
	b, _ := json.Marshal(r)
	got, err := ParseResult(b)
	if err != nil || got.Status != StatusRejected || got.Reason != string(ReasonMalformed) {
		t.Fatalf("ParseResult = %+v, %v", got, err)
	}
	for _, bad := range []string{`{}`, `{"v":1,"status":"maybe"}`, `{"v":1,"status":"ok","x":1}`, `[`} {
		if _, err := ParseResult([]byte(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// TestNonceBound: the nonce may be at most issued in microseconds plus the
// skew (1 min); one beyond is rejected with a reason, commits nothing, and
// so cannot lock the operator out: the next ordinary command is accepted.
func TestNonceBound(t *testing.T) {
	v := newVerifier(t)
	limit := uint64(t0.UnixMicro()) + uint64(time.Minute.Microseconds())
	for _, tt := range []struct {
		name  string
		nonce uint64
		want  Reason // "" accepted
	}{
		{"2^64-1", math.MaxUint64, ReasonNonceTooFar},
		{"one past the limit", limit + 1, ReasonNonceTooFar},
		{"the issue time", uint64(t0.UnixMicro()), ""},
		{"the limit", limit, ""},
	} {
		b := body(Open)
		b.Nonce = tt.nonce
		_, err := v.Verify(Open, false, sign(t, b, aliceSK))
		var rej *Rejection
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (!errors.As(err, &rej) || rej.Reason != tt.want):
			t.Errorf("%s: err = %v, want %s", tt.name, err, tt.want)
		case tt.want != "" && !strings.Contains(rej.Detail, "microseconds"):
			t.Errorf("%s: detail %q does not say what the bound is", tt.name, rej.Detail)
		}
	}
	// Issued before 1970 (a negative bound): rejected, not wrapped around.
	b := body(Open)
	b.Issued, b.Nonce = time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC), limit+5
	if _, err := v.Verify(Open, false, sign(t, b, aliceSK)); err == nil {
		t.Error("a nonce with an issue time before 1970 accepted")
	}
}

// TestResetLockedOutOperator follows docs/mqtt.md's procedure for an
// operator locked out by a nonce file written before the bound existed
// (2^64-1 stored): with the gate stopped, delete the operator's entry from
// the nonce file (what `jq 'del(.nonces["alice"])'` does) and start it again.
// The operator's commands are accepted again; the other operators' nonces
// are kept.
func TestResetLockedOutOperator(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nonces.json")
	if err := os.WriteFile(path, []byte(`{"v":1,"nonces":{"alice":18446744073709551615,"guard":42}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	start := func() (*Verifier, *FileNonces) {
		ns, err := OpenFileNonces(path)
		if err != nil {
			t.Fatal(err)
		}
		v, err := NewVerifier(Options{Site: "plant-1", Gate: "lane-1", Nonces: ns,
			Operators: []Operator{{ID: "alice", Key: aliceSK.Public().(ed25519.PublicKey), Allow: []string{Open}}},
			Now:       func() time.Time { return t0 }})
		if err != nil {
			t.Fatal(err)
		}
		return v, ns
	}
	v, _ := start()
	_, err := v.Verify(Open, false, sign(t, body(Open), aliceSK))
	var rej *Rejection
	if !errors.As(err, &rej) || rej.Reason != ReasonReplayed {
		t.Fatalf("locked-out operator: err = %v, want replayed", err)
	}
	// The gate is stopped; the admin edits the file.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]json.RawMessage
	var nonces map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(doc["nonces"], &nonces); err != nil {
		t.Fatal(err)
	}
	delete(nonces, "alice")
	if doc["nonces"], err = json.Marshal(nonces); err != nil {
		t.Fatal(err)
	}
	if data, err = json.Marshal(doc); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	v, ns := start()
	if _, err := v.Verify(Open, false, sign(t, body(Open), aliceSK)); err != nil {
		t.Fatalf("after the reset: %v", err)
	}
	if n, _ := ns.Last("guard"); n != 42 {
		t.Errorf("guard's nonce = %d after the reset, want 42 kept", n)
	}
}

// TestDuplicateAndCaseFoldedKeys: Go's decoder keeps the last of duplicate
// keys and matches keys case-insensitively, so a signed body could read
// differently to a reviewer and to the gate. Both are malformed, with the
// reason and the id on the result, even when correctly signed.
func TestDuplicateAndCaseFoldedKeys(t *testing.T) {
	const base = `"id":"req-1","name":"set_mode","site":"plant-1","gate":"lane-1","operator":"alice","nonce":10,` +
		`"issued":"2026-11-27T12:00:00Z","expires":"2026-11-27T12:01:00Z"`
	for _, tt := range []struct {
		name, body, env, want string
	}{
		{"duplicate args key", `{` + base + `,"args":{"mode":"locked","mode":"free"}}`, "", `"mode" appears twice`},
		{"duplicate body key", `{` + base + `,"nonce":11,"args":{"mode":"locked"}}`, "", `"nonce" appears twice`},
		{"args key in another case", `{` + base + `,"args":{"Mode":"free"}}`, "", `"Mode" must be spelled "mode"`},
		{"body key in another case", `{` + strings.Replace(base, `"gate"`, `"GATE"`, 1) + `,"args":{"mode":"free"}}`, "", `"GATE" must be spelled "gate"`},
		{"envelope key in another case", `{` + base + `,"args":{"mode":"free"}}`, "V", `"V" must be spelled "v"`},
		{"duplicate envelope key", `{` + base + `,"args":{"mode":"free"}}`, "v2", `"v" appears twice`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sig := base64.StdEncoding.EncodeToString(ed25519.Sign(aliceSK, []byte("gateguard/v1 command\n"+tt.body)))
			var payload string
			switch tt.env {
			case "V":
				payload = `{"V":1,"body":` + tt.body + `,"sig":"` + sig + `"}`
			case "v2":
				payload = `{"v":1,"v":1,"body":` + tt.body + `,"sig":"` + sig + `"}`
			default:
				payload = `{"v":1,"body":` + tt.body + `,"sig":"` + sig + `"}`
			}
			_, err := newVerifier(t).Verify(SetMode, false, []byte(payload))
			var rej *Rejection
			if !errors.As(err, &rej) || rej.Reason != ReasonMalformed || !strings.Contains(rej.Detail, tt.want) {
				t.Fatalf("err = %v, want malformed: ...%s", err, tt.want)
			}
			if r := Rejected(SetMode, "plant-1", "lane-1", t0, err); r.Reason != string(ReasonMalformed) || r.ID != "req-1" || !strings.Contains(r.Detail, tt.want) {
				t.Errorf("result %+v", r)
			}
		})
	}
	// The same body with each key once, exactly spelled, is accepted: the
	// rejections above are for the keys alone.
	body := `{` + base + `,"args":{"mode":"free"}}`
	sig := base64.StdEncoding.EncodeToString(ed25519.Sign(aliceSK, []byte("gateguard/v1 command\n"+body)))
	if _, err := newVerifier(t).Verify(SetMode, false, []byte(`{"v":1,"body":`+body+`,"sig":"`+sig+`"}`)); err != nil {
		t.Fatalf("well-formed hand-built command: %v", err)
	}
}

// TestCheckReason: what args.reason may hold, and errors that name it.
func TestCheckReason(t *testing.T) {
	tests := []struct {
		name, reason, wantErr string
	}{
		{"empty", "", ""},
		{"plain", "fire brigade on site: lanes held by order of the chief", ""},
		{"Chinese, at the limit", strings.Repeat("复", MaxReason), ""},
		{"one over the limit", strings.Repeat("a", MaxReason+1), "args.reason is 201 characters, at most 200"},
		{"tab", "a\tb", "args.reason holds a control character (U+0009) at character 2"},
		{"DEL", "a\x7f", "U+007F"},
		{"C1", "a\u0085", "U+0085"},
		{"bidi isolate", "\u2066x", "U+2066"},
		{"not UTF-8", "a\xff", "args.reason is not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckReason(tt.reason)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckReason: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("CheckReason = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}
