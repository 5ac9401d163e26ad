package convert

import (
	"encoding/binary"
	"math"
)

// ONNX enum values used here (onnx.proto3).
const (
	onnxFloat = 1 // TensorProto.DataType FLOAT
	onnxInt64 = 7 // TensorProto.DataType INT64

	attrFloat  = 1 // AttributeProto.AttributeType FLOAT
	attrInt    = 2 // INT
	attrString = 3 // STRING
	attrInts   = 7 // INTS
)

// tensor is an initializer: a named float32 or int64 constant.
type tensor struct {
	name string
	dims []int64
	f32  []float32
	i64  []int64
}

func (t tensor) encode() *msg {
	var m msg
	m.packedInt64(1, t.dims) // dims
	var raw []byte
	if t.i64 != nil {
		m.int64(2, onnxInt64) // data_type
		raw = make([]byte, 0, 8*len(t.i64))
		for _, v := range t.i64 {
			raw = binary.LittleEndian.AppendUint64(raw, uint64(v))
		}
	} else {
		m.int64(2, onnxFloat)
		raw = make([]byte, 0, 4*len(t.f32))
		for _, v := range t.f32 {
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
		}
	}
	m.string(8, t.name) // name
	m.bytes(9, raw)     // raw_data
	return &m
}

// attr is one node attribute: an int, a float or a list of ints.
type attr struct {
	name string
	typ  int
	i    int64
	f    float32
	ints []int64
	s    string
}

func intAttr(name string, v int64) attr     { return attr{name: name, typ: attrInt, i: v} }
func intsAttr(name string, v ...int64) attr { return attr{name: name, typ: attrInts, ints: v} }
func floatAttr(name string, v float32) attr { return attr{name: name, typ: attrFloat, f: v} }

func (a attr) encode() *msg {
	var m msg
	m.string(1, a.name)
	switch a.typ {
	case attrFloat:
		m.float32(2, a.f)
	case attrInt:
		m.int64(3, a.i)
	case attrString:
		m.string(4, a.s)
	case attrInts:
		for _, v := range a.ints { // repeated int64 ints = 8 (unpacked is always accepted)
			m.int64(8, v)
		}
	}
	m.int64(20, int64(a.typ))
	return &m
}

// node is one operator application.
type node struct {
	op      string
	name    string
	inputs  []string
	outputs []string
	attrs   []attr
}

func (n node) encode() *msg {
	var m msg
	for _, in := range n.inputs {
		m.string(1, in)
	}
	for _, out := range n.outputs {
		m.string(2, out)
	}
	m.string(3, n.name)
	m.string(4, n.op)
	for _, a := range n.attrs {
		m.message(5, a.encode())
	}
	return &m
}

// valueInfo describes a graph input or output: a float tensor of fixed shape.
func valueInfo(name string, dims []int64) *msg {
	var shape msg
	for _, d := range dims {
		var dim msg
		dim.int64(1, d) // dim_value
		shape.message(1, &dim)
	}
	var tt msg
	tt.int64(1, onnxFloat) // elem_type
	tt.message(2, &shape)  // shape
	var typ msg
	typ.message(1, &tt) // tensor_type
	var vi msg
	vi.string(1, name)
	vi.message(2, &typ)
	return &vi
}

// graph is an ONNX graph with one input and one output.
type graph struct {
	name       string
	nodes      []node
	inits      []tensor
	input      string
	inputDims  []int64
	output     string
	outputDims []int64
}

// irVersion and opset are what the model declares: IR 7 and opset 11, which
// OpenCV 4.6's importer reads (it supports opsets up to 13).
const (
	irVersion = 7
	opset     = 11
)

// model encodes g as an ONNX ModelProto.
func (g *graph) model(producer, version, doc string) []byte {
	var gm msg
	for _, n := range g.nodes {
		gm.message(1, n.encode())
	}
	gm.string(2, g.name)
	for _, t := range g.inits {
		gm.message(5, t.encode())
	}
	gm.message(11, valueInfo(g.input, g.inputDims))
	gm.message(12, valueInfo(g.output, g.outputDims))

	var m msg
	m.int64(1, irVersion)
	m.string(2, producer)
	m.string(3, version)
	m.string(6, doc) // doc_string
	m.message(7, &gm)
	var op msg
	op.string(1, "")
	op.int64(2, opset)
	m.message(8, &op)
	return m.b
}
