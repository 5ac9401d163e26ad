package qr

import (
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gateguard/gateguard/vision"
)

func TestText(t *testing.T) {
	tests := []struct {
		name, raw, text, enc string
	}{
		{"ascii", "GP1.abc", "GP1.abc", EncodingUTF8},
		{"utf-8 with BOM", "\xef\xbb\xbfhé", "hé", EncodingUTF8},
		{"shift_jis", "\x83\x5f\x83\x75\x83\x8b", "ダブル", EncodingShiftJIS},
		{"latin-1", "caf\xe9", "café", EncodingLatin1},
		{"binary", "\x00\xff\xfe", "\x00ÿþ", EncodingLatin1},
		{"lone lead byte", "\x83", "\u0083", EncodingLatin1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, enc := Text([]byte(tt.raw))
			if text != tt.text || enc != tt.enc {
				t.Errorf("Text(%q) = %q, %q; want %q, %q", tt.raw, text, enc, tt.text, tt.enc)
			}
		})
	}
}

func TestEncodingOf(t *testing.T) {
	for _, tt := range []struct{ raw, text, want string }{
		{"abc", "abc", EncodingUTF8},
		{"\xc3\xde", "ﾃﾞ", EncodingShiftJIS},
		{"caf\xe9", "café", EncodingLatin1},
		{"abc", "xyz", ""},
	} {
		if got := encodingOf([]byte(tt.raw), tt.text); got != tt.want {
			t.Errorf("encodingOf(%q, %q) = %q, want %q", tt.raw, tt.text, got, tt.want)
		}
	}
}

func FuzzText(f *testing.F) {
	for _, s := range []string{"", "hello", "\x83\x5f\x83\x75", "caf\xe9", "\xef\xbb\xbf", "\x81\x7f"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		text, enc := Text(raw)
		if !utf8.ValidString(text) {
			t.Fatalf("Text(%q) = %q is not UTF-8", raw, text)
		}
		if len(raw) > 0 && text == "" && !(enc == EncodingUTF8 && strings.HasPrefix(string(raw), "\xef\xbb\xbf")) {
			t.Fatalf("Text(%q) is empty", raw)
		}
		if enc == EncodingUTF8 && utf8.Valid(raw) && !strings.HasSuffix(string(raw), text) {
			t.Fatalf("Text(%q) = %q changed valid UTF-8", raw, text)
		}
	})
}

func TestClassify(t *testing.T) {
	tests := []struct {
		r, g, b float64
		want    vision.Colour
	}{
		{20, 20, 20, vision.ColourBlack},
		{40, 160, 60, vision.ColourGreen},
		{230, 200, 30, vision.ColourYellow},
		{200, 30, 40, vision.ColourRed},
		{40, 60, 200, vision.ColourOther},
		{0, 0, 0, vision.ColourBlack},
	}
	for _, tt := range tests {
		if got := Classify(tt.r, tt.g, tt.b); got != tt.want {
			t.Errorf("Classify(%v, %v, %v) = %v, want %v", tt.r, tt.g, tt.b, got, tt.want)
		}
	}
}

func FuzzClassify(f *testing.F) {
	f.Add(10.0, 200.0, 30.0)
	f.Fuzz(func(t *testing.T, r, g, b float64) {
		if c := Classify(r, g, b); c < vision.ColourUnknown || c > vision.ColourOther {
			t.Fatalf("Classify(%v, %v, %v) = %d", r, g, b, c)
		}
	})
}

// FuzzDecodeBytes feeds arbitrary bytes through the image decode path and
// the decoder: errors are fine, crashes are not.
func FuzzDecodeBytes(f *testing.F) {
	for _, p := range []string{"qr-gocv/qrcode.png"} {
		if b, err := os.ReadFile(shared + p); err == nil {
			f.Add(b)
			f.Add(b[:len(b)/3])
		}
	}
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Add([]byte("\xff\xd8\xff\xe0"))
	d, err := New()
	if err != nil {
		f.Fatal(err)
	}
	defer d.Close()
	f.Fuzz(func(t *testing.T, buf []byte) {
		codes, err := DecodeBytes(d, buf)
		if err != nil && len(codes) > 0 {
			t.Fatalf("codes and an error: %v", err)
		}
	})
}
