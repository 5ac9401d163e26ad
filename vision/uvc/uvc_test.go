package uvc

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"github.com/gateguard/gateguard/device/thermal"
)

// writeSequence writes 16-bit PNGs frame000.png… with pixel (x, y) of frame
// n at val(n, x, y) centikelvin, and returns the printf pattern.
func writeSequence(t *testing.T, n, w, h int, val func(n, x, y int) uint16) string {
	t.Helper()
	dir := t.TempDir()
	for k := range n {
		m := gocv.NewMatWithSize(h, w, gocv.MatTypeCV16UC1)
		for y := range h {
			for x := range w {
				m.SetShortAt(y, x, int16(val(k, x, y)))
			}
		}
		if !gocv.IMWrite(filepath.Join(dir, fmt.Sprintf("frame%03d.png", k)), m) {
			t.Fatal("IMWrite failed")
		}
		m.Close()
	}
	return filepath.Join(dir, "frame%03d.png")
}

func TestImageSequence(t *testing.T) {
	// 30.00 °C + x/100 + y/10 + n/100 centikelvin, up to ~49 °C.
	val := func(n, x, y int) uint16 { return uint16(27315 + 3000 + x + 10*y + n) }
	pattern := writeSequence(t, 3, 160, 120, val)
	d, err := Open(pattern, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Halt()
	var f thermal.Frame
	for n := range 3 {
		if err := d.NextFrame(&f); err != nil {
			t.Fatalf("frame %d: %v", n, err)
		}
		if f.W != 160 || f.H != 120 || f.Seq != uint64(n+1) {
			t.Fatalf("frame %dx%d seq %d", f.W, f.H, f.Seq)
		}
		for _, pt := range [][2]int{{0, 0}, {159, 0}, {17, 63}, {159, 119}} {
			want := float32(float64(val(n, pt[0], pt[1]))/100 - 273.15)
			if got := f.At(pt[0], pt[1]); got != want {
				t.Errorf("frame %d (%d,%d) = %v, want %v", n, pt[0], pt[1], got, want)
			}
		}
		if err := f.Check(); err != nil {
			t.Error(err)
		}
	}
	if err := d.NextFrame(&f); !errors.Is(err, ErrNoFrame) {
		t.Errorf("after the last frame: %v", err)
	}
	if !strings.HasPrefix(d.String(), "UVC{") {
		t.Errorf("String %q", d)
	}
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	if err := d.NextFrame(&f); !errors.Is(err, ErrHalted) {
		t.Errorf("after Halt: %v", err)
	}
}

func TestBadFrames(t *testing.T) {
	t.Run("not radiometric", func(t *testing.T) {
		// AGC output: 14-bit counts, far below −40 °C in centikelvin.
		pattern := writeSequence(t, 1, 160, 120, func(int, int, int) uint16 { return 8192 })
		d, err := Open(pattern, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Halt()
		var f thermal.Frame
		if err := d.NextFrame(&f); !errors.Is(err, ErrBadData) || !strings.Contains(err.Error(), "radiometric") {
			t.Errorf("NextFrame = %v", err)
		}
		if len(f.C) != 0 {
			t.Error("frame filled")
		}
	})
	t.Run("huge frame", func(t *testing.T) {
		pattern := writeSequence(t, 1, MaxSide+1, 2, func(int, int, int) uint16 { return 30715 })
		d, err := Open(pattern, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Halt()
		var f thermal.Frame
		if err := d.NextFrame(&f); !errors.Is(err, ErrBadData) {
			t.Errorf("NextFrame = %v, want ErrBadData", err)
		}
		if len(f.C) != 0 {
			t.Error("frame filled")
		}
	})
	t.Run("8-bit image", func(t *testing.T) {
		dir := t.TempDir()
		m := gocv.NewMatWithSize(120, 160, gocv.MatTypeCV8UC3)
		defer m.Close()
		gocv.IMWrite(filepath.Join(dir, "frame000.png"), m)
		d, err := Open(filepath.Join(dir, "frame%03d.png"), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Halt()
		if err := d.NextFrame(&thermal.Frame{}); !errors.Is(err, ErrBadData) || !strings.Contains(err.Error(), "16-bit") {
			t.Errorf("NextFrame = %v", err)
		}
	})
	t.Run("frozen", func(t *testing.T) {
		pattern := writeSequence(t, 3, 16, 12, func(int, int, int) uint16 { return 31000 })
		d, err := Open(pattern, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Halt()
		var f thermal.Frame
		for range 2 {
			if err := d.NextFrame(&f); err != nil {
				t.Fatal(err)
			}
		}
		if err := d.NextFrame(&f); !errors.Is(err, ErrFrozen) {
			t.Errorf("third identical frame: %v", err)
		}
	})
	t.Run("missing", func(t *testing.T) {
		if _, err := Open(filepath.Join(t.TempDir(), "none%03d.png"), nil); err == nil {
			t.Error("opened a missing sequence")
		}
	})
}

func FuzzDecodeY16(f *testing.F) {
	f.Add([]byte{0x5d, 0x79, 0x00, 0x00}, 2, 1)
	f.Add([]byte{0x5d, 0x79, 0x5d, 0x79, 0x5d, 0x79, 0x5d, 0x79}, 2, 2)
	f.Fuzz(func(t *testing.T, raw []byte, w, h int) {
		if w > 1<<12 || h > 1<<12 || w < -1 || h < -1 {
			return
		}
		c := make([]float32, max(w*h, 0))
		if err := DecodeY16(raw, w, h, c); err != nil {
			return
		}
		for i, v := range c {
			if v < -40 || v > 300 {
				t.Fatalf("pixel %d = %v", i, v)
			}
		}
	})
}
