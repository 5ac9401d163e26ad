package main

import (
	"fmt"
	"log/slog"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/device/thermal"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/mqtt"
	"github.com/gateguard/gateguard/vision/fusion"
)

// snapshotStore is the outbox's snapshot store (outbox.Durable).
type snapshotStore interface {
	PutSnapshot(hash string, data []byte) error
}

// snapshotSink keeps the thermal picture of a fever or spoof alert in the
// outbox, which the publisher sends it from when outbox.publish_snapshots is
// on. It returns the picture's hash either way, so the alert carries it even
// when the picture could not be kept; that is logged.
type snapshotSink struct {
	render *fusion.Snapshots
	outbox snapshotStore
	log    *slog.Logger
}

var _ gate.Snapshotter = (*snapshotSink)(nil)

// Save renders tf and keeps it; see snapshotSink.
func (s *snapshotSink) Save(tf *thermal.Frame) (string, error) {
	data, hash, err := s.png(tf)
	if err != nil {
		return "", err
	}
	if len(data) > gate.MaxSnapshotBytes {
		err = fmt.Errorf("%d bytes exceeds %d", len(data), gate.MaxSnapshotBytes)
	} else {
		err = s.outbox.PutSnapshot(hash, data)
	}
	if err != nil {
		s.log.Warn("thermal snapshot not kept in the outbox", "hash", hash, "err", err)
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
func snapshotSource(c *configs.Config, ob eventLog) mqtt.SnapshotSource {
	if !c.Outbox.PublishSnapshots || !c.MQTT.Enabled {
		return nil
	}
	s, _ := ob.(mqtt.SnapshotSource)
	return s
}
