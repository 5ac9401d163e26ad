package mlx90640

import (
	"bufio"
	"errors"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const shared = "../../../../shared/testdata/mlx90640/"

// readWords reads a file of whitespace-separated hex words.
func readWords(t testing.TB, name string) []uint16 {
	t.Helper()
	b, err := os.ReadFile(shared + name)
	if err != nil {
		t.Fatal(err)
	}
	var out []uint16
	for _, f := range strings.Fields(string(b)) {
		v, err := strconv.ParseUint(f, 16, 16)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, uint16(v))
	}
	return out
}

// TestExtractParamsReference compares every parameter with what Melexis'
// ExtractParameters derives from the same EEPROM (params_expected.txt).
func TestExtractParamsReference(t *testing.T) {
	p, err := ExtractParams(readWords(t, "eeprom.hex"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{
		"kVdd": p.KVdd, "vdd25": p.Vdd25, "KvPTAT": p.KvPTAT, "KtPTAT": p.KtPTAT, "vPTAT25": p.VPTAT25,
		"alphaPTAT": p.AlphaPTAT, "gainEE": p.GainEE, "tgc": p.TGC, "cpKv": p.CPKv, "cpKta": p.CPKta,
		"resolutionEE": float64(p.ResolutionEE), "calibrationModeEE": float64(p.CalibrationModeEE), "KsTa": p.KsTa,
	}
	arrays := map[string][]float64{
		"ksTo": p.KsTo[:], "ct": p.CT[:], "cpAlpha": p.CPAlpha[:], "cpOffset": p.CPOffset[:],
		"ilChessC": p.ILChessC[:], "alpha": p.Alpha[:], "offset": p.Offset[:], "kta": p.Kta[:], "kv": p.Kv[:],
	}
	f, err := os.Open(shared + "params_expected.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	line := regexp.MustCompile(`^(\w+)(?:\[(\d+)\])? = (\S+)$`)
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			t.Fatalf("unparsed line %q", sc.Text())
		}
		want, _ := strconv.ParseFloat(m[3], 64)
		// The file prints with a fixed number of decimals: half a unit in
		// the last place is the tolerance.
		tol := 0.5 * math.Pow(10, -float64(len(m[3])-strings.IndexByte(m[3]+".", '.')-1))
		var g float64
		switch {
		case m[1] == "brokenPixels" || m[1] == "outlierPixels":
			if want != 65535 {
				t.Errorf("%s: reference lists a defective pixel; the test expects none", sc.Text())
			}
			if len(p.Broken)+len(p.Outlier) != 0 {
				t.Errorf("defective pixels %v %v, reference has none", p.Broken, p.Outlier)
			}
			continue
		case m[2] == "":
			v, ok := got[m[1]]
			if !ok {
				t.Fatalf("no parameter %s", m[1])
			}
			g = v
		default:
			i, _ := strconv.Atoi(m[2])
			a, ok := arrays[m[1]]
			if !ok || i >= len(a) {
				t.Fatalf("no parameter %s[%d]", m[1], i)
			}
			g = a[i]
		}
		n++
		if math.Abs(g-want) > tol*1.0001 {
			t.Errorf("%s[%s] = %v, reference %v", m[1], m[2], g, m[3])
		}
	}
	if n < 3000 {
		t.Errorf("compared %d parameters", n)
	}
}

func TestExtractParamsBad(t *testing.T) {
	good := readWords(t, "eeprom.hex")
	fill := func(v uint16) []uint16 {
		ee := make([]uint16, EEPROMWords)
		for i := range ee {
			ee[i] = v
		}
		return ee
	}
	mod := func(f func(ee []uint16)) []uint16 {
		ee := append([]uint16(nil), good...)
		f(ee)
		return ee
	}
	tests := []struct {
		name string
		ee   []uint16
		msg  string
	}{
		{"all ones", fill(0xFFFF), "every word reads 0xffff"},
		{"all zeros", fill(0), "every word reads 0x0000"},
		{"short", good[:100], "100 words"},
		{"gain zero", mod(func(ee []uint16) { ee[0x30] = 0 }), "gainEE is zero"},
		{"kVdd positive", mod(func(ee []uint16) { ee[0x33] = 0x1000 | ee[0x33]&0xFF }), "kVdd"},
		{"five broken pixels", mod(func(ee []uint16) {
			for _, px := range []int{0, 10, 100, 300, 500} {
				ee[0x40+px] = 0
			}
		}), "5 broken or outlier"},
		{"adjacent defects", mod(func(ee []uint16) { ee[0x40+33] = 0; ee[0x40+66] |= 1 }), "adjacent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ExtractParams(tt.ee)
			if !errors.Is(err, ErrEEPROM) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("ExtractParams() = %v, want ErrEEPROM mentioning %q", err, tt.msg)
			}
		})
	}
}

func TestDefectivePixels(t *testing.T) {
	ee := readWords(t, "eeprom.hex")
	ee[0x40+5*32+7] = 0
	ee[0x40+20*32+30] |= 1
	p, err := ExtractParams(ee)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Broken) != 1 || p.Broken[0] != 5*32+7 || len(p.Outlier) != 1 || p.Outlier[0] != 20*32+30 {
		t.Fatalf("broken %v outlier %v", p.Broken, p.Outlier)
	}
	img := make([]float64, Pixels)
	for i := range img {
		img[i] = float64(i % 7)
	}
	img[5*32+7] = math.NaN()
	p.Interpolate(img)
	want := (img[5*32+6] + img[5*32+8] + img[4*32+7] + img[6*32+7]) / 4
	if img[5*32+7] != want {
		t.Errorf("interpolated %v, want %v", img[5*32+7], want)
	}
}
