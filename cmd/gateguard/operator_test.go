package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gateguard/gateguard/gate/command"
)

// TestKeygenPubIsReplacedAtomically: FILE.pub is written to a temporary
// file and renamed into place, so a symlink (or any file) already at
// FILE.pub is replaced, never written through, and no temporary file is left.
func TestKeygenPubIsReplacedAtomically(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "desk.key")
	victim := filepath.Join(dir, "victim.txt")
	if err := os.WriteFile(victim, []byte("keep me\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, key+".pub"); err != nil {
		t.Fatal(err)
	}
	if err := cmdKeygen([]string{"-o", key}, io.Discard); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep me\n" {
		t.Errorf("keygen wrote through the symlink at FILE.pub: victim now %q", b)
	}
	st, err := os.Lstat(key + ".pub")
	if err != nil || !st.Mode().IsRegular() || st.Mode().Perm() != 0o644 {
		t.Fatalf("FILE.pub: %v, %v; want a regular file, mode 0644", st.Mode(), err)
	}
	text, _ := os.ReadFile(key + ".pub")
	pub, err := command.ParsePublicKey(strings.TrimSpace(string(text)))
	if err != nil {
		t.Fatal(err)
	}
	priv, err := readPrivateKey(key)
	if err != nil || !pub.Equal(priv.Public()) {
		t.Errorf("FILE.pub does not match the private key (%v)", err)
	}
	if tmps, _ := filepath.Glob(filepath.Join(dir, ".*tmp*")); len(tmps) != 0 {
		t.Errorf("temporary files left: %v", tmps)
	}
}

// TestKeygenPubFailureLeavesNoKey: when FILE.pub cannot be written, keygen
// fails and removes the private key it made (never a key without its public
// half), leaving no temporary file; an existing private key is never
// overwritten, and its FILE.pub is left alone.
func TestKeygenPubFailureLeavesNoKey(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "desk.key")
	if err := os.Mkdir(key+".pub", 0o755); err != nil { // cannot be replaced by a file
		t.Fatal(err)
	}
	if err := cmdKeygen([]string{"-o", key}, io.Discard); err == nil {
		t.Fatal("keygen succeeded with FILE.pub a folder")
	}
	if _, err := os.Stat(key); !os.IsNotExist(err) {
		t.Errorf("private key left behind after FILE.pub failed: %v", err)
	}
	if tmps, _ := filepath.Glob(filepath.Join(dir, ".*tmp*")); len(tmps) != 0 {
		t.Errorf("temporary files left: %v", tmps)
	}

	other := filepath.Join(dir, "other.key")
	if err := os.WriteFile(other, []byte("existing key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(other+".pub", []byte("existing pub\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := cmdKeygen([]string{"-o", other}, io.Discard); err == nil {
		t.Fatal("keygen overwrote an existing key")
	}
	for p, want := range map[string]string{other: "existing key\n", other + ".pub": "existing pub\n"} {
		if b, _ := os.ReadFile(p); string(b) != want {
			t.Errorf("%s changed to %q", p, b)
		}
	}
}
