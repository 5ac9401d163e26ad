package gate

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// TopicSnapshot is the subtree, relative to the gate's prefix, on which
// snapshots are published: snapshot/<sha256>. It is not under event/, so
// that subscribers of event/# receive no images.
const TopicSnapshot = "snapshot"

// MaxSnapshotBytes bounds the image a snapshot message carries: 90 KiB of
// PNG is 120 KiB in base64, which with the JSON fields and the topic stays
// under the 128 KiB max_packet_size every shipped broker config sets (a
// larger packet would make the broker drop the connection).
const MaxSnapshotBytes = 90 << 10

// Snapshot kinds.
const (
	SnapshotThermal = "thermal" // the colourised thermal picture behind a fever or spoof alert
)

// Snapshot is the picture an alert refers to by hash (the alert's
// temperature.snapshot), published on snapshot/<hash>.
type Snapshot struct {
	V    int    `json:"v"`
	Site string `json:"site"`
	Gate string `json:"gate"`
	// Hash is the SHA-256 of Data in hex, and the topic's last level.
	Hash        string `json:"hash"`
	Kind        string `json:"kind"`
	ContentType string `json:"content_type"`
	// Data is the image (base64 in JSON).
	Data []byte `json:"data"`
}

// SnapshotTopic returns the topic, relative to the gate's prefix, of the
// snapshot with the given hash.
func SnapshotTopic(hash string) string { return TopicSnapshot + "/" + hash }

// SnapshotHash returns the SHA-256 of data in hex, as snapshots are named.
func SnapshotHash(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Check reports whether s is a well-formed snapshot whose data matches its
// hash and, when rel is not empty, whose topic (relative to the gate's
// prefix) names that hash.
func (s *Snapshot) Check(rel string) error {
	switch {
	case len(s.Data) == 0:
		return fmt.Errorf("gate: snapshot %s: no data", s.Hash)
	case len(s.Data) > MaxSnapshotBytes:
		return fmt.Errorf("gate: snapshot %s: %d bytes exceeds %d", s.Hash, len(s.Data), MaxSnapshotBytes)
	case SnapshotHash(s.Data) != s.Hash:
		return fmt.Errorf("gate: snapshot %s: data hashes to %s", s.Hash, SnapshotHash(s.Data))
	}
	if rel != "" {
		if h, ok := strings.CutPrefix(rel, TopicSnapshot+"/"); !ok || h != s.Hash {
			return fmt.Errorf("gate: snapshot %s published on %q", s.Hash, rel)
		}
	}
	return nil
}
