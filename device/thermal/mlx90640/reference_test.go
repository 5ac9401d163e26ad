package mlx90640_test

import (
	"testing"

	"github.com/gateguard/gateguard/device/thermal/mlx90640/conformance"
)

// TestReferenceCases computes every case of the shared reference_cases.json
// (emissivity 0.98 and 0.95, subpage 1, interleaved mode, TGC 0.5), each
// computed with Melexis' C library, and asserts every pixel of the frame's
// subpage within 0.001 °C. At emissivity 1 and TGC 0 (the workbook frame)
// mistakes in the emissivity and gradient terms do not show; here they do.
func TestReferenceCases(t *testing.T) {
	cases, err := conformance.ReadCases(shared + conformance.CasesFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 4 {
		t.Fatalf("%d reference cases, want at least 4", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			r, err := conformance.RunCase(shared, c)
			if err != nil {
				t.Fatal(err)
			}
			if r.Pixels != 384 {
				t.Errorf("compared %d pixels, want the subpage's 384", r.Pixels)
			}
			if r.MaxErrC > 0.001 {
				t.Errorf("pixel (row %d, column %d) off by %.5f °C, want ≤ 0.001", r.Row, r.Col, r.MaxErrC)
			}
		})
	}
}
