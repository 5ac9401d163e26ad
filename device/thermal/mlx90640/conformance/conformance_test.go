package conformance

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const shared = "../../../../../shared/testdata/mlx90640"

// TestReferenceVectors asserts the target: every expected pixel of
// Melexis' example data and of the four reference cases within 0.001 °C.
func TestReferenceVectors(t *testing.T) {
	var out bytes.Buffer
	res, err := Run(shared, &out)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s%s", out.String(), res)
	if res.Frames < 5 || res.Pixels < 5*384 {
		t.Errorf("compared %d frames, %d pixels", res.Frames, res.Pixels)
	}
	if res.MaxErrC > 0.001 {
		t.Errorf("max error %.6f °C at %s (%d,%d), want ≤ 0.001", res.MaxErrC, res.Worst.Name, res.Worst.Row, res.Worst.Col)
	}
}

// TestRunDetectsWrongExpectation makes sure a wrong expected value fails.
func TestRunDetectsWrongExpectation(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"eeprom.hex", "frame0.hex", "to_frame0.csv"} {
		b, err := os.ReadFile(filepath.Join(shared, f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "to_frame0.csv" {
			b = bytes.Replace(b, []byte("28.711"), []byte("28.811"), 1)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res, err := Run(dir, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if res.MaxErrC < 0.09 || res.Worst.Row != 0 || res.Worst.Col != 0 {
		t.Errorf("wrong cell not found: %+v", res)
	}
}

// TestRunChecksCases makes sure the cases of reference_cases.json are
// computed and compared: the TGC case run at emissivity 1 instead of 0.98 is
// found, and a case naming a missing file is an error.
func TestRunChecksCases(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"eeprom.hex", "eeprom_tgc16.hex", "frame0.hex", "frame0_sub1.hex", "to_frame0_sub1_tgc16_e098.csv"} {
		b, err := os.ReadFile(filepath.Join(shared, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write := func(doc string) {
		if err := os.WriteFile(filepath.Join(dir, CasesFile), []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"cases": [{"name": "tgc", "eeprom": "eeprom_tgc16.hex", "frame": "frame0_sub1.hex",
		"emissivity": 1, "expected": "to_frame0_sub1_tgc16_e098.csv"}]}`)
	var out bytes.Buffer
	res, err := Run(dir, &out)
	if err != nil {
		t.Fatal(err)
	}
	if res.Frames != 2 || res.Pixels != 384 || res.MaxErrC < 0.1 || res.Worst.Name != "tgc" {
		t.Errorf("wrong emissivity not found: %v worst %+v\n%s", res, res.Worst, out.String())
	}
	if !strings.Contains(out.String(), `case "tgc": subpage=1`) {
		t.Errorf("output:\n%s", out.String())
	}
	for _, tt := range []struct{ doc, msg string }{
		{`{"cases": [{"name": "x", "eeprom": "eeprom.hex", "frame": "nope.hex", "emissivity": 1, "expected": "to_frame0_sub1_tgc16_e098.csv"}]}`, "nope.hex"},
		{`{"cases": [{"name": "x", "eeprom": "eeprom.hex", "frame": "frame0.hex", "emissivity": 0, "expected": "to_frame0_sub1_tgc16_e098.csv"}]}`, "emissivity 0 is outside"},
		{`{"cases": [{"name": "x", "frame": "frame0.hex", "emissivity": 1, "expected": "e.csv"}]}`, "eeprom, frame and expected are required"},
		{`{"cases": []}`, "no cases"},
		{`{"cases": [`, CasesFile},
	} {
		write(tt.doc)
		if _, err := Run(dir, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: error %v, want %q", tt.doc, err, tt.msg)
		}
	}
}

func TestParseHexBad(t *testing.T) {
	for _, tt := range []struct{ in, msg string }{
		{"00AE 499A", "2 words, want 3"},
		{"00AE 499A 0000 0001", "more than 3"},
		{"00AE XYZ 0000", "not a 16-bit hex word"},
		{"00AE 12345 0000", "not a 16-bit hex word"},
	} {
		_, err := ParseHex(strings.NewReader(tt.in), 3)
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("ParseHex(%q) = %v, want %q", tt.in, err, tt.msg)
		}
	}
}

func FuzzParseHex(f *testing.F) {
	f.Add("00AE 499A 0000")
	f.Add("0x00ae\n499a\t0000")
	f.Fuzz(func(t *testing.T, s string) {
		w, err := ParseHex(strings.NewReader(s), 3)
		if err == nil && len(w) != 3 {
			t.Fatalf("%d words without error", len(w))
		}
	})
}

// TestRunAccumulates applies a second frame (subpage 1) without expected
// values: both frames count, only the first one's cells are compared, and a
// later expectation sees the subpage-0 pixels of frame 0 still in the image.
func TestRunAccumulates(t *testing.T) {
	dir := t.TempDir()
	copyFile := func(from, to string, edit func([]byte) []byte) {
		b, err := os.ReadFile(filepath.Join(shared, from))
		if err != nil {
			t.Fatal(err)
		}
		if edit != nil {
			b = edit(b)
		}
		if err := os.WriteFile(filepath.Join(dir, to), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyFile("eeprom.hex", "eeprom.hex", nil)
	copyFile("frame0.hex", "frame0.hex", nil)
	copyFile("to_frame0.csv", "to_frame0.csv", nil)
	sp1 := func(b []byte) []byte {
		return []byte(strings.TrimSpace(string(b))[:len(strings.TrimSpace(string(b)))-4] + "0001\n")
	}
	copyFile("frame0.hex", "frame1.hex", sp1)
	copyFile("to_frame0.csv", "to_frame2.csv", nil)
	copyFile("frame0.hex", "frame2.hex", sp1)
	var out bytes.Buffer
	res, err := Run(dir, &out)
	if err != nil {
		t.Fatal(err)
	}
	if res.Frames != 3 || res.Pixels != 768 || res.MaxErrC > 0.001 {
		t.Errorf("%v\n%s", res, out.String())
	}
	if !strings.Contains(out.String(), "frame1: subpage=1") {
		t.Errorf("output:\n%s", out.String())
	}
}
