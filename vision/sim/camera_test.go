package sim

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// solid returns a w×h image of one colour.
func solid(w, h int, c color.RGBA) *image.RGBA {
	im := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(im.Pix); i += 4 {
		im.Pix[i], im.Pix[i+1], im.Pix[i+2], im.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	return im
}

func TestReadFace(t *testing.T) {
	dir := t.TempDir()
	red := color.RGBA{R: 200, G: 10, B: 30, A: 255}
	var pngBuf, jpgBuf bytes.Buffer
	if err := png.Encode(&pngBuf, solid(40, 30, red)); err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(&jpgBuf, solid(40, 30, red), &jpeg.Options{Quality: 100}); err != nil {
		t.Fatal(err)
	}
	// A binary PGM (P5), which Go's decoders do not read: OpenCV's turn.
	pgm := append([]byte("P5\n40 30\n255\n"), bytes.Repeat([]byte{77}, 40*30)...)
	files := map[string][]byte{"face.png": pngBuf.Bytes(), "face.jpg": jpgBuf.Bytes(), "face.pgm": pgm, "face.txt": []byte("not an image")}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		file    string
		wantErr bool
		tol     int     // per channel, JPEG is lossy
		want    []uint8 // BGR; nil: red's
	}{
		{"face.png", false, 0, nil},
		{"face.jpg", false, 3, nil},
		{"face.pgm", false, 0, []uint8{77, 77, 77}},
		{"face.txt", true, 0, nil},
		{"missing.jpg", true, 0, nil},
	} {
		t.Run(tc.file, func(t *testing.T) {
			m, err := readFace(filepath.Join(dir, tc.file))
			if tc.wantErr {
				if err == nil {
					m.Close()
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if m.Cols() != 40 || m.Rows() != 30 || m.Channels() != 3 {
				t.Fatalf("%dx%d, %d channels, want 40x30, 3", m.Cols(), m.Rows(), m.Channels())
			}
			// OpenCV's order: blue, green, red.
			want := tc.want
			if want == nil {
				want = []uint8{red.B, red.G, red.R}
			}
			v := m.GetVecbAt(15, 20)
			for i := range want {
				if d := int(v[i]) - int(want[i]); d > tc.tol || d < -tc.tol {
					t.Fatalf("pixel (20,15) = %v (BGR), want %v±%d", v, want, tc.tol)
				}
			}
		})
	}
}

// TestShowLeavesGDALAlone: showing a face photo does not go through OpenCV's
// imgcodecs, whose first imread registers every GDAL driver (about 8.5 MB of
// GDAL's code paged into the daemon).
func TestShowLeavesGDALAlone(t *testing.T) {
	switch n := gdalDrivers(); {
	case n < 0:
		t.Skip("GDAL is not loaded in this build")
	case n > 0:
		t.Skipf("GDAL already has %d drivers registered before Show", n)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, solid(64, 64, color.RGBA{R: 180, G: 150, B: 120, A: 255}), nil); err != nil {
		t.Fatal(err)
	}
	face := filepath.Join(t.TempDir(), "face.jpg")
	if err := os.WriteFile(face, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := New(320, 240, 10)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r, err := c.Show(face, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Empty() {
		t.Fatal("Show: empty face rectangle")
	}
	if n := gdalDrivers(); n != 0 {
		t.Fatalf("%d GDAL drivers registered after Show", n)
	}
}
