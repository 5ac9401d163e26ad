//go:build matprofile

package mattest

import (
	"fmt"
	"os"
	"testing"

	"gocv.io/x/gocv"
)

// Main runs the tests, then exits non-zero, listing where each Mat was
// made, when any gocv Mat is still open.
func Main(m *testing.M, pkg string) {
	code := m.Run()
	if n := gocv.MatProfile.Count(); n != 0 {
		fmt.Fprintf(os.Stderr, "%s: %d gocv Mats not closed:\n", pkg, n)
		_ = gocv.MatProfile.WriteTo(os.Stderr, 1)
		code = 1
	}
	os.Exit(code)
}
