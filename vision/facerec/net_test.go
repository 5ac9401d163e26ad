package facerec

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"gocv.io/x/gocv"

	"github.com/gateguard/gateguard/vision/facerec/convert"
)

const refDir = "../../../shared/testdata/facerec/"

// weightsDir is where make deps puts face-api's model files.
func weightsDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("GATEGUARD_FACEAPI_DIR"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(home, ".cache/gateguard/face-api-"+convert.FaceAPIVersion+"/node_modules/@vladmandic/face-api/model")
}

// convertedNet converts the installed face-api weights and loads the result.
// Without the weights it skips, unless GATEGUARD_REQUIRE_FACENET is set (as
// make test sets it, after make deps installed them).
func convertedNet(t *testing.T) *Net {
	t.Helper()
	dir := weightsDir(t)
	if _, err := os.Stat(filepath.Join(dir, convert.WeightsFile)); err != nil && os.Getenv("GATEGUARD_REQUIRE_FACENET") == "" {
		t.Skipf("face-api weights not installed (%v): run make deps", err)
	}
	model, err := convert.Convert(dir)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "net.onnx")
	if err := os.WriteFile(path, model, 0o644); err != nil {
		t.Fatal(err)
	}
	n, err := NewNet(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// TestConvertedNetMatchesFaceAPI: the converted graph on OpenCV reproduces
// the descriptors face-api's own TensorFlow.js computes, within 1e-4.
func TestConvertedNetMatchesFaceAPI(t *testing.T) {
	n := convertedNet(t)
	raw, err := os.ReadFile(refDir + "descriptors.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Descriptors map[string][]float32 `json:"descriptors"`
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Descriptors) != 8 {
		t.Fatalf("%d reference descriptors, want 8", len(ref.Descriptors))
	}
	names := make([]string, 0, len(ref.Descriptors))
	for k := range ref.Descriptors {
		names = append(names, k)
	}
	sort.Strings(names)
	worst := 0.0
	for _, name := range names {
		want := ref.Descriptors[name]
		chip := gocv.IMRead(refDir+name+".png", gocv.IMReadColor)
		got, err := n.EmbedSingle(chip)
		chip.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
		}
		maxErr := 0.0
		for i := range got {
			maxErr = math.Max(maxErr, math.Abs(float64(got[i])-float64(want[i])))
		}
		worst = math.Max(worst, maxErr)
		if maxErr > 1e-4 {
			t.Errorf("%s: max abs error %.3g, want ≤ 1e-4", name, maxErr)
		}
	}
	t.Logf("max abs error over %d chips: %.3g", len(names), worst)
}

func writeBytes(path string, b []byte) error { return os.WriteFile(path, b, 0o644) }

// TestEmbedAveragesTheMirror: Net.Embed is the mean of the network's
// descriptors of the chip and of its mirror image.
func TestEmbedAveragesTheMirror(t *testing.T) {
	n := convertedNet(t)
	chip := gocv.IMRead(refDir+"photo-face.png", gocv.IMReadColor)
	defer chip.Close()
	mirror := gocv.NewMat()
	defer mirror.Close()
	gocv.Flip(chip, &mirror, 1)
	a, errA := n.EmbedSingle(chip)
	b, errB := n.EmbedSingle(mirror)
	got, err := n.Embed(chip)
	if err := errors.Join(errA, errB, err); err != nil {
		t.Fatal(err)
	}
	if Distance(a, b) < 1e-3 {
		t.Fatalf("the mirror's descriptor equals the chip's (%g): the test cannot tell", Distance(a, b))
	}
	for i := range got {
		if want := (a[i] + b[i]) / 2; math.Abs(float64(got[i]-want)) > 1e-6 {
			t.Fatalf("Embed[%d] = %g, want the mean %g", i, got[i], want)
		}
	}
}
