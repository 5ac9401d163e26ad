//go:build matprofile

package imagefile

import (
	"testing"

	"github.com/gateguard/gateguard/vision/mattest"
)

// TestMain fails the package when a test leaves a gocv Mat open.
func TestMain(m *testing.M) { mattest.Main(m, "imagefile") }
