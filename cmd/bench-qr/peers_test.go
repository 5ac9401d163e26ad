package main

import (
	"slices"
	"testing"
)

func TestParseZXing(t *testing.T) {
	out := "File:       a.png\nText:       \"line one\r\nline \"two\"\"\nBytes:      6C\nFormat:     QRCode\n\n" +
		"File:       b.png\nNo barcode found\n" +
		"File:       c.png\nText:       \"x\"\nBytes:      78\n\nText:       \"y\"\nBytes:      79\n"
	got := parseZXing([]byte(out), []string{"a.png", "b.png", "c.png"})
	if !slices.Equal(got["a.png"], []string{"line one\r\nline \"two\""}) {
		t.Errorf("a.png: %q", got["a.png"])
	}
	if len(got["b.png"]) != 0 {
		t.Errorf("b.png: %q", got["b.png"])
	}
	if !slices.Equal(got["c.png"], []string{"x", "y"}) {
		t.Errorf("c.png: %q", got["c.png"])
	}
	// One file: ZXingReader prints no File: line.
	one := parseZXing([]byte("Text:       \"solo\"\nBytes:      00\n"), []string{"s.png"})
	if !slices.Equal(one["s.png"], []string{"solo"}) {
		t.Errorf("single file: %q", one)
	}
}

func TestZbarHas(t *testing.T) {
	// Raw output cannot tell a payload's own line end from the end of a
	// payload, so a line of a multi-line payload matches too: the count is
	// generous to zbar, never to GateGuard.
	out := []byte("first\r\nstill first\nsecond\n")
	for want, ok := range map[string]bool{"first\r\nstill first": true, "second": true, "still first": true, "first": false, "secon": false, "": false} {
		if zbarHas(out, want) != ok {
			t.Errorf("zbarHas(%q) = %v", want, !ok)
		}
	}
}

func FuzzParseZXing(f *testing.F) {
	f.Add([]byte("File:       a.png\nText:       \"x\"\nBytes:      78\n"))
	f.Add([]byte("Text:       \"unterminated"))
	f.Fuzz(func(t *testing.T, out []byte) {
		parseZXing(out, []string{"a.png"})
	})
}
