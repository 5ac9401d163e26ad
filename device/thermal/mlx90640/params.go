package mlx90640

import (
	"errors"
	"fmt"
	"math"
)

// Geometry and memory map of the MLX90640 (datasheet §9, §11.1).
const (
	// Width and Height are the sensor's size in pixels.
	Width, Height = 32, 24
	// Pixels is Width*Height.
	Pixels = Width * Height
	// EEPROMWords is the size of the EEPROM at 0x2400–0x273F in 16-bit words.
	EEPROMWords = 832
	// RAMWords is the size of the measurement RAM at 0x0400–0x073F in words:
	// 768 pixel words and 64 auxiliary words (Ta, Vdd, gain, CP).
	RAMWords = 832

	eepromAddr  = 0x2400
	eepromEnd   = 0x273F
	ramAddr     = 0x0400
	statusAddr  = 0x8000
	controlAddr = 0x800D
)

// Auxiliary words, as indexes into the RAM image (address − 0x0400).
const (
	ramVbe   = 0x0700 - ramAddr
	ramCPSP0 = 0x0708 - ramAddr
	ramGain  = 0x070A - ramAddr
	ramPTAT  = 0x0720 - ramAddr
	ramCPSP1 = 0x0728 - ramAddr
	ramVdd   = 0x072A - ramAddr
)

// ErrEEPROM reports calibration data that cannot come from a working sensor
// (erased, all ones, a stuck bus, or values no device is calibrated with). A
// sensor with such an EEPROM is faulty: it never yields temperatures.
var ErrEEPROM = errors.New("mlx90640: bad eeprom")

// Params are the calibration parameters extracted from the EEPROM, in the
// units the datasheet's temperature equations use (§11.1). Per-pixel arrays are
// indexed row*32+column.
type Params struct {
	KVdd, Vdd25       float64 // supply voltage sensitivity and value at 25 °C (LSB)
	KvPTAT, KtPTAT    float64 // PTAT supply and temperature sensitivities
	VPTAT25           float64 // PTAT at 25 °C
	AlphaPTAT         float64
	GainEE            float64
	TGC               float64 // thermal gradient coefficient
	CPKv, CPKta       float64 // compensation pixel Kv and Kta
	ResolutionEE      int     // ADC resolution the sensor was calibrated at (0–3)
	CalibrationModeEE int     // 0x80 when calibrated in chess mode, 0 for interleaved (as the control register's bit 12 >> 5)
	KsTa              float64
	KsTo              [4]float64 // per temperature range: <CT1, CT1–CT2, CT2–CT3, ≥CT3
	CT                [4]float64 // range corners in °C: −40, 0, CT3, CT4
	CPAlpha           [2]float64 // compensation pixel sensitivity, subpage 0 and 1
	CPOffset          [2]float64 // compensation pixel offset, subpage 0 and 1
	ILChessC          [3]float64 // interleaved/chess corrections IL_CHESS_C1..C3

	Alpha  [Pixels]float64 // sensitivity
	Offset [Pixels]float64
	Kta    [Pixels]float64
	Kv     [Pixels]float64

	// Broken lists pixels whose EEPROM word is zero (no calibration), and
	// Outlier those flagged as outliers (bit 0). Their temperatures are
	// interpolated from their neighbours.
	Broken, Outlier []int
}

// signed returns the n-bit two's complement value of v.
func signed(v uint16, bits uint) float64 {
	x := int(v) & (1<<bits - 1)
	if x >= 1<<(bits-1) {
		x -= 1 << bits
	}
	return float64(x)
}

// ExtractParams derives every calibration parameter from an EEPROM image of
// 832 words (0x2400–0x273F), following the datasheet's §11.1. It returns an
// error wrapping ErrEEPROM when the image is the wrong size or cannot belong to
// a working sensor.
func ExtractParams(ee []uint16) (*Params, error) {
	if len(ee) != EEPROMWords {
		return nil, fmt.Errorf("%w: %d words, want %d", ErrEEPROM, len(ee), EEPROMWords)
	}
	if err := checkBlank(ee); err != nil {
		return nil, err
	}
	p := &Params{}
	w := func(addr int) uint16 { return ee[addr-eepromAddr] }

	// Supply voltage (§11.1.1) and ambient temperature (§11.1.2).
	p.KVdd = signed(w(0x2433)>>8, 8) * 32
	p.Vdd25 = (float64(w(0x2433)&0xFF)-256)*32 - 8192
	p.KvPTAT = signed(w(0x2432)>>10, 6) / 4096
	p.KtPTAT = signed(w(0x2432), 10) / 8
	p.VPTAT25 = signed(w(0x2431), 16)
	p.AlphaPTAT = float64(w(0x2410)>>12)/4 + 8
	p.GainEE = signed(w(0x2430), 16)
	p.ResolutionEE = int(w(0x2438)>>12) & 0x3
	p.CalibrationModeEE = int(w(0x240A)&0x0800)>>4 ^ 0x80

	// Offsets (§11.1.3).
	offAvg := signed(w(0x2411), 16)
	occRowScale := w(0x2410) >> 8 & 0xF
	occColScale := w(0x2410) >> 4 & 0xF
	occRemScale := w(0x2410) & 0xF
	// Sensitivities (§11.1.6).
	alphaRef := float64(w(0x2421))
	alphaScale := int(w(0x2420)>>12) + 30
	accRowScale := w(0x2420) >> 8 & 0xF
	accColScale := w(0x2420) >> 4 & 0xF
	accRemScale := w(0x2420) & 0xF
	// Kta (§11.1.4) and Kv (§11.1.5): one base value per row/column parity;
	// index = 2*(row odd) + (column odd), rows and columns counted from 0.
	ktaRC := [4]float64{
		signed(w(0x2436)>>8, 8), signed(w(0x2437)>>8, 8),
		signed(w(0x2436), 8), signed(w(0x2437), 8),
	}
	ktaScale1 := int(w(0x2438)>>4&0xF) + 8
	ktaScale2 := uint(w(0x2438) & 0xF)
	kvRC := [4]float64{
		signed(w(0x2434)>>12, 4), signed(w(0x2434)>>4, 4),
		signed(w(0x2434)>>8, 4), signed(w(0x2434), 4),
	}
	kvScale := int(w(0x2438) >> 8 & 0xF)

	for i := range Height {
		occRow := signed(w(0x2412+i/4)>>(4*uint(i%4)), 4)
		accRow := signed(w(0x2422+i/4)>>(4*uint(i%4)), 4)
		for j := range Width {
			px := i*Width + j
			occCol := signed(w(0x2418+j/4)>>(4*uint(j%4)), 4)
			accCol := signed(w(0x2428+j/4)>>(4*uint(j%4)), 4)
			pw := w(0x2440 + px)
			p.Offset[px] = offAvg + occRow*float64(int(1)<<occRowScale) +
				occCol*float64(int(1)<<occColScale) + signed(pw>>10, 6)*float64(int(1)<<occRemScale)
			p.Alpha[px] = (alphaRef + accRow*float64(int(1)<<accRowScale) +
				accCol*float64(int(1)<<accColScale) + signed(pw>>4, 6)*float64(int(1)<<accRemScale)) /
				math.Ldexp(1, alphaScale)
			split := 2*(i%2) + j%2
			p.Kta[px] = (ktaRC[split] + signed(pw>>1, 3)*float64(int(1)<<ktaScale2)) / math.Ldexp(1, ktaScale1)
			p.Kv[px] = kvRC[split] / math.Ldexp(1, kvScale)
			switch {
			case pw == 0:
				p.Broken = append(p.Broken, px)
			case pw&1 != 0:
				p.Outlier = append(p.Outlier, px)
			}
		}
	}

	// Compensation pixels (§11.1.7–11.1.9), TGC, KsTa, KsTo and the range
	// corners (§11.1.10–11.1.13), interleaved/chess corrections.
	cpAlphaScale := int(w(0x2420)>>12) + 27
	p.CPAlpha[0] = float64(w(0x2439)&0x03FF) / math.Ldexp(1, cpAlphaScale)
	p.CPAlpha[1] = p.CPAlpha[0] * (1 + signed(w(0x2439)>>10, 6)/128)
	p.CPOffset[0] = signed(w(0x243A), 10)
	p.CPOffset[1] = p.CPOffset[0] + signed(w(0x243A)>>10, 6)
	p.CPKv = signed(w(0x243B)>>8, 8) / math.Ldexp(1, kvScale)
	p.CPKta = signed(w(0x243B), 8) / math.Ldexp(1, ktaScale1)
	p.TGC = signed(w(0x243C), 8) / 32
	p.KsTa = signed(w(0x243C)>>8, 8) / 8192
	ksToScale := int(w(0x243F)&0xF) + 8
	p.KsTo[0] = signed(w(0x243D), 8) / math.Ldexp(1, ksToScale)
	p.KsTo[1] = signed(w(0x243D)>>8, 8) / math.Ldexp(1, ksToScale)
	p.KsTo[2] = signed(w(0x243E), 8) / math.Ldexp(1, ksToScale)
	p.KsTo[3] = signed(w(0x243E)>>8, 8) / math.Ldexp(1, ksToScale)
	step := float64(w(0x243F)>>12&0x3) * 10
	p.CT[0] = -40
	p.CT[1] = 0
	p.CT[2] = float64(w(0x243F)>>4&0xF) * step
	p.CT[3] = float64(w(0x243F)>>8&0xF)*step + p.CT[2]
	p.ILChessC[0] = signed(w(0x2435), 6) / 16
	p.ILChessC[1] = signed(w(0x2435)>>6, 5) / 2
	p.ILChessC[2] = signed(w(0x2435)>>11, 5) / 8

	if err := p.check(); err != nil {
		return nil, err
	}
	return p, nil
}

// checkBlank rejects an EEPROM that is all one value: erased (0xFFFF), a bus
// that reads all ones or all zeros.
func checkBlank(ee []uint16) error {
	for _, v := range ee[1:] {
		if v != ee[0] {
			return nil
		}
	}
	return fmt.Errorf("%w: every word reads %#04x (erased EEPROM or stuck bus)", ErrEEPROM, ee[0])
}

// check rejects parameters no calibrated sensor has, so that a corrupted
// EEPROM is a fault and never a temperature.
func (p *Params) check() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if p.KVdd >= 0 {
		bad("kVdd %v is not negative", p.KVdd)
	}
	if p.KtPTAT <= 0 {
		bad("KtPTAT %v is not positive", p.KtPTAT)
	}
	if p.VPTAT25 <= 0 {
		bad("vPTAT25 %v is not positive", p.VPTAT25)
	}
	if p.GainEE == 0 {
		bad("gainEE is zero")
	}
	if p.CPAlpha[0] <= 0 || p.CPAlpha[1] <= 0 {
		bad("compensation pixel alpha %v is not positive", p.CPAlpha)
	}
	for px, a := range p.Alpha {
		if a <= 0 && !p.defective(px) {
			bad("pixel (%d,%d) alpha %v is not positive", px%Width, px/Width, a)
			break
		}
	}
	if p.CT[2] <= 0 || p.CT[3] < p.CT[2] {
		bad("temperature range corners %v are out of order", p.CT)
	}
	if n := len(p.Broken) + len(p.Outlier); n > 4 {
		bad("%d broken or outlier pixels (at most 4 are allowed)", n)
	} else if a, b, ok := p.adjacentDefects(); ok {
		bad("defective pixels (%d,%d) and (%d,%d) are adjacent and cannot be interpolated",
			a%Width, a/Width, b%Width, b/Width)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrEEPROM, errors.Join(errs...))
	}
	return nil
}

// Defective returns the broken and outlier pixels, as indexes row*32+column.
func (p *Params) Defective() []int {
	return append(append([]int(nil), p.Broken...), p.Outlier...)
}

func (p *Params) defective(px int) bool {
	for _, d := range p.Broken {
		if d == px {
			return true
		}
	}
	for _, d := range p.Outlier {
		if d == px {
			return true
		}
	}
	return false
}

// adjacentDefects reports two defective pixels that touch, including
// diagonally: interpolation needs good neighbours.
func (p *Params) adjacentDefects() (a, b int, ok bool) {
	d := p.Defective()
	for i := range d {
		for j := i + 1; j < len(d); j++ {
			dr := d[i]/Width - d[j]/Width
			dc := d[i]%Width - d[j]%Width
			if dr >= -1 && dr <= 1 && dc >= -1 && dc <= 1 {
				return d[i], d[j], true
			}
		}
	}
	return 0, 0, false
}
