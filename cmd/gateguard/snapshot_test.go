package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gateguard/gateguard/gate/outbox"
)

// TestSnapshotCommand stores a snapshot in a durable outbox as the daemon
// does, then lists and extracts it with `gateguard snapshot`.
func TestSnapshotCommand(t *testing.T) {
	dir := t.TempDir()
	obPath := filepath.Join(dir, "outbox.db")
	cfgPath := filepath.Join(dir, "gate.yaml")
	cfg := "site: s\ngate: g\ncredentials: {mode: presence}\noutbox: {path: " + obPath + "}\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	png := []byte("\x89PNG\r\n\x1a\n fake picture")
	sum := sha256.Sum256(png)
	hash := hex.EncodeToString(sum[:])
	ob, err := outbox.Open(obPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ob.PutSnapshot(hash, png); err != nil {
		t.Fatal(err)
	}
	// While the daemon holds the outbox, the command says so.
	if err := cmdSnapshot([]string{"list", "-c", cfgPath}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "locked") {
		t.Errorf("list while the outbox is open = %v, want a lock error", err)
	}
	_ = ob.Close()

	var out bytes.Buffer
	if err := cmdSnapshot([]string{"list", "-c", cfgPath}, &out); err != nil {
		t.Fatal(err)
	}
	if want := hash + " 21\n"; out.String() != want {
		t.Errorf("list printed %q, want %q", out.String(), want)
	}
	out.Reset()
	if err := cmdSnapshot([]string{"get", "-c", cfgPath, hash}, &out); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), png) {
		t.Errorf("get wrote %q", out.Bytes())
	}
	if err := cmdSnapshot([]string{"get", "-c", cfgPath, "00"}, &out); err == nil || !strings.Contains(err.Error(), "not in") {
		t.Errorf("get of an unknown hash = %v", err)
	}
	var u usageError
	if err := cmdSnapshot([]string{"get", "-c", cfgPath}, &out); !errors.As(err, &u) {
		t.Errorf("get without a hash = %v, want a usage error", err)
	}
}
