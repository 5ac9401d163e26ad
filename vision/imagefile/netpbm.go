package imagefile

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"strconv"
)

// Netpbm (PBM, PGM, PPM: P1–P6) as described in netpbm's pbm(5), pgm(5) and
// ppm(5): a magic number, whitespace-separated decimal width, height and (not
// for PBM) maxval with # comments between them, one whitespace character, then
// the raster: binary samples (one byte each when maxval < 256, else two, most
// significant first) for P4–P6, decimal ASCII samples for P1–P3. The ORL
// faces used to evaluate face matching are P5.

func init() {
	for _, magic := range []string{"P1", "P2", "P3", "P4", "P5", "P6"} {
		image.RegisterFormat("netpbm", magic, decodePNM, decodePNMConfig)
	}
}

// maxPNMSide bounds a netpbm header's width and height before anything is
// allocated (decoders of the other formats do the same for theirs).
const maxPNMSide = 1 << 15

type pnmHeader struct {
	magic  byte // '1'…'6'
	w, h   int
	maxval int
}

func (p pnmHeader) channels() int {
	if p.magic == '3' || p.magic == '6' {
		return 3
	}
	return 1
}

var errPNM = errors.New("netpbm")

func readPNMHeader(r *bufio.Reader) (pnmHeader, error) {
	var m [2]byte
	if _, err := io.ReadFull(r, m[:]); err != nil || m[0] != 'P' || m[1] < '1' || m[1] > '6' {
		return pnmHeader{}, fmt.Errorf("%w: no P1–P6 magic number", errPNM)
	}
	h := pnmHeader{magic: m[1], maxval: 1}
	fields := []*int{&h.w, &h.h}
	if h.magic != '1' && h.magic != '4' {
		fields = append(fields, &h.maxval)
	}
	for i, f := range fields {
		v, err := pnmNumber(r)
		if err != nil {
			return h, fmt.Errorf("%w: header field %d: %w", errPNM, i+1, err)
		}
		*f = v
	}
	if h.w < 1 || h.h < 1 || h.w > maxPNMSide || h.h > maxPNMSide {
		return h, fmt.Errorf("%w: size %dx%d", errPNM, h.w, h.h)
	}
	if h.maxval < 1 || h.maxval > 65535 {
		return h, fmt.Errorf("%w: maxval %d outside 1–65535", errPNM, h.maxval)
	}
	// One whitespace character ends the header of a binary raster.
	if h.magic >= '4' {
		if c, err := r.ReadByte(); err != nil || !pnmSpace(c) {
			return h, fmt.Errorf("%w: no whitespace after the header", errPNM)
		}
	}
	return h, nil
}

func pnmSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// pnmNumber reads a decimal number after whitespace and comments; it leaves
// the character that ends it unread.
func pnmNumber(r *bufio.Reader) (int, error) {
	var digits []byte
	for {
		c, err := r.ReadByte()
		if err != nil {
			if len(digits) > 0 && errors.Is(err, io.EOF) {
				break
			}
			return 0, fmt.Errorf("truncated: %w", err)
		}
		switch {
		case c >= '0' && c <= '9':
			if len(digits) >= 6 {
				return 0, errors.New("number too long")
			}
			digits = append(digits, c)
			continue
		case len(digits) > 0:
			_ = r.UnreadByte()
		case c == '#':
			if _, err := r.ReadString('\n'); err != nil {
				return 0, fmt.Errorf("truncated comment: %w", err)
			}
			continue
		case pnmSpace(c):
			continue
		default:
			return 0, fmt.Errorf("unexpected %q", c)
		}
		break
	}
	return strconv.Atoi(string(digits))
}

func decodePNMConfig(r io.Reader) (image.Config, error) {
	h, err := readPNMHeader(bufio.NewReader(r))
	if err != nil {
		return image.Config{}, err
	}
	model := color.GrayModel
	if h.channels() == 3 {
		model = color.RGBAModel
	}
	return image.Config{ColorModel: model, Width: h.w, Height: h.h}, nil
}

// decodePNM decodes to *image.Gray (PBM, PGM) or *image.RGBA (PPM), samples
// scaled from 0–maxval to 0–255; a PBM 1 is black.
func decodePNM(rd io.Reader) (image.Image, error) {
	r := bufio.NewReader(rd)
	h, err := readPNMHeader(r)
	if err != nil {
		return nil, err
	}
	sample, err := pnmSampler(r, h)
	if err != nil {
		return nil, err
	}
	rect := image.Rect(0, 0, h.w, h.h)
	if h.channels() == 1 {
		g := image.NewGray(rect)
		for y := range h.h {
			for x := range h.w {
				v, err := sample(x)
				if err != nil {
					return nil, fmt.Errorf("%w: pixel (%d,%d): %w", errPNM, x, y, err)
				}
				g.Pix[y*g.Stride+x] = v
			}
		}
		return g, nil
	}
	img := image.NewRGBA(rect)
	for y := range h.h {
		for x := range h.w {
			o := y*img.Stride + 4*x
			for c := range 3 {
				v, err := sample(x)
				if err != nil {
					return nil, fmt.Errorf("%w: pixel (%d,%d): %w", errPNM, x, y, err)
				}
				img.Pix[o+c] = v
			}
			img.Pix[o+3] = 0xFF
		}
	}
	return img, nil
}

// pnmSampler returns a function giving the next sample, scaled to 0–255;
// x is the column (a P4 row starts on a byte).
func pnmSampler(r *bufio.Reader, h pnmHeader) (func(x int) (uint8, error), error) {
	scale := func(v int) (uint8, error) {
		if v > h.maxval {
			return 0, fmt.Errorf("sample %d > maxval %d", v, h.maxval)
		}
		return uint8((v*255 + h.maxval/2) / h.maxval), nil
	}
	switch h.magic {
	case '1':
		return func(int) (uint8, error) {
			for {
				c, err := r.ReadByte()
				if err != nil {
					return 0, err
				}
				switch {
				case c == '0':
					return 0xFF, nil
				case c == '1':
					return 0, nil
				case pnmSpace(c):
				default:
					return 0, fmt.Errorf("unexpected %q", c)
				}
			}
		}, nil
	case '2', '3':
		return func(int) (uint8, error) {
			v, err := pnmNumber(r)
			if err != nil {
				return 0, err
			}
			return scale(v)
		}, nil
	case '4':
		var bits byte
		return func(x int) (uint8, error) {
			if x%8 == 0 {
				b, err := r.ReadByte()
				if err != nil {
					return 0, err
				}
				bits = b
			}
			if bits&(0x80>>(x%8)) != 0 {
				return 0, nil
			}
			return 0xFF, nil
		}, nil
	}
	wide := h.maxval > 255
	return func(int) (uint8, error) {
		b, err := r.ReadByte()
		if err != nil {
			return 0, err
		}
		v := int(b)
		if wide {
			lo, err := r.ReadByte()
			if err != nil {
				return 0, err
			}
			v = v<<8 | int(lo)
		}
		return scale(v)
	}, nil
}
