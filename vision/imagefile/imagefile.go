// Package imagefile decodes image files — PNG, JPEG, GIF, BMP, TIFF, WebP and
// netpbm (PGM, PPM, PBM) — into 8-bit BGR gocv Mats with Go's decoders, as
// OpenCV's imread(IMREAD_COLOR) would: alpha dropped, 16-bit samples reduced
// to their high byte, a JPEG turned upright by its EXIF orientation.
//
// It exists so that the gate daemon does not link OpenCV's imgcodecs: on
// Debian that library needs GDAL, GDCM, OpenEXR, poppler and ~100 other
// libraries, loaded and relocated at start (tens of MB resident), and its
// first imread registers every GDAL driver. The daemon reads images only from
// files (QR pictures, enrolment photos, simulated cameras); its live frames
// come from the cameras.
//
// Decode reads the image's size from its header first and refuses, before
// decoding anything, an image wider or taller than the caller's limit: a few
// hundred bytes of PNG can claim 16000×16000 pixels.
package imagefile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/draw"
	_ "image/gif"  // GIF
	_ "image/jpeg" // JPEG
	_ "image/png"  // PNG
	"os"

	"gocv.io/x/gocv"
	_ "golang.org/x/image/bmp"  // BMP
	_ "golang.org/x/image/tiff" // TIFF
	_ "golang.org/x/image/webp" // WebP
)

// Errors, wrapped with details.
var (
	// ErrNotImage reports bytes that are not an image of a known format, or
	// that are damaged.
	ErrNotImage = errors.New("imagefile: not a readable image")
	// ErrTooLarge reports an image whose header claims more pixels a side
	// than the caller accepts.
	ErrTooLarge = errors.New("imagefile: image too large")
)

// DefaultMaxSide is the limit Read applies: larger than any photo a phone or
// an enrolment camera takes.
const DefaultMaxSide = 16384

// Read decodes the image file at path (see Decode), at most DefaultMaxSide
// pixels a side.
func Read(path string) (gocv.Mat, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return gocv.Mat{}, fmt.Errorf("imagefile: %w", err)
	}
	m, err := Decode(data, DefaultMaxSide)
	if err != nil {
		return gocv.Mat{}, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Decode decodes an encoded image into a new 8-bit, 3-channel BGR Mat (the
// caller closes it). An image more than maxSide pixels wide or tall is
// ErrTooLarge, found from its header alone.
func Decode(data []byte, maxSide int) (gocv.Mat, error) {
	w, h, format, err := Size(data)
	if err != nil {
		return gocv.Mat{}, err
	}
	if w > maxSide || h > maxSide {
		return gocv.Mat{}, fmt.Errorf("%w: %s of %dx%d exceeds %d pixels a side", ErrTooLarge, format, w, h, maxSide)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return gocv.Mat{}, fmt.Errorf("%w: %s: %w", ErrNotImage, format, err)
	}
	m, err := toBGR(img)
	if err != nil {
		return gocv.Mat{}, fmt.Errorf("imagefile: %s: %w", format, err)
	}
	if format == "jpeg" {
		orient(&m, exifOrientation(data))
	}
	return m, nil
}

// toBGR converts img to a BGR Mat. Grey, RGBA and NRGBA images (what the
// decoders return, after image/draw's fast paths for YCbCr and paletted ones)
// are copied sample by sample; an image with its own alpha keeps its stored
// colours, as OpenCV's IMREAD_COLOR does (image/draw would premultiply); 16-bit
// samples keep their high byte.
func toBGR(img image.Image) (gocv.Mat, error) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	bgr := make([]byte, 3*w*h)
	put := func(pix []byte, stride, step int) {
		for y := range h {
			row := pix[y*stride:]
			out := bgr[3*w*y:]
			for x := range w {
				px := row[step*x:]
				out[3*x], out[3*x+1], out[3*x+2] = px[2*step/4], px[step/4], px[0]
			}
		}
	}
	switch src := img.(type) {
	case *image.Gray:
		for y := range h {
			row := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := range w {
				v := row[x]
				bgr[3*(w*y+x)], bgr[3*(w*y+x)+1], bgr[3*(w*y+x)+2] = v, v, v
			}
		}
	case *image.NRGBA:
		put(src.Pix[src.PixOffset(b.Min.X, b.Min.Y):], src.Stride, 4)
	case *image.NRGBA64:
		put(src.Pix[src.PixOffset(b.Min.X, b.Min.Y):], src.Stride, 8)
	case *image.RGBA:
		put(src.Pix[src.PixOffset(b.Min.X, b.Min.Y):], src.Stride, 4)
	default:
		dst := image.NewRGBA(image.Rect(0, 0, w, h))
		draw.Draw(dst, dst.Rect, img, b.Min, draw.Src)
		put(dst.Pix, dst.Stride, 4)
	}
	m, err := gocv.NewMatFromBytes(h, w, gocv.MatTypeCV8UC3, bgr)
	if err != nil {
		return gocv.Mat{}, err
	}
	defer m.Close()
	return m.Clone(), nil // OpenCV's own memory, not a Go slice
}

// Size reads an encoded image's size and format from its header: PNG, JPEG,
// GIF, TIFF and netpbm through their decoders, BMP and WebP here (their
// decoders read more than the header). Any other bytes are ErrNotImage.
func Size(buf []byte) (w, h int, format string, err error) {
	if len(buf) == 0 {
		return 0, 0, "", fmt.Errorf("%w: empty", ErrNotImage)
	}
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
		format = "bmp"
	case len(buf) >= 12 && bytes.HasPrefix(buf, []byte("RIFF")) && string(buf[8:12]) == "WEBP":
		w, h, format, err = webpSize(buf)
		if err != nil {
			return 0, 0, format, err
		}
	default:
		cfg, f, err := image.DecodeConfig(bytes.NewReader(buf))
		if err != nil {
			return 0, 0, "", fmt.Errorf("%w: cannot read its size (PNG, JPEG, GIF, BMP, TIFF, WebP and netpbm are read): %w", ErrNotImage, err)
		}
		w, h, format = cfg.Width, cfg.Height, f
	}
	if w <= 0 || h <= 0 {
		return 0, 0, format, fmt.Errorf("%w: %s header says %dx%d", ErrNotImage, format, w, h)
	}
	return w, h, format, nil
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
