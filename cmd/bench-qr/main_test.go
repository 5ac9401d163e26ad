package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestExpand: a folder with samples is kept; one without is replaced by
// its subfolders that have samples, in numeric order; one with neither is
// an error naming it.
func TestExpand(t *testing.T) {
	root := t.TempDir()
	write := func(rel string) {
		t.Helper()
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("flat/1.png")
	write("flat/1.txt")
	for _, d := range []string{"set/qrcode-10", "set/qrcode-2"} {
		write(d + "/1.jpg")
		write(d + "/1.txt")
	}
	write("set/notes/readme.md")
	write("empty/readme.md")
	j := func(p string) string { return filepath.Join(root, p) }
	got, err := expand([]string{j("flat"), j("set")})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{j("flat"), j("set/qrcode-2"), j("set/qrcode-10")}; !slices.Equal(got, want) {
		t.Errorf("expand: %q, want %q", got, want)
	}
	if _, err := expand([]string{j("empty")}); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("a folder without samples: err %v, want one naming it", err)
	}
}
