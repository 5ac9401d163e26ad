package main

import (
	"fmt"
	"log/slog"

	"github.com/gateguard/gateguard/device/thermal"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/mqtt"
	"github.com/gateguard/gateguard/vision/fusion"
)

// snapshotStore is the outbox's snapshot store (outbox.Durable).
type snapshotStore interface {
	PutSnapshot(hash string, data []byte) error
}

// snapshotSink keeps the thermal picture of a fever or spoof alert: in the
// outbox for the publisher (outbox.publish_snapshots) and in
// thermal.snapshot_dir when set. It returns the picture's hash either way,
// so the alert carries it even with images turned off; a picture it could
// not keep is logged.
type snapshotSink struct {
	render *fusion.Snapshots // Dir set: also kept in the folder
	outbox snapshotStore     // nil: not published
	log    *slog.Logger
}

var _ gate.Snapshotter = (*snapshotSink)(nil)

// Save renders tf and keeps it; see snapshotSink.
func (s *snapshotSink) Save(tf *thermal.Frame) (string, error) {
	data, hash, err := s.png(tf)
	if err != nil {
		return "", err
	}
	if s.render.Dir != "" {
		if err := s.render.Keep(hash, data); err != nil {
			s.log.Warn("thermal snapshot not kept in thermal.snapshot_dir", "hash", hash, "err", err)
		}
	}
	if s.outbox != nil {
		err := error(nil)
		if len(data) > gate.MaxSnapshotBytes {
			err = fmt.Errorf("%d bytes exceeds %d", len(data), gate.MaxSnapshotBytes)
		} else {
			err = s.outbox.PutSnapshot(hash, data)
		}
		if err != nil {
			s.log.Warn("thermal snapshot not queued for publishing", "hash", hash, "err", err)
		}
	}
	return hash, nil
}

// png renders tf, at a coarser scale when the picture would be over the
// published cap (a 256×192 camera's noisy frame at 8× is about 160 KB):
// 8×, 4×, 2×, then 1× screen pixels per thermal pixel.
func (s *snapshotSink) png(tf *thermal.Frame) (data []byte, hash string, err error) {
	r := *s.render
	if r.Scale <= 0 {
		r.Scale = 8
	}
	for {
		data, hash, err = r.PNG(tf)
		if err != nil || len(data) <= gate.MaxSnapshotBytes || r.Scale == 1 {
			return data, hash, err
		}
		r.Scale /= 2
	}
}

// snapshotSource returns the outbox's snapshot store for the publisher, or
// nil when snapshots are not published.
func (d *daemon) snapshotSource() mqtt.SnapshotSource {
	if !d.cfg.Outbox.PublishSnapshots || !d.cfg.MQTT.Enabled {
		return nil
	}
	s, _ := d.outbox.(mqtt.SnapshotSource)
	return s
}
