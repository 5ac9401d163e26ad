package qr

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"strings"
	"testing"
)

// pngChunk is one PNG chunk: length, type, data, CRC.
func pngChunk(typ string, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, uint32(len(data)))
	b.WriteString(typ)
	b.Write(data)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	return b.Bytes()
}

// hugePNG is a valid 1-bit greyscale PNG of w×h black pixels: every row is
// a filter byte and w/8 zero bytes, zlib-compressed to a few kilobytes.
func hugePNG(t *testing.T, w, h int) []byte {
	t.Helper()
	var idat bytes.Buffer
	z, err := zlib.NewWriterLevel(&idat, zlib.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	row := make([]byte, 1+(w+7)/8)
	for range h {
		if _, err := z.Write(row); err != nil {
			t.Fatal(err)
		}
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 1, 0 // bit depth 1, greyscale
	b := []byte("\x89PNG\r\n\x1a\n")
	b = append(b, pngChunk("IHDR", ihdr)...)
	b = append(b, pngChunk("IDAT", idat.Bytes())...)
	return append(b, pngChunk("IEND", nil)...)
}

// TestDecodeBytesRefusesHugeImage: a PNG of a few kilobytes that decodes to
// 16000×16000 pixels is refused from its header, before OpenCV decodes it
// (which took 824 MB): the error names the format and the header's size.
func TestDecodeBytesRefusesHugeImage(t *testing.T) {
	d := newDecoder(t)
	buf := hugePNG(t, 16000, 16000)
	if len(buf) > 100<<10 {
		t.Fatalf("test PNG is %d bytes, want a tiny file", len(buf))
	}
	codes, err := DecodeBytes(d, buf)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "png of 16000x16000") || len(codes) != 0 {
		t.Fatalf("DecodeBytes(%d-byte 16000x16000 PNG) = %v, %v; want ErrTooLarge from the png header", len(buf), codes, err)
	}
	// At MaxSide the same construction is decoded (a black image: no code).
	if _, err := DecodeBytes(d, hugePNG(t, 64, MaxSide)); err != nil {
		t.Errorf("64x%d PNG: %v", MaxSide, err)
	}
}

// TestDecodeBytesNotImage: bytes that are no image are ErrNotImage
// (vision/imagefile reads the headers; its TestSize covers each format).
func TestDecodeBytesNotImage(t *testing.T) {
	d := newDecoder(t)
	for name, buf := range map[string][]byte{"text": []byte("not an image"), "empty": nil} {
		if _, err := DecodeBytes(d, buf); !errors.Is(err, ErrNotImage) {
			t.Errorf("%s: %v, want ErrNotImage", name, err)
		}
	}
}
