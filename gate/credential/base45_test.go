package credential

import (
	"bytes"
	"errors"
	"testing"
)

// RFC 9285 §4.3 and §4.4 examples.
func TestBase45RFCVectors(t *testing.T) {
	for _, tc := range []struct{ plain, enc string }{
		{"AB", "BB8"},
		{"Hello!!", "%69 VD92EX0"},
		{"base-45", "UJCLQE7W581"},
		{"ietf!", "QED8WEX0"},
		{"", ""},
	} {
		if got := Base45Encode([]byte(tc.plain)); got != tc.enc {
			t.Errorf("Base45Encode(%q) = %q, want %q", tc.plain, got, tc.enc)
		}
		got, err := Base45Decode(tc.enc)
		if err != nil || string(got) != tc.plain {
			t.Errorf("Base45Decode(%q) = %q, %v; want %q", tc.enc, got, err, tc.plain)
		}
	}
}

func TestBase45Rejects(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"truncated group", "QED8WEX0"[:7]},
		{"single char", "Q"},
		{"lower case", "qed8wex0"},
		{"outside alphabet", "QED8W#X0"},
		{"group overflow", "GGW"},        // 65536 + … > 0xffff
		{"final pair overflow", "BB8:/"}, // 44+44*45 > 255
	} {
		t.Run(tc.name, func(t *testing.T) {
			if b, err := Base45Decode(tc.in); !errors.Is(err, ErrBase45) {
				t.Fatalf("Base45Decode(%q) = %x, %v; want ErrBase45", tc.in, b, err)
			}
		})
	}
}

func TestBase45RoundTrip(t *testing.T) {
	for n := range 300 {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*131 + n)
		}
		got, err := Base45Decode(Base45Encode(b))
		if err != nil || !bytes.Equal(got, b) {
			t.Fatalf("round trip of %d bytes failed: %v", n, err)
		}
	}
}

func FuzzBase45(f *testing.F) {
	for _, s := range []string{"BB8", "%69 VD92EX0", "GGW", "Q", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := Base45Decode(s)
		if err != nil {
			return
		}
		if enc := Base45Encode(b); enc != s {
			t.Fatalf("decode/encode of %q gave %q", s, enc)
		}
	})
}
