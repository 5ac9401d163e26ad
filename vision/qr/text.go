package qr

import (
	"bytes"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"
)

// Payload encodings that Text reports.
const (
	EncodingUTF8     = "utf-8"
	EncodingShiftJIS = "shift_jis"
	EncodingLatin1   = "iso-8859-1"
)

// Text turns a QR payload's bytes into text when the decoder gave none. QR
// byte mode has no reliable charset marker in practice, so it guesses as
// ZXing does: valid UTF-8 first, then Shift_JIS when the bytes hold
// double-byte characters and decode cleanly, and ISO 8859-1 (the QR default,
// which maps every byte) otherwise. It never fails: any byte string yields
// text and the name of the encoding used.
func Text(raw []byte) (text, encoding string) {
	if utf8.Valid(raw) {
		return string(bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))), EncodingUTF8
	}
	if t, ok := shiftJIS(raw); ok {
		return t, EncodingShiftJIS
	}
	r := make([]rune, len(raw))
	for i, b := range raw {
		r[i] = rune(b)
	}
	return string(r), EncodingLatin1
}

// shiftJIS decodes raw as Shift_JIS when it holds at least one double-byte
// character and no invalid sequence.
func shiftJIS(raw []byte) (string, bool) {
	double := false
	for i := 0; i < len(raw); i++ {
		b := raw[i]
		switch {
		case b < 0x80 || (b >= 0xa1 && b <= 0xdf): // ASCII, half-width katakana
		case (b >= 0x81 && b <= 0x9f) || (b >= 0xe0 && b <= 0xfc):
			if i+1 >= len(raw) {
				return "", false
			}
			t := raw[i+1]
			if t < 0x40 || t == 0x7f || t > 0xfc {
				return "", false
			}
			double = true
			i++
		default:
			return "", false
		}
	}
	if !double {
		return "", false
	}
	out, err := japanese.ShiftJIS.NewDecoder().Bytes(raw)
	if err != nil || bytes.ContainsRune(out, utf8.RuneError) {
		return "", false
	}
	return string(out), true
}

// encodingOf names the character set in which raw reads as text (which a
// decoder produced from its own ECI or guess), or "" when none of UTF-8,
// Shift_JIS and ISO 8859-1 gives exactly that text.
func encodingOf(raw []byte, text string) string {
	if utf8.Valid(raw) && string(raw) == text {
		return EncodingUTF8
	}
	if out, err := japanese.ShiftJIS.NewDecoder().Bytes(raw); err == nil && string(out) == text {
		return EncodingShiftJIS
	}
	if t, enc := Text(raw); enc == EncodingLatin1 && t == text {
		return EncodingLatin1
	}
	return ""
}
