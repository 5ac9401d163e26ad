package main

import (
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/gateguard/gateguard/device/thermal"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/outbox"
	"github.com/gateguard/gateguard/vision/fusion"
)

// noisyFrame is a w×h frame of skin-to-room temperatures with sensor noise:
// the hardest case for PNG compression among real pictures.
func noisyFrame(w, h int) *thermal.Frame {
	r := rand.New(rand.NewPCG(1, 2))
	f := &thermal.Frame{W: w, H: h, C: make([]float32, w*h)}
	for i := range f.C {
		f.C[i] = 22 + 14*float32(i%w)/float32(w) + float32(r.NormFloat64())*0.3
	}
	return f
}

// TestSnapshotSink checks that a fever or spoof picture is kept in the
// outbox (where the publisher finds it) under the hash it returns, and that
// a picture the outbox refuses still returns its hash (the alert carries
// it) and is logged.
func TestSnapshotSink(t *testing.T) {
	dir := t.TempDir()
	ob, err := outbox.Open(filepath.Join(dir, "o.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	s := &snapshotSink{render: &fusion.Snapshots{}, outbox: ob, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	hash, err := s.Save(noisyFrame(32, 24))
	if err != nil || len(hash) != 64 {
		t.Fatalf("Save = %q, %v", hash, err)
	}
	data, kept, err := ob.Snapshot(hash)
	if err != nil || !kept {
		t.Fatalf("kept in the outbox: %v (%v)", kept, err)
	}
	if gate.SnapshotHash(data) != hash {
		t.Errorf("kept data hashes to %s, not %s", gate.SnapshotHash(data), hash)
	}
	// A closed outbox refuses the picture: the hash is still returned.
	ob.Close()
	if h, err := s.Save(noisyFrame(32, 24)); err != nil || h != hash {
		t.Errorf("Save on a refusing outbox = %q, %v; want the hash and no error", h, err)
	}
}

// TestSnapshotSizes checks that the picture of each supported sensor's
// frame size fits the published cap (a large frame is drawn coarser).
func TestSnapshotSizes(t *testing.T) {
	for _, sz := range []struct {
		name string
		w, h int
	}{{"mlx90640", 32, 24}, {"amg8833", 8, 8}, {"lepton", 160, 120}, {"uvc 256x192", 256, 192}} {
		s := &snapshotSink{render: &fusion.Snapshots{}}
		data, hash, err := s.png(noisyFrame(sz.w, sz.h))
		if err != nil || gate.SnapshotHash(data) != hash {
			t.Fatal(err)
		}
		t.Logf("%s: %d bytes (cap %d)", sz.name, len(data), gate.MaxSnapshotBytes)
		if len(data) > gate.MaxSnapshotBytes {
			t.Errorf("%s snapshot %d bytes exceeds the %d-byte cap", sz.name, len(data), gate.MaxSnapshotBytes)
		}
	}
}
