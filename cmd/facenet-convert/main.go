// Command facenet-convert writes the ONNX graph of face-api's 128-d face
// descriptor (the pinned @vladmandic/face-api release's
// model/face_recognition_model weights) for OpenCV's dnn module:
//
//	facenet-convert -weights DIR -o bin/models/faceapi-recognition.onnx
//
// DIR holds face_recognition_model-weights_manifest.json and
// face_recognition_model.bin; both are checked against their pinned SHA-256.
// The output is written atomically (temporary file, fsync, rename).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/gateguard/gateguard/vision/facerec/convert"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "facenet-convert:", err)
		os.Exit(1)
	}
}

func run(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("facenet-convert", flag.ContinueOnError)
	dir := fs.String("weights", "", "folder with face-api's face_recognition_model manifest and .bin")
	out := fs.String("o", "", "ONNX file to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" || *out == "" || fs.NArg() > 0 {
		return fmt.Errorf("usage: facenet-convert -weights DIR -o FILE.onnx")
	}
	model, err := convert.Convert(*dir)
	if err != nil {
		return err
	}
	if err := writeAtomic(*out, model); err != nil {
		return err
	}
	fmt.Printf("facenet-convert: wrote %s (%d bytes, face-api %s)\n", *out, len(model), convert.FaceAPIVersion)
	return nil
}

// writeAtomic writes b to path through a temporary file in the same folder,
// fsynced and renamed over path, so a reader never sees half a model.
func writeAtomic(path string, b []byte) (err error) {
	d := filepath.Dir(path)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return fmt.Errorf("output folder: %w", err)
	}
	f, err := os.CreateTemp(d, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("output: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(b); err != nil {
		return fmt.Errorf("output: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("output: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("output: %w", err)
	}
	if err = os.Chmod(f.Name(), 0o644); err != nil {
		return fmt.Errorf("output: %w", err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("output: %w", err)
	}
	if dh, derr := os.Open(d); derr == nil {
		dh.Sync()
		dh.Close()
	}
	return nil
}
