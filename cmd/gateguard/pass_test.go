package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gateguard/gateguard/gate"
)

// TestPassCommands walks a pass's life through the CLI: key, issue with a
// PNG, verify from the picture through the gate's QR decoder, revoke,
// verify again.
func TestPassCommands(t *testing.T) {
	dir := t.TempDir()
	key, pub, png, list := filepath.Join(dir, "pass.key"), filepath.Join(dir, "pass.pub"),
		filepath.Join(dir, "pass.png"), filepath.Join(dir, "revoked.txt")
	ctx := context.Background()
	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := cmdPass(ctx, args, &out)
		return out.String(), err
	}
	if _, err := run("keygen", "-key", key, "-pub", pub); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(key); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", st.Mode(), err)
	}
	if _, err := run("keygen", "-key", key, "-pub", pub); err == nil {
		t.Fatal("keygen overwrote a key")
	}
	text, err := run("issue", "-key", key, "-holder", "visitor-7", "-id", "v-7", "-category", "visitor",
		"-gates", "lane-1,lane-2", "-valid", "4h", "-png", png)
	if err != nil {
		t.Fatal(err)
	}
	text = strings.TrimSpace(text)
	if !strings.HasPrefix(text, "GGP1:") {
		t.Fatalf("issued %q", text)
	}
	verify := func(args ...string) gate.Credential {
		t.Helper()
		out, err := run(append([]string{"verify", "-pub", pub}, args...)...)
		var c gate.Credential
		if jerr := json.Unmarshal([]byte(out), &c); jerr != nil {
			t.Fatalf("verify output %q: %v (%v)", out, jerr, err)
		}
		if (c.Status == gate.StatusGreen) != (err == nil) || (err != nil && !errors.Is(err, errNotGreen)) {
			t.Fatalf("status %s with error %v", c.Status, err)
		}
		return c
	}
	if c := verify("-gate", "lane-2", "-png", png); c.Status != gate.StatusGreen || c.Holder != "visitor-7" || c.ID != "v-7" {
		t.Fatalf("from the PNG: %+v", c)
	}
	if c := verify("-gate", "lane-3", text); c.Status != "gate_not_allowed" {
		t.Fatalf("other gate: %+v", c)
	}
	if out, err := run("revoke", "-list", list, "-id", "v-7", "-reason", "visit over"); err != nil || !strings.Contains(out, "revoked v-7") {
		t.Fatalf("revoke: %q %v", out, err)
	}
	if c := verify("-gate", "lane-1", "-revoked", list, text); c.Status != gate.StatusRevoked {
		t.Fatalf("after revoke: %+v", c)
	}
	// Gate lists as people type them: spaces after the commas.
	spaced, err := run("issue", "-key", key, "-holder", "visitor-8", "-gates", "lane-1, lane-2", "-valid", "1h")
	if err != nil {
		t.Fatal(err)
	}
	if c := verify("-gate", "lane-2", strings.TrimSpace(spaced)); c.Status != gate.StatusGreen {
		t.Fatalf("-gates with a space: %+v", c)
	}
	for _, bad := range [][]string{
		{"issue", "-key", key, "-holder", "x", "-valid", "1h", "-gates", " , "},      // no gate
		{"issue", "-key", key, "-holder", "x"},                                       // no validity
		{"issue", "-key", key, "-valid", "1h"},                                       // no holder
		{"verify", "-pub", pub},                                                      // nothing to verify
		{"verify", "-pub", pub, "-gate", "lane-1", "-revoked", list + ".typo", text}, // no such list
		{"revoke", "-list", list},                                                    // no id
		{"frobnicate"},                                                               // unknown
		{"issue", "-key", pub, "-holder", "x", "-valid", "1h"},                       // not a private key
		{"issue", "-key", key, "-holder", "x", "-until", "someday"},                  // bad time
	} {
		if _, err := run(bad...); err == nil {
			t.Errorf("pass %v: no error", bad)
		}
	}
}

// TestPassKeygenNeverOverwrites: a key file that appears between keygen's
// existence check and its write (another keygen, a restore) is kept, and
// keygen fails; no half pair is left behind.
func TestPassKeygenNeverOverwrites(t *testing.T) {
	theirs := []byte("someone else's key\n")
	for _, which := range []string{"key", "pub"} {
		t.Run(which+" created in the window", func(t *testing.T) {
			dir := t.TempDir()
			paths := map[string]string{"key": filepath.Join(dir, "pass.key"), "pub": filepath.Join(dir, "pass.pub")}
			keygenBeforeWrite = func() { mustWrite(t, paths[which], theirs) }
			t.Cleanup(func() { keygenBeforeWrite = func() {} })
			err := cmdPass(context.Background(), []string{"keygen", "-key", paths["key"], "-pub", paths["pub"]}, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), "exists") {
				t.Fatalf("keygen: err = %v, want an 'exists' error", err)
			}
			if b, err := os.ReadFile(paths[which]); err != nil || !bytes.Equal(b, theirs) {
				t.Fatalf("%s: %q, %v; want the other file kept", which, b, err)
			}
			ents, _ := os.ReadDir(dir)
			if len(ents) != 1 {
				t.Errorf("files left: %v, want only the other %s", ents, which)
			}
		})
	}
}
