package qr

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // sizes GIF headers for DecodeBytes
	_ "image/jpeg" // sizes JPEG headers
	_ "image/png"  // sizes PNG headers

	"gocv.io/x/gocv"

	"github.com/gateguard/gateguard/vision"
)

// ErrNotImage is returned by DecodeBytes for bytes OpenCV cannot read as an
// image.
var ErrNotImage = errors.New("qr: not a readable image")

// DecodeBytes decodes an encoded image (PNG, JPEG, GIF, BMP or WebP) and
// the codes in it: the path for uploaded or stored pictures. It reads the
// image's size from its header first and refuses, before decoding anything,
// an image wider or taller than MaxSide (ErrTooLarge: a few hundred bytes of
// PNG can claim 16000×16000 pixels, 768 MB decoded) and a format whose size
// it cannot read (ErrNotImage). Corrupt or truncated files give ErrNotImage
// or the codes in what could be read, never a crash.
func DecodeBytes(d *Decoder, buf []byte) ([]vision.Code, error) {
	if len(buf) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrNotImage)
	}
	w, h, format, err := imageSize(buf)
	if err != nil {
		return nil, err
	}
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("%w: %s header says %dx%d", ErrNotImage, format, w, h)
	}
	if w > MaxSide || h > MaxSide {
		return nil, fmt.Errorf("%w: %s of %dx%d exceeds %d pixels a side", ErrTooLarge, format, w, h, MaxSide)
	}
	img, err := gocv.IMDecode(buf, gocv.IMReadColor)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotImage, err)
	}
	defer img.Close()
	if img.Empty() {
		return nil, fmt.Errorf("%w: %d bytes", ErrNotImage, len(buf))
	}
	return d.Decode(img)
}

// imageSize reads an encoded image's size from its header: PNG, JPEG and
// GIF through the image package, BMP and WebP here. Any other format is
// ErrNotImage.
func imageSize(buf []byte) (w, h int, format string, err error) {
	switch {
	case len(buf) >= 26 && bytes.HasPrefix(buf, []byte("BM")):
		// BITMAPINFOHEADER and later: signed 32-bit width and height at
		// 18 and 22 (a negative height is a top-down bitmap).
		if hs := binary.LittleEndian.Uint32(buf[14:]); hs < 40 {
			return 0, 0, "bmp", fmt.Errorf("%w: bmp header of %d bytes is not sized", ErrNotImage, hs)
		}
		w = int(int32(binary.LittleEndian.Uint32(buf[18:])))
		h = int(int32(binary.LittleEndian.Uint32(buf[22:])))
		if h < 0 {
			h = -h
		}
		return w, h, "bmp", nil
	case len(buf) >= 12 && bytes.HasPrefix(buf, []byte("RIFF")) && string(buf[8:12]) == "WEBP":
		return webpSize(buf)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(buf))
	if err != nil {
		return 0, 0, "", fmt.Errorf("%w: cannot read its size (PNG, JPEG, GIF, BMP and WebP are read): %w", ErrNotImage, err)
	}
	return cfg.Width, cfg.Height, format, nil
}

// webpSize reads the size of a WebP image from its first chunk: VP8X
// (extended: 24-bit width and height less one), VP8L (lossless: 14-bit
// width and height less one) or VP8 (lossy: 14-bit width and height in the
// key frame header).
func webpSize(buf []byte) (w, h int, format string, err error) {
	const f = "webp"
	if len(buf) < 30 {
		return 0, 0, f, fmt.Errorf("%w: webp header truncated", ErrNotImage)
	}
	le24 := func(b []byte) int { return int(b[0]) | int(b[1])<<8 | int(b[2])<<16 }
	c := buf[20:]
	switch string(buf[12:16]) {
	case "VP8X":
		return le24(c[4:]) + 1, le24(c[7:]) + 1, f, nil
	case "VP8L":
		if c[0] != 0x2F {
			return 0, 0, f, fmt.Errorf("%w: webp lossless signature missing", ErrNotImage)
		}
		b := binary.LittleEndian.Uint32(c[1:])
		return int(b&0x3FFF) + 1, int(b>>14&0x3FFF) + 1, f, nil
	case "VP8 ":
		if !bytes.Equal(c[3:6], []byte{0x9D, 0x01, 0x2A}) {
			return 0, 0, f, fmt.Errorf("%w: webp key frame start code missing", ErrNotImage)
		}
		return int(binary.LittleEndian.Uint16(c[6:]) & 0x3FFF), int(binary.LittleEndian.Uint16(c[8:]) & 0x3FFF), f, nil
	}
	return 0, 0, f, fmt.Errorf("%w: webp chunk %q is not sized", ErrNotImage, buf[12:16])
}
