package convert

import (
	"encoding/binary"
	"math"
)

// A minimal protocol-buffers encoder, enough for the few ONNX messages the
// converter writes (ModelProto, GraphProto, NodeProto, AttributeProto,
// TensorProto, ValueInfoProto). Field numbers are those of onnx.proto3.

const (
	wireVarint = 0
	wireI32    = 5
	wireLen    = 2
)

// msg is a protobuf message being encoded.
type msg struct{ b []byte }

func (m *msg) tag(field, wire int) { m.b = binary.AppendUvarint(m.b, uint64(field)<<3|uint64(wire)) }

// int64 writes a varint field (int32, int64 and enum fields alike; negative
// values are ten bytes long, as the encoding requires).
func (m *msg) int64(field int, v int64) {
	m.tag(field, wireVarint)
	m.b = binary.AppendUvarint(m.b, uint64(v))
}

func (m *msg) float32(field int, v float32) {
	m.tag(field, wireI32)
	m.b = binary.LittleEndian.AppendUint32(m.b, math.Float32bits(v))
}

func (m *msg) bytes(field int, v []byte) {
	m.tag(field, wireLen)
	m.b = binary.AppendUvarint(m.b, uint64(len(v)))
	m.b = append(m.b, v...)
}

func (m *msg) string(field int, v string) { m.bytes(field, []byte(v)) }

func (m *msg) message(field int, sub *msg) { m.bytes(field, sub.b) }

// packedInt64 writes a repeated int64 field in packed form.
func (m *msg) packedInt64(field int, vs []int64) {
	var p []byte
	for _, v := range vs {
		p = binary.AppendUvarint(p, uint64(v))
	}
	m.bytes(field, p)
}
