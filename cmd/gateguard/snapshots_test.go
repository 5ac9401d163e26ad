package main

import (
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
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

// TestSnapshotSink checks where a fever or spoof picture goes for each
// setting: queued in the outbox for the publisher only when published, in
// the folder only when one is set, and its hash returned in every case (the
// alert carries it with images turned off).
func TestSnapshotSink(t *testing.T) {
	for _, tc := range []struct {
		name            string
		publish, folder bool
	}{
		{"published", true, false},
		{"published and kept", true, true},
		{"images off", false, false},
		{"images off, kept on the gate", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			ob, err := outbox.Open(filepath.Join(dir, "o.db"), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer ob.Close()
			s := &snapshotSink{render: &fusion.Snapshots{}, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			if tc.folder {
				s.render.Dir = filepath.Join(dir, "snaps")
			}
			if tc.publish {
				s.outbox = ob
			}
			hash, err := s.Save(noisyFrame(32, 24))
			if err != nil || len(hash) != 64 {
				t.Fatalf("Save = %q, %v", hash, err)
			}
			data, queued, err := ob.Snapshot(hash)
			if err != nil || queued != tc.publish {
				t.Fatalf("queued in the outbox: %v (%v), want %v", queued, err, tc.publish)
			}
			if queued && gate.SnapshotHash(data) != hash {
				t.Errorf("queued data hashes to %s, not %s", gate.SnapshotHash(data), hash)
			}
			_, err = os.Stat(filepath.Join(dir, "snaps", hash+".png"))
			if kept := err == nil; kept != tc.folder {
				t.Errorf("kept in the folder: %v, want %v", kept, tc.folder)
			}
		})
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
