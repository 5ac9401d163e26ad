package qr

import (
	"errors"
	"fmt"

	"github.com/gateguard/gateguard/vision"
	"github.com/gateguard/gateguard/vision/imagefile"
)

// ErrNotImage is returned by DecodeBytes for bytes that are not a readable
// image (it is imagefile.ErrNotImage).
var ErrNotImage = imagefile.ErrNotImage

// DecodeBytes decodes an encoded image (PNG, JPEG, GIF, BMP, TIFF, WebP or
// netpbm, with Go's decoders: see vision/imagefile) and the codes in it: the
// path for uploaded or stored pictures. It reads the image's size from its
// header first and refuses, before decoding anything, an image wider or
// taller than MaxSide (ErrTooLarge: a few hundred bytes of PNG can claim
// 16000×16000 pixels, 768 MB decoded) and a format whose size it cannot read
// (ErrNotImage). Corrupt or truncated files give ErrNotImage, never a crash.
func DecodeBytes(d *Decoder, buf []byte) ([]vision.Code, error) {
	img, err := imagefile.Decode(buf, MaxSide)
	if errors.Is(err, imagefile.ErrTooLarge) {
		return nil, fmt.Errorf("%w: %w", ErrTooLarge, err)
	}
	if err != nil {
		return nil, err
	}
	defer img.Close()
	return d.Decode(img)
}
