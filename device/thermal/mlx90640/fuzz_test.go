package mlx90640

import (
	"encoding/binary"
	"math"
	"testing"
)

func words(b []byte, n int) []uint16 {
	w := make([]uint16, n)
	for i := range w {
		if 2*i+1 < len(b) {
			w[i] = binary.BigEndian.Uint16(b[2*i:])
		}
	}
	return w
}

// FuzzExtractParams feeds arbitrary EEPROM images: the parser must never
// panic, and parameters it accepts must be usable.
func FuzzExtractParams(f *testing.F) {
	f.Add(wordBytes(readWords(f, "eeprom.hex")...))
	f.Add(make([]byte, 2*EEPROMWords))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ExtractParams(words(b, EEPROMWords))
		if err != nil {
			return
		}
		if p.KVdd >= 0 || p.GainEE == 0 || p.KtPTAT <= 0 || len(p.Broken)+len(p.Outlier) > 4 {
			t.Fatalf("accepted bad parameters: kVdd %v gainEE %v KtPTAT %v", p.KVdd, p.GainEE, p.KtPTAT)
		}
	})
}

// FuzzCompute feeds arbitrary frame RAM with the reference EEPROM: a subpage
// either fails or yields only temperatures in −40–300 °C.
func FuzzCompute(f *testing.F) {
	p, err := ExtractParams(readWords(f, "eeprom.hex"))
	if err != nil {
		f.Fatal(err)
	}
	frame := readWords(f, "frame0.hex")
	f.Add(wordBytes(frame[:RAMWords]...), uint16(0x1901), false)
	f.Add(wordBytes(frame[:RAMWords]...), uint16(0x0901), true)
	f.Fuzz(func(t *testing.T, b []byte, ctrl uint16, sp1 bool) {
		s := &Subpage{Control: ctrl}
		copy(s.RAM[:], words(b, RAMWords))
		if sp1 {
			s.Number = 1
		}
		img := make([]float64, Pixels)
		if _, err := p.Compute(s, 0.98, math.NaN(), img); err != nil {
			return
		}
		for px, v := range img {
			if s.Measures(px) && !(v >= -40 && v <= 300) {
				t.Fatalf("pixel %d = %v without an error", px, v)
			}
		}
	})
}

// BenchmarkFullFrame computes both subpages of a 32×24 frame and interpolates
// defective pixels: the work NextFrame does per frame besides the bus.
func BenchmarkFullFrame(b *testing.B) {
	p, err := ExtractParams(readWords(b, "eeprom.hex"))
	if err != nil {
		b.Fatal(err)
	}
	frame := readWords(b, "frame0.hex")
	var s0, s1 Subpage
	copy(s0.RAM[:], frame)
	s0.Control = frame[RAMWords]
	s1 = s0
	s1.Number = 1
	img := make([]float64, Pixels)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Compute(&s0, 0.98, math.NaN(), img); err != nil {
			b.Fatal(err)
		}
		if _, err := p.Compute(&s1, 0.98, math.NaN(), img); err != nil {
			b.Fatal(err)
		}
		p.Interpolate(img)
	}
}

// BenchmarkExtractParams measures the one-off EEPROM parse.
func BenchmarkExtractParams(b *testing.B) {
	ee := readWords(b, "eeprom.hex")
	for b.Loop() {
		if _, err := ExtractParams(ee); err != nil {
			b.Fatal(err)
		}
	}
}
