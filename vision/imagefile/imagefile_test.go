package imagefile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gocv.io/x/gocv"
)

// pattern is a 37×23 BGR test card: gradients in each channel and a few
// saturated blocks, odd sizes so row padding and chroma subsampling show.
func pattern(t *testing.T) gocv.Mat {
	t.Helper()
	m := gocv.NewMatWithSize(23, 37, gocv.MatTypeCV8UC3)
	for y := range 23 {
		for x := range 37 {
			b, g, r := uint8(x*7), uint8(y*11), uint8((x+y)*4)
			if x > 25 && y > 12 {
				b, g, r = 0, 0, 255
			}
			m.SetUCharAt(y, x*3, b)
			m.SetUCharAt(y, x*3+1, g)
			m.SetUCharAt(y, x*3+2, r)
		}
	}
	return m
}

func encode(t *testing.T, ext string, m gocv.Mat, params ...int) []byte {
	t.Helper()
	var (
		buf *gocv.NativeByteBuffer
		err error
	)
	if len(params) == 0 {
		buf, err = gocv.IMEncode(gocv.FileExt(ext), m)
	} else {
		buf, err = gocv.IMEncodeWithParams(gocv.FileExt(ext), m, params)
	}
	if err != nil {
		t.Fatalf("IMEncode %s: %v", ext, err)
	}
	defer buf.Close()
	return bytes.Clone(buf.GetBytes())
}

// meanDiff is the mean absolute per-sample difference of two Mats of the
// same size and type, or -1 when they differ in shape.
func meanDiff(a, b gocv.Mat) float64 {
	if a.Rows() != b.Rows() || a.Cols() != b.Cols() || a.Type() != b.Type() {
		return -1
	}
	d := gocv.NewMat()
	defer d.Close()
	gocv.AbsDiff(a, b, &d)
	s := d.Sum()
	return (s.Val1 + s.Val2 + s.Val3) / float64(3*a.Rows()*a.Cols())
}

// maxDiff is the largest absolute per-sample difference of two Mats of the
// same size and type, or -1 when they differ in shape.
func maxDiff(a, b gocv.Mat) int {
	if a.Rows() != b.Rows() || a.Cols() != b.Cols() || a.Type() != b.Type() {
		return -1
	}
	d := gocv.NewMat()
	defer d.Close()
	gocv.AbsDiff(a, b, &d)
	flat := d.Reshape(1, 0)
	defer flat.Close()
	_, hi, _, _ := gocv.MinMaxLoc(flat)
	return int(hi)
}

// TestDecodeMatchesOpenCV decodes each format OpenCV can write with both
// Decode and OpenCV's own imdecode (the reference) and compares the pixels:
// lossless formats exactly, JPEG on average within 1.5 levels.
func TestDecodeMatchesOpenCV(t *testing.T) {
	src := pattern(t)
	defer src.Close()
	grey := gocv.NewMat()
	defer grey.Close()
	gocv.CvtColor(src, &grey, gocv.ColorBGRToGray)
	for _, tc := range []struct {
		name   string
		data   []byte
		format string
		tol    int
	}{
		{"png", encode(t, ".png", src), "png", 0},
		{"png grey", encode(t, ".png", grey), "png", 0},
		{"bmp", encode(t, ".bmp", src), "bmp", 0},
		{"tiff", encode(t, ".tiff", src), "tiff", 0},
		{"webp lossless", encode(t, ".webp", src, gocv.IMWriteWebpQuality, 101), "webp", 0},
		{"ppm", encode(t, ".ppm", src), "netpbm", 0},
		{"pgm", encode(t, ".pgm", grey), "netpbm", 0},
		{"pgm ascii", encode(t, ".pgm", grey, gocv.IMWritePxmBinary, 0), "netpbm", 0},
		{"jpeg photo", photo(t), "jpeg", -1},
		{"jpeg grey", encode(t, ".jpg", grey, gocv.IMWriteJpegQuality, 95), "jpeg", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := gocv.IMDecode(tc.data, gocv.IMReadColor)
			if err != nil || want.Empty() {
				t.Fatalf("OpenCV cannot decode its own %s: %v", tc.name, err)
			}
			defer want.Close()
			got, err := Decode(tc.data, 1000)
			if err != nil {
				t.Fatal(err)
			}
			defer got.Close()
			if tc.tol < 0 {
				// JPEG: libjpeg-turbo and Go upsample chroma differently,
				// which shows at sharp colour edges; on average they agree.
				if d := meanDiff(got, want); d < 0 || d > 1.5 {
					t.Errorf("mean difference from OpenCV %.2f, want ≤ 1.5", d)
				}
			} else if d := maxDiff(got, want); d < 0 || d > tc.tol {
				t.Errorf("%dx%d type %v vs OpenCV %dx%d type %v: max difference %d, want ≤ %d",
					got.Cols(), got.Rows(), got.Type(), want.Cols(), want.Rows(), want.Type(), d, tc.tol)
			}
			if _, _, f, err := Size(tc.data); err != nil || f != tc.format {
				t.Errorf("Size: format %q %v, want %q", f, err, tc.format)
			}
		})
	}
}

// photo is a real camera JPEG (see ../shared/testdata/README.md).
func photo(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../../../shared/testdata/faces/face-detect.jpg")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withOrientation puts an EXIF APP1 segment with the Orientation tag right
// after a JPEG's SOI marker, in the given byte order.
func withOrientation(jpeg []byte, o uint16, bo binary.ByteOrder) []byte {
	tiff := make([]byte, 8+2+12+4)
	if bo == binary.LittleEndian {
		copy(tiff, "II")
	} else {
		copy(tiff, "MM")
	}
	bo.PutUint16(tiff[2:], 42)
	bo.PutUint32(tiff[4:], 8)
	bo.PutUint16(tiff[8:], 1)
	e := tiff[10:]
	bo.PutUint16(e, 0x0112)
	bo.PutUint16(e[2:], 3)
	bo.PutUint32(e[4:], 1)
	bo.PutUint16(e[8:], o)
	seg := append([]byte("Exif\x00\x00"), tiff...)
	app1 := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(app1[2:], uint16(len(seg)+2))
	out := append([]byte{}, jpeg[:2]...)
	out = append(out, app1...)
	out = append(out, seg...)
	return append(out, jpeg[2:]...)
}

// TestEXIFOrientation: for every orientation, in both byte orders, Decode
// turns the picture as OpenCV's imdecode does.
func TestEXIFOrientation(t *testing.T) {
	plain := photo(t)
	for o := uint16(1); o <= 8; o++ {
		for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
			data := withOrientation(plain, o, bo)
			if got := exifOrientation(data); got != int(o) {
				t.Fatalf("orientation %d (%v) read as %d", o, bo, got)
			}
			want, err := gocv.IMDecode(data, gocv.IMReadColor)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(data, 1000)
			if err != nil {
				t.Fatal(err)
			}
			if d := meanDiff(got, want); d < 0 || d > 1.5 {
				t.Errorf("orientation %d (%v): %dx%d vs OpenCV %dx%d, mean difference %.2f",
					o, bo, got.Cols(), got.Rows(), want.Cols(), want.Rows(), d)
			}
			got.Close()
			want.Close()
		}
	}
	for name, data := range map[string][]byte{
		"no exif":         plain,
		"not a jpeg":      []byte("GIF89a"),
		"truncated app1":  withOrientation(plain, 6, binary.BigEndian)[:20],
		"bad orientation": withOrientation(plain, 9, binary.BigEndian),
	} {
		if got := exifOrientation(data); got != 1 {
			t.Errorf("%s: orientation %d, want 1", name, got)
		}
	}
}

// TestNetpbmByHand decodes small netpbm files written by hand, each pixel
// known: PBM (1 is black), ASCII and binary, a maxval that is not 255, a
// 16-bit PGM and comments in the header.
func TestNetpbmByHand(t *testing.T) {
	for _, tc := range []struct {
		name string
		data string
		want [][3]uint8 // BGR, row-major
		w    int
	}{
		{"P1", "P1\n# a comment\n3 1\n1 0 1\n", [][3]uint8{{0, 0, 0}, {255, 255, 255}, {0, 0, 0}}, 3},
		{"P4 padded row", "P4 3 2\n\xa0\x40", [][3]uint8{{0, 0, 0}, {255, 255, 255}, {0, 0, 0}, {255, 255, 255}, {0, 0, 0}, {255, 255, 255}}, 3},
		{"P2 maxval 15", "P2 2 1 15\n0 15\n", [][3]uint8{{0, 0, 0}, {255, 255, 255}}, 2},
		{"P5 16-bit", "P5 2 1 65535\n\x80\x00\xff\xff", [][3]uint8{{128, 128, 128}, {255, 255, 255}}, 2},
		{"P3", "P3 1 1 255 10 20 30", [][3]uint8{{30, 20, 10}}, 1},
		{"P6", "P6\n1 1\n255\n\x0a\x14\x1e", [][3]uint8{{30, 20, 10}}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Decode([]byte(tc.data), 100)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if m.Cols() != tc.w || m.Rows() != len(tc.want)/tc.w || m.Channels() != 3 {
				t.Fatalf("%dx%dx%d, want %dx%dx3", m.Cols(), m.Rows(), m.Channels(), tc.w, len(tc.want)/tc.w)
			}
			for i, px := range tc.want {
				v := m.GetVecbAt(i/tc.w, i%tc.w)
				if v[0] != px[0] || v[1] != px[1] || v[2] != px[2] {
					t.Errorf("pixel %d = %v, want %v", i, v, px)
				}
			}
		})
	}
}

// TestAlphaDropped: a PNG with transparency keeps its stored colours, as
// OpenCV's IMREAD_COLOR does (no premultiplication).
func TestAlphaDropped(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	img.SetNRGBA(0, 0, color.NRGBA{200, 100, 50, 0})
	img.SetNRGBA(1, 0, color.NRGBA{10, 20, 30, 128})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	want, _ := gocv.IMDecode(buf.Bytes(), gocv.IMReadColor)
	defer want.Close()
	got, err := Decode(buf.Bytes(), 100)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	if d := maxDiff(got, want); d != 0 {
		t.Errorf("max difference from OpenCV %d: got %v %v", d, got.GetVecbAt(0, 0), got.GetVecbAt(0, 1))
	}
}

func hugePNG(t *testing.T, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func bmpHeader(w, h int32) []byte {
	b := make([]byte, 54)
	copy(b, "BM")
	binary.LittleEndian.PutUint32(b[14:], 40)
	binary.LittleEndian.PutUint32(b[18:], uint32(w))
	binary.LittleEndian.PutUint32(b[22:], uint32(h))
	return b
}

func webp(chunk string, data []byte) []byte {
	b := append([]byte("RIFF\x00\x00\x00\x00WEBP"), chunk...)
	b = append(b, 0, 0, 0, 0)
	return append(b, data...)
}

func TestSize(t *testing.T) {
	for _, tt := range []struct {
		name   string
		buf    []byte
		w, h   int
		format string
		err    string
	}{
		{"huge png", hugePNG(t, 16000, 8), 16000, 8, "png", ""},
		{"bmp", bmpHeader(640, 480), 640, 480, "bmp", ""},
		{"bmp top-down", bmpHeader(20000, -30), 20000, 30, "bmp", ""},
		{"bmp zero", bmpHeader(0, 30), 0, 0, "", "header says 0x30"},
		{"webp VP8X", webp("VP8X", []byte{0, 0, 0, 0, 0x7F, 0x3E, 0, 0x7F, 0x3E, 0}), 16000, 16000, "webp", ""},
		{"webp VP8L", webp("VP8L", []byte{0x2F, 0x3F, 0xC0, 0x0F, 0, 0, 0, 0, 0, 0}), 64, 64, "webp", ""},
		{"webp VP8", webp("VP8 ", []byte{0, 0, 0, 0x9D, 0x01, 0x2A, 0x80, 0x02, 0xE0, 0x01}), 640, 480, "webp", ""},
		{"webp bad chunk", webp("ALPH", make([]byte, 10)), 0, 0, "", "not sized"},
		{"webp truncated", []byte("RIFF\x00\x00\x00\x00WEBPVP8X"), 0, 0, "", "truncated"},
		{"pgm", []byte("P5 640 480 255\n"), 640, 480, "netpbm", ""},
		{"pgm bad maxval", []byte("P5 640 480 0\n"), 0, 0, "", "maxval 0"},
		{"tiff damaged", []byte("II*\x00\x08\x00\x00\x00" + strings.Repeat("\x00", 64)), 0, 0, "", "cannot read its size"},
		{"text", []byte("not an image"), 0, 0, "", "cannot read its size"},
		{"empty", nil, 0, 0, "", "empty"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w, h, format, err := Size(tt.buf)
			if tt.err != "" {
				if !errors.Is(err, ErrNotImage) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want ErrNotImage with %q", err, tt.err)
				}
				return
			}
			if err != nil || format != tt.format || w != tt.w || h != tt.h {
				t.Errorf("= %dx%d %q %v, want %dx%d %q", w, h, format, err, tt.w, tt.h, tt.format)
			}
		})
	}
}

// TestDecodeRefuses: an image over the limit is refused from its header
// (a 16000×16000 PNG of a few kB), at the limit it decodes; damaged files
// are ErrNotImage naming the format.
func TestDecodeRefuses(t *testing.T) {
	huge := hugePNG(t, 16000, 16000)
	if _, err := Decode(huge, 4096); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "png of 16000x16000") {
		t.Fatalf("%d-byte 16000x16000 PNG: %v, want ErrTooLarge", len(huge), err)
	}
	m, err := Decode(hugePNG(t, 64, 4096), 4096)
	if err != nil {
		t.Fatalf("64x4096 PNG at the limit: %v", err)
	}
	m.Close()
	good := hugePNG(t, 64, 64)
	for name, data := range map[string][]byte{
		"truncated png": good[:len(good)-20],
		"truncated pgm": []byte("P5 4 4 255\n\x00\x00"),
		"bad ascii pgm": []byte("P2 2 1 255\n0 x\n"),
		"sample > max":  []byte("P2 2 1 15\n0 16\n"),
	} {
		if m, err := Decode(data, 4096); !errors.Is(err, ErrNotImage) {
			m.Close()
			t.Errorf("%s: %v, want ErrNotImage", name, err)
		}
	}
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "card.png")
	src := pattern(t)
	defer src.Close()
	if err := os.WriteFile(name, encode(t, ".png", src), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Read(name)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if d := maxDiff(m, src); d != 0 {
		t.Errorf("read back with difference %d", d)
	}
	if _, err := Read(filepath.Join(dir, "missing.jpg")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte("hello"), 0o644)
	if _, err := Read(text); !errors.Is(err, ErrNotImage) || !strings.Contains(err.Error(), "notes.txt") {
		t.Errorf("text file: %v, want ErrNotImage naming the file", err)
	}
}

// FuzzDecode: any bytes give a BGR Mat of the header's size or an error,
// never a crash.
func FuzzDecode(f *testing.F) {
	f.Add([]byte("P5 2 1 255\n\x00\xff"))
	f.Add([]byte("P1 3 1 1 0 1"))
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Add(withOrientation([]byte{0xFF, 0xD8, 0xFF, 0xD9}, 6, binary.BigEndian))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(data, 512)
		if err != nil {
			return
		}
		defer m.Close()
		w, h, _, _ := Size(data)
		if m.Channels() != 3 || m.Type() != gocv.MatTypeCV8UC3 || !(m.Cols() == w && m.Rows() == h || m.Cols() == h && m.Rows() == w) {
			t.Fatalf("%dx%dx%d from a %dx%d header", m.Cols(), m.Rows(), m.Channels(), w, h)
		}
	})
}
