// Package conformance checks the mlx90640 package's temperature math against
// Melexis' reference vectors: an EEPROM dump, frames in the layout of
// Melexis' GetFrameData, and the expected object temperatures after each frame,
// plus the reference cases listed in reference_cases.json (other emissivities,
// subpage 1, interleaved mode, a non-zero TGC), each computed with Melexis' C
// library (see ../shared/testdata/mlx90640/README.md from the repository
// root). It is used by `make conformance-mlx90640` and by the driver's tests.
package conformance

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gateguard/gateguard/device/thermal/mlx90640"
)

// The recipe of Melexis' example data: emissivity 1 and a reflected
// temperature 8 °C below the sensor's ambient.
const (
	emissivity = 1.0
	trShiftC   = -8.0
)

// CasesFile lists the reference cases beside the frames.
const CasesFile = "reference_cases.json"

// Case is one reference case of reference_cases.json: an EEPROM dump and one
// frame (834 words as frameN.hex), the emissivity it was computed at, and
// the expected temperatures (24×32 CSV; pixels outside the frame's subpage
// are 0). The reflected temperature is Ta − 8 °C, as for the frames.
type Case struct {
	Name       string  `json:"name"`
	EEPROM     string  `json:"eeprom"`
	Frame      string  `json:"frame"`
	Emissivity float64 `json:"emissivity"`
	Expected   string  `json:"expected"`
}

// Result is what a run compared.
type Result struct {
	// Frames is the number of frames applied, reference cases included.
	Frames int
	// Pixels is the number of expected cells compared.
	Pixels int
	// MaxErrC is the largest absolute difference in °C.
	MaxErrC float64
	// Worst is where MaxErrC is: the frame ("frame0") or case name, row and
	// column.
	Worst struct {
		Name     string
		Row, Col int
	}
}

// String is the summary line: "frames=F pixels=P max_err_c=E".
func (r Result) String() string {
	return fmt.Sprintf("frames=%d pixels=%d max_err_c=%.6f", r.Frames, r.Pixels, r.MaxErrC)
}

// add folds one frame's or case's comparison into r.
func (r *Result) add(name string, c compared) {
	r.Frames++
	if c.cells > 0 && (c.maxErr > r.MaxErrC || r.Pixels == 0) {
		r.MaxErrC = c.maxErr
		r.Worst.Name, r.Worst.Row, r.Worst.Col = name, c.worst/mlx90640.Width, c.worst%mlx90640.Width
	}
	r.Pixels += c.cells
}

// compared is one comparison of an image with its expected values.
type compared struct {
	cells  int
	maxErr float64
	worst  int // pixel index of maxErr
}

// compare compares img with want on the pixels keep selects; a NaN in img
// counts as an infinite error.
func compare(img, want []float64, keep func(px int) bool) compared {
	var c compared
	for px, wv := range want {
		if !keep(px) {
			continue
		}
		d := math.Abs(img[px] - wv)
		if math.IsNaN(d) {
			d = math.Inf(1)
		}
		if c.cells == 0 || d > c.maxErr {
			c.maxErr, c.worst = d, px
		}
		c.cells++
	}
	return c
}

// Run reads dir/eeprom.hex, then applies dir/frame0.hex, frame1.hex, … in
// order to one image and, after frame N, compares every non-zero cell of
// dir/to_frameN.csv when that file exists. Then it runs every case of
// dir/reference_cases.json when that file exists, each on its own image,
// counted as a frame. Each frame's and case's line goes to w.
func Run(dir string, w io.Writer) (Result, error) {
	var res Result
	if err := runFrames(dir, w, &res); err != nil {
		return res, err
	}
	cases, err := ReadCases(filepath.Join(dir, CasesFile))
	if errors.Is(err, os.ErrNotExist) {
		return res, nil
	}
	if err != nil {
		return res, err
	}
	for _, c := range cases {
		cr, err := RunCase(dir, c)
		if err != nil {
			return res, err
		}
		res.add(c.Name, compared{cells: cr.Pixels, maxErr: cr.MaxErrC, worst: cr.Row*mlx90640.Width + cr.Col})
		fmt.Fprintf(w, "case %q: subpage=%d vdd_v=%.6f ta_c=%.6f pixels=%d max_err_c=%.6f\n",
			c.Name, cr.Subpage, cr.Aux.VddV, cr.Aux.TaC, cr.Pixels, cr.MaxErrC)
	}
	return res, nil
}

// runFrames applies the numbered frames of dir to one image.
func runFrames(dir string, w io.Writer, res *Result) error {
	p, err := readParams(filepath.Join(dir, "eeprom.hex"))
	if err != nil {
		return err
	}
	img := make([]float64, mlx90640.Pixels)
	for n := 0; ; n++ {
		name := filepath.Join(dir, fmt.Sprintf("frame%d.hex", n))
		s, err := ReadSubpage(name)
		if errors.Is(err, os.ErrNotExist) {
			break
		}
		if err != nil {
			return err
		}
		vdd := p.Vdd(s)
		ta := p.Ta(s, vdd)
		aux, err := p.Compute(s, emissivity, ta+trShiftC, img)
		if err != nil {
			return fmt.Errorf("conformance: %s: %w", name, err)
		}
		want, err := ReadCSV(filepath.Join(dir, fmt.Sprintf("to_frame%d.csv", n)))
		if errors.Is(err, os.ErrNotExist) {
			res.add(fmt.Sprintf("frame%d", n), compared{})
			fmt.Fprintf(w, "frame%d: subpage=%d vdd_v=%.6f ta_c=%.6f (no to_frame%d.csv)\n", n, s.Number, aux.VddV, aux.TaC, n)
			continue
		}
		if err != nil {
			return err
		}
		c := compare(img, want, func(px int) bool { return want[px] != 0 })
		res.add(fmt.Sprintf("frame%d", n), c)
		fmt.Fprintf(w, "frame%d: subpage=%d vdd_v=%.6f ta_c=%.6f pixels=%d max_err_c=%.6f\n",
			n, s.Number, aux.VddV, aux.TaC, c.cells, c.maxErr)
	}
	if res.Frames == 0 {
		return fmt.Errorf("conformance: %s: no frame0.hex", dir)
	}
	return nil
}

// CaseResult is what one reference case compared.
type CaseResult struct {
	// Subpage is the frame's subpage number.
	Subpage int
	// Aux is what the driver computed for the frame (Vdd, Ta, Tr).
	Aux mlx90640.Aux
	// Image is the driver's image: the subpage's pixels, the others 0.
	Image []float64
	// Pixels is the number of pixels compared: those the subpage measured.
	Pixels int
	// MaxErrC is the largest absolute difference in °C, at Row and Col.
	MaxErrC  float64
	Row, Col int
}

// RunCase computes one reference case with files in dir and compares every
// pixel the frame's subpage measured with the expected values.
func RunCase(dir string, c Case) (CaseResult, error) {
	var r CaseResult
	p, err := readParams(filepath.Join(dir, c.EEPROM))
	if err != nil {
		return r, err
	}
	s, err := ReadSubpage(filepath.Join(dir, c.Frame))
	if err != nil {
		return r, err
	}
	want, err := ReadCSV(filepath.Join(dir, c.Expected))
	if err != nil {
		return r, err
	}
	ta := p.Ta(s, p.Vdd(s))
	r.Image = make([]float64, mlx90640.Pixels)
	r.Subpage = s.Number
	r.Aux, err = p.Compute(s, c.Emissivity, ta+trShiftC, r.Image)
	if err != nil {
		return r, fmt.Errorf("conformance: case %q: %w", c.Name, err)
	}
	cmp := compare(r.Image, want, s.Measures)
	r.Pixels, r.MaxErrC, r.Row, r.Col = cmp.cells, cmp.maxErr, cmp.worst/mlx90640.Width, cmp.worst%mlx90640.Width
	return r, nil
}

// ReadCases reads a reference_cases.json and checks that every case names
// its files and an emissivity in (0, 1].
func ReadCases(name string) ([]Case, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("conformance: %w", err)
	}
	var doc struct {
		Cases []Case `json:"cases"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("conformance: %s: %w", name, err)
	}
	if len(doc.Cases) == 0 {
		return nil, fmt.Errorf("conformance: %s: no cases", name)
	}
	for i, c := range doc.Cases {
		if c.Name == "" || c.EEPROM == "" || c.Frame == "" || c.Expected == "" {
			return nil, fmt.Errorf("conformance: %s: case %d: name, eeprom, frame and expected are required", name, i)
		}
		if !(c.Emissivity > 0 && c.Emissivity <= 1) {
			return nil, fmt.Errorf("conformance: %s: case %q: emissivity %v is outside (0, 1]", name, c.Name, c.Emissivity)
		}
	}
	return doc.Cases, nil
}

// readParams reads an EEPROM dump and extracts its parameters.
func readParams(name string) (*mlx90640.Params, error) {
	ee, err := ReadHex(name, mlx90640.EEPROMWords)
	if err != nil {
		return nil, err
	}
	p, err := mlx90640.ExtractParams(ee)
	if err != nil {
		return nil, fmt.Errorf("conformance: %s: %w", name, err)
	}
	return p, nil
}

// ReadSubpage reads a frame file in GetFrameData's layout: 832 RAM words,
// the control register and the subpage number.
func ReadSubpage(name string) (*mlx90640.Subpage, error) {
	words, err := ReadHex(name, mlx90640.RAMWords+2)
	if err != nil {
		return nil, err
	}
	var s mlx90640.Subpage
	copy(s.RAM[:], words)
	s.Control, s.Number = words[mlx90640.RAMWords], int(words[mlx90640.RAMWords+1])
	if s.Number > 1 {
		return nil, fmt.Errorf("conformance: %s: subpage %d, want 0 or 1", name, s.Number)
	}
	return &s, nil
}

// ReadHex reads a file of whitespace-separated 16-bit hex words and checks
// that it holds exactly n of them.
func ReadHex(name string, n int) ([]uint16, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("conformance: %w", err)
	}
	defer f.Close()
	words, err := ParseHex(f, n)
	if err != nil {
		return nil, fmt.Errorf("conformance: %s: %w", name, err)
	}
	return words, nil
}

// ParseHex parses whitespace-separated 16-bit hex words, exactly n of them.
func ParseHex(r io.Reader, n int) ([]uint16, error) {
	sc := bufio.NewScanner(r)
	sc.Split(bufio.ScanWords)
	words := make([]uint16, 0, n)
	for sc.Scan() {
		v, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(sc.Text()), "0x"), 16, 16)
		if err != nil {
			return nil, fmt.Errorf("word %d: %q is not a 16-bit hex word", len(words), sc.Text())
		}
		if len(words) == n {
			return nil, fmt.Errorf("more than %d words", n)
		}
		words = append(words, uint16(v))
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(words) != n {
		return nil, fmt.Errorf("%d words, want %d", len(words), n)
	}
	return words, nil
}

// ReadCSV reads 24 rows of 32 temperatures in °C.
func ReadCSV(name string) ([]float64, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("conformance: %w", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("conformance: %s: %w", name, err)
	}
	if len(rows) != mlx90640.Height {
		return nil, fmt.Errorf("conformance: %s: %d rows, want %d", name, len(rows), mlx90640.Height)
	}
	out := make([]float64, 0, mlx90640.Pixels)
	for i, row := range rows {
		if len(row) != mlx90640.Width {
			return nil, fmt.Errorf("conformance: %s: row %d has %d cells, want %d", name, i, len(row), mlx90640.Width)
		}
		for j, c := range row {
			v, err := strconv.ParseFloat(strings.TrimSpace(c), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("conformance: %s: row %d column %d: %q is not a temperature", name, i, j, c)
			}
			out = append(out, v)
		}
	}
	return out, nil
}
