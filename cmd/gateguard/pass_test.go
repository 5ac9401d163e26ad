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

// passCLI runs `gateguard pass` in a folder with a key pair made by its
// keygen.
type passCLI struct {
	key, pub, png, list string
}

func newPassCLI(t *testing.T) *passCLI {
	t.Helper()
	dir := t.TempDir()
	c := &passCLI{key: filepath.Join(dir, "pass.key"), pub: filepath.Join(dir, "pass.pub"),
		png: filepath.Join(dir, "pass.png"), list: filepath.Join(dir, "revoked.txt")}
	if _, err := c.run("keygen", "-key", c.key, "-pub", c.pub); err != nil {
		t.Fatal(err)
	}
	return c
}

// run runs gateguard pass with args and returns what it printed.
func (c *passCLI) run(args ...string) (string, error) {
	var out bytes.Buffer
	err := cmdPass(context.Background(), args, &out)
	return out.String(), err
}

// issue issues a pass with args and returns its text.
func (c *passCLI) issue(t *testing.T, args ...string) string {
	t.Helper()
	text, err := c.run(append([]string{"issue", "-key", c.key}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(text)
}

// verify runs pass verify with args and returns its verdict, checking that
// it fails with errNotGreen exactly when the pass is not green.
func (c *passCLI) verify(t *testing.T, args ...string) gate.Credential {
	t.Helper()
	out, err := c.run(append([]string{"verify", "-pub", c.pub}, args...)...)
	var cr gate.Credential
	if jerr := json.Unmarshal([]byte(out), &cr); jerr != nil {
		t.Fatalf("verify output %q: %v (%v)", out, jerr, err)
	}
	if (cr.Status == gate.StatusGreen) != (err == nil) || (err != nil && !errors.Is(err, errNotGreen)) {
		t.Fatalf("status %s with error %v", cr.Status, err)
	}
	return cr
}

// TestPassCommands walks a pass's life through the CLI: key, issue with a
// PNG, verify from the picture through the gate's QR decoder, revoke,
// verify again.
func TestPassCommands(t *testing.T) {
	p := newPassCLI(t)
	if st, err := os.Stat(p.key); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", st.Mode(), err)
	}
	if _, err := p.run("keygen", "-key", p.key, "-pub", p.pub); err == nil {
		t.Fatal("keygen overwrote a key")
	}
	text := p.issue(t, "-holder", "visitor-7", "-id", "v-7", "-category", "visitor",
		"-gates", "lane-1,lane-2", "-valid", "4h", "-png", p.png)
	if !strings.HasPrefix(text, "GGP1:") {
		t.Fatalf("issued %q", text)
	}
	if c := p.verify(t, "-gate", "lane-2", "-png", p.png); c.Status != gate.StatusGreen || c.Holder != "visitor-7" || c.ID != "v-7" {
		t.Fatalf("from the PNG: %+v", c)
	}
	if c := p.verify(t, "-gate", "lane-3", text); c.Status != "gate_not_allowed" {
		t.Fatalf("other gate: %+v", c)
	}
	if out, err := p.run("revoke", "-list", p.list, "-id", "v-7", "-reason", "visit over"); err != nil || !strings.Contains(out, "revoked v-7") {
		t.Fatalf("revoke: %q %v", out, err)
	}
	if c := p.verify(t, "-gate", "lane-1", "-revoked", p.list, text); c.Status != gate.StatusRevoked {
		t.Fatalf("after revoke: %+v", c)
	}
	// Gate lists as people type them: spaces after the commas.
	spaced := p.issue(t, "-holder", "visitor-8", "-gates", "lane-1, lane-2", "-valid", "1h")
	if c := p.verify(t, "-gate", "lane-2", spaced); c.Status != gate.StatusGreen {
		t.Fatalf("-gates with a space: %+v", c)
	}
}

// TestPassCommandErrors: every misuse of gateguard pass is an error.
func TestPassCommandErrors(t *testing.T) {
	p := newPassCLI(t)
	key, pub, list := p.key, p.pub, p.list
	text := p.issue(t, "-holder", "visitor-7", "-valid", "4h")
	if _, err := p.run("revoke", "-list", list, "-id", "v-7"); err != nil {
		t.Fatal(err)
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
		if _, err := p.run(bad...); err == nil {
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
