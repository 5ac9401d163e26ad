package qr

import (
	"errors"
	"fmt"

	"gocv.io/x/gocv"

	"github.com/gateguard/gateguard/vision"
)

// ErrNotImage is returned by DecodeBytes for bytes OpenCV cannot read as an
// image.
var ErrNotImage = errors.New("qr: not a readable image")

// DecodeBytes decodes an encoded image (PNG, JPEG, …) and the codes in it:
// the path for uploaded or stored pictures. Corrupt or truncated files give
// ErrNotImage or the codes in what could be read, never a crash.
func DecodeBytes(d *Decoder, buf []byte) ([]vision.Code, error) {
	if len(buf) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrNotImage)
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
