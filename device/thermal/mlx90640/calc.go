package mlx90640

import (
	"errors"
	"fmt"
	"math"
)

// ErrBadData reports a measurement that cannot yield temperatures: a zero
// gain word, a supply voltage or die temperature out of the sensor's range, or
// a pixel whose temperature is not a number or out of −40–300 °C.
var ErrBadData = errors.New("mlx90640: bad measurement")

// Subpage is one half-frame as read from the sensor: the measurement RAM
// (0x0400–0x073F), the control register it was taken with, and the subpage
// number from the status register (bit 0). It is the layout of Melexis'
// GetFrameData: 834 words with the control register at 832 and the subpage
// at 833.
type Subpage struct {
	RAM     [RAMWords]uint16
	Control uint16
	Number  int
}

// Chess reports whether the subpage was measured in chess mode (control
// register bit 12); otherwise it was interleaved (TV mode).
func (s *Subpage) Chess() bool { return s.Control&0x1000 != 0 }

// Measures reports whether pixel px belongs to the subpage: in chess mode the
// pixels whose row+column parity is the subpage number, in interleaved mode
// the rows whose parity is the subpage number.
func (s *Subpage) Measures(px int) bool {
	row, col := px/Width, px%Width
	if s.Chess() {
		return (row+col)%2 == s.Number
	}
	return row%2 == s.Number
}

// Aux is what a subpage says about the sensor itself.
type Aux struct {
	// VddV is the supply voltage in volts.
	VddV float64
	// TaC is the sensor's ambient (die) temperature in °C.
	TaC float64
	// TrC is the reflected temperature used, in °C.
	TrC float64
}

// frameState holds the per-subpage terms of the datasheet's §11.2.2 that
// every pixel shares.
type frameState struct {
	vdd, ta, kgain, taTr, emissivity float64
	cpOS                             float64 // compensated CP of this subpage (pix_OS_CP)
	cpAlpha                          float64 // CP sensitivity folded into every pixel's alpha
	alphaCorr                        [4]float64
	ilCorrect                        bool // interleaved/chess correction needed
}

// pixelSteps are one pixel's intermediate values, named as in the datasheet.
type pixelSteps struct {
	gain, os, irComp, alphaComp, to float64
}

// Vdd returns the supply voltage in volts (§11.2.2.2).
func (p *Params) Vdd(s *Subpage) float64 {
	resReg := int(s.Control>>10) & 0x3
	resCorr := math.Ldexp(1, p.ResolutionEE) / math.Ldexp(1, resReg)
	return (resCorr*signed(s.RAM[ramVdd], 16)-p.Vdd25)/p.KVdd + 3.3
}

// Ta returns the ambient (die) temperature in °C given the supply voltage
// (§11.2.2.3).
func (p *Params) Ta(s *Subpage, vdd float64) float64 {
	ptat := signed(s.RAM[ramPTAT], 16)
	vbe := signed(s.RAM[ramVbe], 16)
	ptatArt := ptat / (ptat*p.AlphaPTAT + vbe) * (1 << 18)
	return (ptatArt/(1+p.KvPTAT*(vdd-3.3))-p.VPTAT25)/p.KtPTAT + 25
}

// prepare computes the terms shared by the pixels of one subpage.
func (p *Params) prepare(s *Subpage, emissivity, trC float64) (frameState, Aux, error) {
	var st frameState
	if s.Number != 0 && s.Number != 1 {
		return st, Aux{}, fmt.Errorf("%w: subpage %d", ErrBadData, s.Number)
	}
	if !(emissivity > 0 && emissivity <= 1) {
		return st, Aux{}, fmt.Errorf("mlx90640: emissivity %v is outside (0, 1]", emissivity)
	}
	gainRAM := signed(s.RAM[ramGain], 16)
	if gainRAM == 0 {
		return st, Aux{}, fmt.Errorf("%w: gain word is zero", ErrBadData)
	}
	st.vdd = p.Vdd(s)
	if !(st.vdd > 2.5 && st.vdd < 4.0) {
		return st, Aux{}, fmt.Errorf("%w: supply reads %.3f V", ErrBadData, st.vdd)
	}
	st.ta = p.Ta(s, st.vdd)
	if !(st.ta > -45 && st.ta < 130) {
		return st, Aux{}, fmt.Errorf("%w: ambient reads %.2f °C", ErrBadData, st.ta)
	}
	if math.IsNaN(trC) {
		trC = st.ta - 8
	}
	st.emissivity = emissivity
	st.kgain = p.GainEE / gainRAM
	ta4 := math.Pow(st.ta+273.15, 4)
	tr4 := math.Pow(trC+273.15, 4)
	st.taTr = tr4 - (tr4-ta4)/emissivity

	// Compensation pixel of this subpage (§11.2.2.6).
	mode := int(s.Control&0x1000) >> 5
	st.ilCorrect = mode != p.CalibrationModeEE
	cpRAM := s.RAM[ramCPSP0]
	cpOff := p.CPOffset[0]
	if s.Number == 1 {
		cpRAM = s.RAM[ramCPSP1]
		cpOff = p.CPOffset[1]
		if st.ilCorrect {
			cpOff += p.ILChessC[0]
		}
	}
	st.cpOS = signed(cpRAM, 16)*st.kgain - cpOff*(1+p.CPKta*(st.ta-25))*(1+p.CPKv*(st.vdd-3.3))
	// The datasheet (§11.2.2.8) takes the CP sensitivity of the pixel's
	// subpage pattern; Melexis' library (ExtractAlphaParameters) folds the
	// mean of both into every pixel's alpha, once, at EEPROM extraction.
	// We follow the library: see TestDatasheetAndLibraryDiffer.
	st.cpAlpha = (p.CPAlpha[0] + p.CPAlpha[1]) / 2

	// Sensitivity correction per temperature range (§11.2.2.9.1.3).
	st.alphaCorr[0] = 1 / (1 + p.KsTo[0]*(p.CT[1]-p.CT[0]))
	st.alphaCorr[1] = 1
	st.alphaCorr[2] = 1 + p.KsTo[1]*(p.CT[2]-p.CT[1])
	st.alphaCorr[3] = st.alphaCorr[2] * (1 + p.KsTo[2]*(p.CT[3]-p.CT[2]))
	return st, Aux{VddV: st.vdd, TaC: st.ta, TrC: trC}, nil
}

// pixel computes one pixel's object temperature from its RAM word, with every
// intermediate step (§11.2.2.5–11.2.2.9).
func (p *Params) pixel(st *frameState, px int, raw uint16) pixelSteps {
	var r pixelSteps
	r.gain = signed(raw, 16) * st.kgain
	r.os = r.gain - p.Offset[px]*(1+p.Kta[px]*(st.ta-25))*(1+p.Kv[px]*(st.vdd-3.3))
	if st.ilCorrect {
		row := px / Width
		il := float64(row % 2)
		conv := float64((px+2)/4-(px+3)/4+(px+1)/4-px/4) * (1 - 2*il)
		r.os += p.ILChessC[2]*(2*il-1) - p.ILChessC[1]*conv
	}
	// The datasheet (§11.2.2.7) divides by emissivity, then subtracts the
	// gradient term TGC·pix_OS_CP; Melexis' library (CalculateTo) subtracts
	// first and divides the difference. We follow the library: the
	// gradient term is the sensor's own signal, not the object's
	// radiation, so emissivity must not scale it. See
	// TestDatasheetAndLibraryDiffer.
	r.irComp = (r.os - p.TGC*st.cpOS) / st.emissivity
	r.alphaComp = (p.Alpha[px] - p.TGC*st.cpAlpha) * (1 + p.KsTa*(st.ta-25))

	r.to = p.objectTemp(st, r.irComp, r.alphaComp)
	return r
}

// objectTemp returns the object temperature in °C from a pixel's compensated
// IR signal and sensitivity: the basic range 0 °C–CT3 first (§11.2.2.9), then
// the extended ranges below 0 °C and above CT3 (§11.2.2.9.1).
func (p *Params) objectTemp(st *frameState, irComp, a float64) float64 {
	sx := p.KsTo[1] * math.Sqrt(math.Sqrt(a*a*a*irComp+a*a*a*a*st.taTr))
	to := math.Sqrt(math.Sqrt(irComp/(a*(1-p.KsTo[1]*273.15)+sx)+st.taTr)) - 273.15
	if rg := p.rangeOf(to); rg != 1 {
		to = math.Sqrt(math.Sqrt(irComp/(a*st.alphaCorr[rg]*(1+p.KsTo[rg]*(to-p.CT[rg])))+st.taTr)) - 273.15
	}
	return to
}

// rangeOf returns the temperature range (0–3) of a first estimate.
func (p *Params) rangeOf(to float64) int {
	switch {
	case to < p.CT[1]:
		return 0
	case to < p.CT[2]:
		return 1
	case to < p.CT[3]:
		return 2
	}
	return 3
}

// Compute writes the object temperature in °C of every pixel the subpage
// measured into img (768 values, row by row); the other pixels keep their
// values, so applying both subpages in turn builds the full image. emissivity
// is the object's emissivity (0, 1]; trC the reflected temperature in °C, or
// NaN for Ta − 8 °C (Melexis' value for a sensor in open air). Pixels that
// come out NaN or outside −40–300 °C make it return an error wrapping
// ErrBadData, with img partly written.
func (p *Params) Compute(s *Subpage, emissivity, trC float64, img []float64) (Aux, error) {
	if len(img) != Pixels {
		return Aux{}, fmt.Errorf("mlx90640: image of %d pixels, want %d", len(img), Pixels)
	}
	st, aux, err := p.prepare(s, emissivity, trC)
	if err != nil {
		return aux, err
	}
	bad, first := 0, -1
	for row := range Height {
		// The subpage's pixels in this row: every other one in chess
		// mode, the whole row or none in interleaved mode.
		col, step := 0, 1
		switch {
		case s.Chess():
			col, step = (row+s.Number)%2, 2
		case row%2 != s.Number:
			continue
		}
		for ; col < Width; col += step {
			px := row*Width + col
			to := p.pixel(&st, px, s.RAM[px]).to
			img[px] = to
			if !(to >= -40 && to <= 300) && !p.defective(px) {
				if bad == 0 {
					first = px
				}
				bad++
			}
		}
	}
	if bad > 0 {
		return aux, fmt.Errorf("%w: %d pixels out of range, first (%d,%d) = %v °C",
			ErrBadData, bad, first%Width, first/Width, img[first])
	}
	return aux, nil
}

// Interpolate replaces every broken or outlier pixel of a full image with the
// mean of its good neighbours (left, right, up, down).
func (p *Params) Interpolate(img []float64) {
	for _, px := range p.Defective() {
		row, col := px/Width, px%Width
		sum, n := 0.0, 0
		for _, d := range [4][2]int{{0, -1}, {0, 1}, {-1, 0}, {1, 0}} {
			r, c := row+d[0], col+d[1]
			if r < 0 || r >= Height || c < 0 || c >= Width || p.defective(r*Width+c) {
				continue
			}
			sum += img[r*Width+c]
			n++
		}
		if n > 0 {
			img[px] = sum / float64(n)
		}
	}
}
