package convert

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestProtoEncoding(t *testing.T) {
	// Hand-computed: field 1 varint 150 = 08 96 01; field 2 string "hi" =
	// 12 02 68 69; field 3 packed [1, 300] = 1a 03 01 ac 02; field 4 fixed32
	// 1.0 = 25 00 00 80 3f; field 20 varint 7 = a0 01 07.
	var m msg
	m.int64(1, 150)
	m.string(2, "hi")
	m.packedInt64(3, []int64{1, 300})
	m.float32(4, 1)
	m.int64(20, 7)
	want := []byte{0x08, 0x96, 0x01, 0x12, 0x02, 'h', 'i', 0x1a, 0x03, 0x01, 0xac, 0x02, 0x25, 0, 0, 0x80, 0x3f, 0xa0, 0x01, 0x07}
	if !bytes.Equal(m.b, want) {
		t.Fatalf("got % x\nwant % x", m.b, want)
	}
}

type entry struct {
	Name         string         `json:"name"`
	Shape        []int          `json:"shape"`
	Dtype        string         `json:"dtype"`
	Quantization map[string]any `json:"quantization,omitempty"`
}

func manifest(t *testing.T, es ...entry) []byte {
	t.Helper()
	b, err := json.Marshal([]map[string]any{{"paths": []string{"x.bin"}, "weights": es}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseWeights(t *testing.T) {
	q := map[string]any{"dtype": "uint8", "scale": 0.5, "min": -1.0}
	raw := binary.LittleEndian.AppendUint32(nil, math.Float32bits(3.25))
	buf := append([]byte{0, 1, 4}, raw...)
	w, err := ParseWeights(manifest(t,
		entry{Name: "a", Shape: []int{3}, Dtype: "float32", Quantization: q},
		entry{Name: "b", Shape: []int{1}, Dtype: "float32"}), buf)
	if err != nil {
		t.Fatal(err)
	}
	// value = q·scale + min
	if got := w["a"].Data; got[0] != -1 || got[1] != -0.5 || got[2] != 1 {
		t.Errorf("quantised a = %v, want [-1 -0.5 1]", got)
	}
	if got := w["b"].Data; got[0] != 3.25 {
		t.Errorf("raw b = %v, want [3.25]", got)
	}
}

func TestParseWeightsErrors(t *testing.T) {
	q8 := map[string]any{"dtype": "uint8", "scale": 1, "min": 0}
	q16 := map[string]any{"dtype": "float16", "scale": 1, "min": 0}
	tests := []struct {
		name string
		man  []byte
		buf  []byte
		want string
	}{
		{"not json", []byte("{"), nil, "weights manifest"},
		{"empty", []byte("[]"), nil, "no weight groups"},
		{"short buffer", manifest(t, entry{Name: "a", Shape: []int{4}, Dtype: "float32", Quantization: q8}), []byte{1, 2}, "tensor a: needs bytes 0–4"},
		{"left over", manifest(t, entry{Name: "a", Shape: []int{1}, Dtype: "float32", Quantization: q8}), []byte{1, 2}, "1 bytes left over"},
		{"float16", manifest(t, entry{Name: "a", Shape: []int{1}, Dtype: "float32", Quantization: q16}), []byte{1, 2}, `quantisation "float16"`},
		{"int32", manifest(t, entry{Name: "a", Shape: []int{1}, Dtype: "int32"}), []byte{1, 2, 3, 4}, `dtype "int32"`},
		{"bad shape", manifest(t, entry{Name: "a", Shape: []int{0}, Dtype: "float32"}), nil, "shape [0]"},
		{"twice", manifest(t, entry{Name: "a", Shape: []int{1}, Dtype: "float32", Quantization: q8},
			entry{Name: "a", Shape: []int{1}, Dtype: "float32", Quantization: q8}), []byte{1, 2}, "listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseWeights(tt.man, tt.buf)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

// fakeWeights builds zero weights of face-api's architecture.
func fakeWeights() Weights {
	w := Weights{}
	conv := func(p string, k, cin, cout int) {
		w[p+"/conv/filters"] = Tensor{Shape: []int{k, k, cin, cout}, Data: make([]float32, k*k*cin*cout)}
		for _, s := range []string{"/conv/bias", "/scale/weights", "/scale/biases"} {
			w[p+s] = Tensor{Shape: []int{cout}, Data: make([]float32, cout)}
		}
	}
	conv("conv32_down", 7, 3, 32)
	c := 32
	for _, l := range []struct {
		name string
		out  int
	}{{"conv32_1", 32}, {"conv32_2", 32}, {"conv32_3", 32}, {"conv64_down", 64}, {"conv64_1", 64}, {"conv64_2", 64}, {"conv64_3", 64},
		{"conv128_down", 128}, {"conv128_1", 128}, {"conv128_2", 128}, {"conv256_down", 256}, {"conv256_1", 256}, {"conv256_2", 256}, {"conv256_down_out", 256}} {
		conv(l.name+"/conv1", 3, c, l.out)
		conv(l.name+"/conv2", 3, l.out, l.out)
		c = l.out
	}
	w["fc"] = Tensor{Shape: []int{256, 128}, Data: make([]float32, 256*128)}
	return w
}

func TestBuild(t *testing.T) {
	model, err := Build(fakeWeights())
	if err != nil {
		t.Fatal(err)
	}
	// The four odd-sided downsampling blocks' pads: 35→17 (channels only),
	// 17→8 (channels), 8→3 (channels and sides), 4→1 (sides): five Pad nodes.
	if n := bytes.Count(model, []byte("\x22\x03Pad")); n != 5 {
		t.Errorf("%d Pad nodes, want 5", n)
	}
	tests := []struct {
		name   string
		mutate func(Weights)
		want   string
	}{
		{"missing", func(w Weights) { delete(w, "conv128_1/conv2/scale/weights") }, "conv128_1/conv2/scale/weights missing"},
		{"shape", func(w Weights) { w["fc"] = Tensor{Shape: []int{128, 256}, Data: make([]float32, 256*128)} }, "tensor fc: shape [128 256]"},
		{"extra", func(w Weights) { w["extra"] = Tensor{Shape: []int{1}, Data: []float32{0}} }, "extra is not part of the network"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := fakeWeights()
			tt.mutate(w)
			if _, err := Build(w); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestLoadWeightsChecksSHA256(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{ManifestFile, WeightsFile} {
		if err := writeFile(dir, f, []byte("[]")); err != nil {
			t.Fatal(err)
		}
	}
	_, err := LoadWeights(dir)
	if err == nil || !strings.Contains(err.Error(), "want "+ManifestSHA256) {
		t.Fatalf("err = %v, want a sha256 mismatch", err)
	}
}

func writeFile(dir, name string, b []byte) error {
	return os.WriteFile(filepath.Join(dir, name), b, 0o644)
}
