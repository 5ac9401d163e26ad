// Package conformance checks the mlx90640 package's temperature math against
// Melexis' reference vectors: an EEPROM dump, frames in the layout of
// Melexis' GetFrameData, and the expected object temperatures after each frame
// (see ../shared/testdata/mlx90640/README.md from the repository root). It is
// used by `make conformance-mlx90640` and by the package's tests.
package conformance

import (
	"bufio"
	"encoding/csv"
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

// Result is what a run compared.
type Result struct {
	// Frames is the number of frames applied.
	Frames int
	// Pixels is the number of non-zero expected cells compared.
	Pixels int
	// MaxErrC is the largest absolute difference in °C.
	MaxErrC float64
	// Worst is the frame, row and column of MaxErrC.
	Worst struct{ Frame, Row, Col int }
}

// String is the summary line: "frames=F pixels=P max_err_c=E".
func (r Result) String() string {
	return fmt.Sprintf("frames=%d pixels=%d max_err_c=%.6f", r.Frames, r.Pixels, r.MaxErrC)
}

// Run reads dir/eeprom.hex, then applies dir/frame0.hex, frame1.hex, … in
// order to one image and, after frame N, compares every non-zero cell of
// dir/to_frameN.csv when that file exists. Each frame's line goes to w.
func Run(dir string, w io.Writer) (Result, error) {
	var res Result
	ee, err := ReadHex(filepath.Join(dir, "eeprom.hex"), mlx90640.EEPROMWords)
	if err != nil {
		return res, err
	}
	p, err := mlx90640.ExtractParams(ee)
	if err != nil {
		return res, fmt.Errorf("conformance: eeprom.hex: %w", err)
	}
	img := make([]float64, mlx90640.Pixels)
	for n := 0; ; n++ {
		name := filepath.Join(dir, fmt.Sprintf("frame%d.hex", n))
		words, err := ReadHex(name, mlx90640.RAMWords+2)
		if errors.Is(err, os.ErrNotExist) {
			break
		}
		if err != nil {
			return res, err
		}
		var s mlx90640.Subpage
		copy(s.RAM[:], words)
		s.Control, s.Number = words[mlx90640.RAMWords], int(words[mlx90640.RAMWords+1])
		vdd := p.Vdd(&s)
		ta := p.Ta(&s, vdd)
		aux, err := p.Compute(&s, emissivity, ta+trShiftC, img)
		if err != nil {
			return res, fmt.Errorf("conformance: %s: %w", name, err)
		}
		res.Frames++
		want, err := ReadCSV(filepath.Join(dir, fmt.Sprintf("to_frame%d.csv", n)))
		if errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(w, "frame%d: subpage=%d vdd_v=%.6f ta_c=%.6f (no to_frame%d.csv)\n", n, s.Number, aux.VddV, aux.TaC, n)
			continue
		}
		if err != nil {
			return res, err
		}
		cells, maxErr := 0, 0.0
		for i, wv := range want {
			if wv == 0 {
				continue
			}
			cells++
			d := math.Abs(img[i] - wv)
			if math.IsNaN(d) {
				d = math.Inf(1)
			}
			maxErr = max(maxErr, d)
			if d > res.MaxErrC || res.Pixels+cells == 1 {
				res.MaxErrC = d
				res.Worst.Frame, res.Worst.Row, res.Worst.Col = n, i/mlx90640.Width, i%mlx90640.Width
			}
		}
		res.Pixels += cells
		fmt.Fprintf(w, "frame%d: subpage=%d vdd_v=%.6f ta_c=%.6f pixels=%d max_err_c=%.6f\n",
			n, s.Number, aux.VddV, aux.TaC, cells, maxErr)
	}
	if res.Frames == 0 {
		return res, fmt.Errorf("conformance: %s: no frame0.hex", dir)
	}
	return res, nil
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
