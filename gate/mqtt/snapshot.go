package mqtt

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/gateguard/gateguard/gate"
)

// snapshotBatch is how many snapshots drainSnapshots sends before it looks
// at the events again: events always go first.
const snapshotBatch = 4

// drainSnapshots publishes up to snapshotBatch stored snapshots, one at a
// time with QoS 1, not retained, deleting each after its PUBACK. more
// reports that others are waiting.
func (p *Publisher) drainSnapshots(ctx context.Context, epoch uint64) (more bool, err error) {
	hashes, err := p.o.Snapshots.PendingSnapshots(snapshotBatch + 1)
	if err != nil {
		return false, fmt.Errorf("mqtt: snapshots: %w", err)
	}
	more = len(hashes) > snapshotBatch
	for _, h := range hashes[:min(len(hashes), snapshotBatch)] {
		data, ok, err := p.o.Snapshots.Snapshot(h)
		if err != nil {
			return false, fmt.Errorf("mqtt: snapshot %s: %w", h, err)
		}
		if !ok {
			continue // evicted since it was listed
		}
		payload, bad := p.snapshotPayload(h, data)
		if bad != nil {
			// It can never be delivered: say so and let it go, or it would
			// hold back every snapshot after it.
			p.log.Error("snapshot not published", "hash", h, "err", bad)
		} else if err := p.publish(ctx, epoch, gate.SnapshotTopic(h), false, payload); err != nil {
			return false, err
		}
		if err := p.o.Snapshots.DeleteSnapshot(h); err != nil {
			return false, fmt.Errorf("mqtt: snapshot %s: %w", h, err)
		}
		if bad == nil {
			p.stats.Snapshots++
		}
	}
	return more, nil
}

// snapshotPayload builds the snapshot message for data stored under hash.
func (p *Publisher) snapshotPayload(hash string, data []byte) ([]byte, error) {
	site, gateName := p.siteGate()
	s := gate.Snapshot{V: gate.PayloadVersion, Site: site, Gate: gateName, Hash: hash,
		Kind: gate.SnapshotThermal, ContentType: "image/png", Data: data}
	if err := s.Check(""); err != nil {
		return nil, err
	}
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("mqtt: snapshot %s: %w", hash, err)
	}
	return b, nil
}

// siteGate returns the site and gate, the last two levels of the prefix
// (<prefix>/<site>/<gate>).
func (p *Publisher) siteGate() (site, gateName string) {
	parts := strings.Split(p.o.Prefix, "/")
	if len(parts) < 2 {
		return "", p.o.Prefix
	}
	return parts[len(parts)-2], parts[len(parts)-1]
}
