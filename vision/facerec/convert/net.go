package convert

import (
	"fmt"
	"strconv"
)

// Size is the side of the network's square input chip, in pixels.
const Size = 150

// Dim is the length of a descriptor.
const Dim = 128

// InputName and OutputName are the graph's input (1×3×150×150 float32, RGB,
// 0–255) and output (1×128 float32).
const (
	InputName  = "rgb"
	OutputName = "descriptor"
)

// MeanRGB is what face-api subtracts from each channel before dividing by 255.
var MeanRGB = [3]float32{122.782, 117.001, 104.298}

// builder assembles the graph and tracks the shape of the running tensor.
type builder struct {
	w       Weights
	used    map[string]bool
	g       graph
	n       int // names nodes and intermediate tensors
	c, h, v int // channels, height, width of the last tensor
}

func (b *builder) tmp(op string) string {
	b.n++
	return op + "_" + strconv.Itoa(b.n)
}

func (b *builder) add(op string, inputs []string, attrs ...attr) string {
	out := b.tmp(op)
	b.g.nodes = append(b.g.nodes, node{op: op, name: out, inputs: inputs, outputs: []string{out}, attrs: attrs})
	return out
}

func (b *builder) get(name string, shape ...int) (Tensor, error) {
	t, ok := b.w[name]
	if !ok {
		return Tensor{}, fmt.Errorf("convert: tensor %s missing", name)
	}
	b.used[name] = true
	if len(t.Shape) != len(shape) {
		return Tensor{}, fmt.Errorf("convert: tensor %s: shape %v, want %v", name, t.Shape, shape)
	}
	for i := range shape {
		if t.Shape[i] != shape[i] {
			return Tensor{}, fmt.Errorf("convert: tensor %s: shape %v, want %v", name, t.Shape, shape)
		}
	}
	return t, nil
}

// conv appends face-api's conv layer (convolution, bias, then the per-channel
// scale layer, which is folded into the filters and bias: (W∗x+b)·s+c =
// (W·s)∗x + (b·s+c)) and, if relu, a ReLU. stride 1 pads by one ('same' for
// a 3×3 filter); stride 2 does not pad ('valid'), output sides rounded down.
func (b *builder) conv(x, prefix string, k, stride, cout int, relu bool) (string, error) {
	f, err := b.get(prefix+"/conv/filters", k, k, b.c, cout)
	if err != nil {
		return "", err
	}
	var vec [3]Tensor
	for i, s := range []string{"/conv/bias", "/scale/weights", "/scale/biases"} {
		if vec[i], err = b.get(prefix+s, cout); err != nil {
			return "", err
		}
	}
	bias, scale, shift := vec[0].Data, vec[1].Data, vec[2].Data
	cin := b.c
	// HWIO → OIHW, scaled per output channel.
	wt := make([]float32, len(f.Data))
	for y := range k {
		for xx := range k {
			for i := range cin {
				for o := range cout {
					wt[((o*cin+i)*k+y)*k+xx] = float32(float64(f.Data[((y*k+xx)*cin+i)*cout+o]) * float64(scale[o]))
				}
			}
		}
	}
	bt := make([]float32, cout)
	for o := range bt {
		bt[o] = float32(float64(bias[o])*float64(scale[o]) + float64(shift[o]))
	}
	wn, bn := prefix+"/W", prefix+"/B"
	b.g.inits = append(b.g.inits,
		tensor{name: wn, dims: []int64{int64(cout), int64(cin), int64(k), int64(k)}, f32: wt},
		tensor{name: bn, dims: []int64{int64(cout)}, f32: bt})
	pad := int64(0)
	if stride == 1 {
		pad = int64(k / 2)
	}
	out := b.add("Conv", []string{x, wn, bn},
		intsAttr("kernel_shape", int64(k), int64(k)),
		intsAttr("strides", int64(stride), int64(stride)),
		intsAttr("pads", pad, pad, pad, pad),
		intsAttr("dilations", 1, 1),
		intAttr("group", 1))
	b.c = cout
	b.h = (b.h+2*int(pad)-k)/stride + 1
	b.v = (b.v+2*int(pad)-k)/stride + 1
	if relu {
		out = b.add("Relu", []string{out})
	}
	return out, nil
}

func (b *builder) residual(x, prefix string) (string, error) {
	c, h, v := b.c, b.h, b.v
	out, err := b.conv(x, prefix+"/conv1", 3, 1, c, true)
	if err != nil {
		return "", err
	}
	if out, err = b.conv(out, prefix+"/conv2", 3, 1, c, false); err != nil {
		return "", err
	}
	if b.c != c || b.h != h || b.v != v {
		return "", fmt.Errorf("convert: %s changes the shape", prefix)
	}
	return b.add("Relu", []string{b.add("Add", []string{out, x})}), nil
}

// residualDown is face-api's downsampling block: the main path convolves with
// stride 2; the shortcut is a 2×2 average pool padded with zero channels, and
// when the main path comes out one smaller (odd sides) it gets a zero row at
// the bottom and a zero column at the right, as face-api concatenates them.
func (b *builder) residualDown(x, prefix string, cout int) (string, error) {
	cin, h, v := b.c, b.h, b.v
	out, err := b.conv(x, prefix+"/conv1", 3, 2, cout, true)
	if err != nil {
		return "", err
	}
	if out, err = b.conv(out, prefix+"/conv2", 3, 1, cout, false); err != nil {
		return "", err
	}
	ph, pv := h/2, v/2
	if dh, dv := ph-b.h, pv-b.v; dh != 0 || dv != 0 {
		if dh < 0 || dh > 1 || dv < 0 || dv > 1 {
			return "", fmt.Errorf("convert: %s: main path %dx%d, shortcut %dx%d", prefix, b.h, b.v, ph, pv)
		}
		out = b.pad(out, 0, int64(dh), int64(dv))
	}
	sc := b.add("AveragePool", []string{x},
		intsAttr("kernel_shape", 2, 2), intsAttr("strides", 2, 2), intsAttr("pads", 0, 0, 0, 0), intAttr("ceil_mode", 0))
	if cout > cin {
		sc = b.pad(sc, int64(cout-cin), 0, 0)
	}
	b.h, b.v = ph, pv
	return b.add("Relu", []string{b.add("Add", []string{out, sc})}), nil
}

// pad appends zeros after the end of the channel, row and column axes.
func (b *builder) pad(x string, c, h, v int64) string {
	name := b.tmp("pads")
	b.g.inits = append(b.g.inits, tensor{name: name, dims: []int64{8}, i64: []int64{0, 0, 0, 0, 0, c, h, v}})
	return b.add("Pad", []string{x, name}, attr{name: "mode", typ: attrString, s: "constant"})
}

// Build writes the ONNX graph of face-api's FaceRecognitionNet from its
// weights: input InputName (1×3×150×150 RGB, 0–255), output OutputName
// (1×128). It follows face-api's forwardInput exactly: (x − MeanRGB)/255,
// conv32_down 7×7/2 + max pool 3×3/2, residual blocks of 32, 64, 128 and
// 256 channels, global average and a fully connected layer.
func Build(w Weights) ([]byte, error) {
	b := &builder{w: w, used: map[string]bool{}, c: 3, h: Size, v: Size}
	b.g = graph{name: "faceapi_face_recognition", input: InputName, inputDims: []int64{1, 3, Size, Size},
		output: OutputName, outputDims: []int64{1, Dim}}
	b.g.inits = append(b.g.inits,
		tensor{name: "mean", dims: []int64{1, 3, 1, 1}, f32: MeanRGB[:]},
		tensor{name: "div", dims: []int64{1}, f32: []float32{255}})
	x := b.add("Div", []string{b.add("Sub", []string{InputName, "mean"}), "div"})
	x, err := b.conv(x, "conv32_down", 7, 2, 32, true)
	if err != nil {
		return nil, err
	}
	x = b.add("MaxPool", []string{x},
		intsAttr("kernel_shape", 3, 3), intsAttr("strides", 2, 2), intsAttr("pads", 0, 0, 0, 0), intAttr("ceil_mode", 0))
	b.h, b.v = (b.h-3)/2+1, (b.v-3)/2+1
	for _, l := range []struct {
		name string
		down int // output channels of a downsampling block, 0 for a plain one
	}{
		{"conv32_1", 0}, {"conv32_2", 0}, {"conv32_3", 0},
		{"conv64_down", 64}, {"conv64_1", 0}, {"conv64_2", 0}, {"conv64_3", 0},
		{"conv128_down", 128}, {"conv128_1", 0}, {"conv128_2", 0},
		{"conv256_down", 256}, {"conv256_1", 0}, {"conv256_2", 0}, {"conv256_down_out", 256},
	} {
		if l.down > 0 {
			x, err = b.residualDown(x, l.name, l.down)
		} else {
			x, err = b.residual(x, l.name)
		}
		if err != nil {
			return nil, err
		}
	}
	fc, err := b.get("fc", b.c, Dim)
	if err != nil {
		return nil, err
	}
	// Gemm with transB: B is fc transposed, 128×256.
	ft := make([]float32, len(fc.Data))
	for i := range b.c {
		for o := range Dim {
			ft[o*b.c+i] = fc.Data[i*Dim+o]
		}
	}
	b.g.inits = append(b.g.inits,
		tensor{name: "fc/W", dims: []int64{Dim, int64(b.c)}, f32: ft},
		tensor{name: "fc/B", dims: []int64{Dim}, f32: make([]float32, Dim)})
	x = b.add("Flatten", []string{b.add("GlobalAveragePool", []string{x})}, intAttr("axis", 1))
	b.g.nodes = append(b.g.nodes, node{op: "Gemm", name: "fc", inputs: []string{x, "fc/W", "fc/B"}, outputs: []string{OutputName},
		attrs: []attr{floatAttr("alpha", 1), floatAttr("beta", 1), intAttr("transB", 1)}})
	for name := range w {
		if !b.used[name] {
			return nil, fmt.Errorf("convert: tensor %s is not part of the network", name)
		}
	}
	return b.g.model("gateguard facenet-convert", "face-api "+FaceAPIVersion, doc), nil
}

const doc = "128-d face descriptor (ResNet of dlib's design), converted from @vladmandic/face-api " +
	FaceAPIVersion + " (MIT) model/face_recognition_model. Input: 1x3x150x150 RGB 0-255; output: 1x128."

// Convert reads the pinned face-api weights from dir and returns the ONNX model.
func Convert(dir string) ([]byte, error) {
	w, err := LoadWeights(dir)
	if err != nil {
		return nil, err
	}
	return Build(w)
}
