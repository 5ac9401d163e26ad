// Package convert writes face-api's 128-d face descriptor network
// (@vladmandic/face-api's model/face_recognition_model: a TensorFlow.js
// weights manifest and buffer, uint8-quantised per tensor, TF layout) as an
// ONNX graph that OpenCV 4.6's dnn module imports: opset 11, float32
// weights, explicit pads, pooling rounded down. It is pure Go, with its own
// minimal protobuf encoder of the few ONNX messages it needs.
package convert
