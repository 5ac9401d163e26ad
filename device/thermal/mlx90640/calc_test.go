package mlx90640

import (
	"math"
	"testing"
)

func TestMeasures(t *testing.T) {
	for _, tt := range []struct {
		ctrl   uint16
		number int
		px     []int // row*32+col measured
		not    []int
	}{
		{0x1901, 0, []int{0, 2, 33, 35, 64}, []int{1, 32, 34, 65}},         // chess
		{0x1901, 1, []int{1, 32, 34, 65}, []int{0, 2, 33, 64}},             // chess
		{0x0901, 0, []int{0, 1, 31, 64, 65}, []int{32, 33, 63, 96}},        // interleaved: even rows
		{0x0901, 1, []int{32, 33, 63, 96, 767}, []int{0, 1, 64, 766 - 32}}, // odd rows
	} {
		s := &Subpage{Control: tt.ctrl, Number: tt.number}
		for _, px := range tt.px {
			if !s.Measures(px) {
				t.Errorf("control %#04x subpage %d should measure pixel %d", tt.ctrl, tt.number, px)
			}
		}
		for _, px := range tt.not {
			if s.Measures(px) {
				t.Errorf("control %#04x subpage %d should not measure pixel %d", tt.ctrl, tt.number, px)
			}
		}
	}
}

// TestInterleavedCorrection computes the reference frame as if measured in
// interleaved mode on this chess-calibrated sensor: only even rows are
// written, and each differs from the chess result by exactly the
// IL_CHESS corrections of §11.2.2.5.
func TestInterleavedCorrection(t *testing.T) {
	p, err := ExtractParams(readWords(t, "eeprom.hex"))
	if err != nil {
		t.Fatal(err)
	}
	if p.CalibrationModeEE != 0x80 {
		t.Fatalf("calibration mode %#x, want chess", p.CalibrationModeEE)
	}
	frame := readWords(t, "frame0.hex")
	chess := &Subpage{Control: 0x1901}
	copy(chess.RAM[:], frame)
	il := *chess
	il.Control = 0x0901
	stC, _, err := p.prepare(chess, 1, math.NaN())
	if err != nil {
		t.Fatal(err)
	}
	stI, _, err := p.prepare(&il, 1, math.NaN())
	if err != nil {
		t.Fatal(err)
	}
	if stC.ilCorrect || !stI.ilCorrect {
		t.Fatalf("correction flags chess %v interleaved %v", stC.ilCorrect, stI.ilCorrect)
	}
	for _, px := range []int{0, 1, 2, 3, 5, 70, 401} {
		c, i := p.pixel(&stC, px, chess.RAM[px]), p.pixel(&stI, px, il.RAM[px])
		row := float64(px / Width % 2)
		conv := float64((px+2)/4-(px+3)/4+(px+1)/4-px/4) * (1 - 2*row)
		want := p.ILChessC[2]*(2*row-1) - p.ILChessC[1]*conv
		if d := i.os - c.os; math.Abs(d-want) > 1e-9 {
			t.Errorf("pixel %d: correction %v, want %v", px, d, want)
		}
	}
	img := make([]float64, Pixels)
	for i := range img {
		img[i] = -999
	}
	if _, err := p.Compute(&il, 1, math.NaN(), img); err != nil {
		t.Fatal(err)
	}
	for px, v := range img {
		if (px/Width%2 == 0) == (v == -999) {
			t.Fatalf("pixel %d (row %d) = %v", px, px/Width, v)
		}
	}
}
