package outbox

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// MaxSnapshotBytes bounds one snapshot.
const MaxSnapshotBytes = 4 << 20

// PutSnapshot stores data (an image that an event or alert refers to by
// hash) durably. Snapshots are the first thing the outbox gives up when it
// nears its budget: they are evicted oldest first, and records are never
// evicted. PutSnapshot refuses a snapshot that would take the outbox past
// its nearly-full mark, so snapshots never crowd out events.
func (d *Durable) PutSnapshot(hash string, data []byte) error {
	if hash == "" || len(hash) > 128 {
		return fmt.Errorf("outbox: snapshot hash %q must be 1–128 bytes", hash)
	}
	if len(data) > MaxSnapshotBytes {
		return fmt.Errorf("outbox: snapshot %s: %d bytes exceeds %d", hash, len(data), MaxSnapshotBytes)
	}
	d.commitMu.Lock()
	defer d.commitMu.Unlock()
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return ErrClosed
	}
	before, live := d.healthLocked(), d.live
	d.mu.Unlock()
	cost := int64(16 + 2*len(hash) + 8 + 16 + len(data))
	if live+cost > int64(d.o.NearlyFull*float64(d.o.MaxBytes)) {
		return fmt.Errorf("%w: no room for snapshot %s (%d bytes): %d of %d bytes in use",
			ErrFull, hash, len(data), live, d.o.MaxBytes)
	}
	err := d.db.Update(func(tx *bolt.Tx) error {
		snaps, order, meta := tx.Bucket(bucketSnapshots), tx.Bucket(bucketSnapOrder), tx.Bucket(bucketMeta)
		if old := snaps.Get([]byte(hash)); len(old) >= 8 {
			if err := order.Delete(old[:8]); err != nil {
				return err
			}
		}
		var n uint64
		if v := meta.Get(keySnapSeq); v != nil {
			n, _ = keySeq(v)
		}
		n++
		ok := seqKey(n)
		order.FillPercent = 1
		if err := meta.Put(keySnapSeq, ok); err != nil {
			return err
		}
		if err := order.Put(ok, []byte(hash)); err != nil {
			return err
		}
		return snaps.Put([]byte(hash), append(ok, data...))
	})
	if err != nil {
		return fmt.Errorf("outbox: store snapshot %s in %s: %w", hash, d.path, err)
	}
	d.afterWrite(before)
	kick(d.notify) // the publisher sends snapshots too
	return nil
}

// PendingSnapshots returns the hashes of up to n stored snapshots, oldest
// first: those the publisher has not yet delivered (DeleteSnapshot).
func (d *Durable) PendingSnapshots(n int) ([]string, error) {
	var hashes []string
	err := d.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketSnapOrder).Cursor()
		for k, h := c.First(); k != nil && len(hashes) < n; k, h = c.Next() {
			hashes = append(hashes, string(h))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("outbox: list snapshots: %w", err)
	}
	return hashes, nil
}

// DeleteSnapshot removes the snapshot stored under hash, once delivered;
// removing one that is not there (evicted meanwhile) is not an error.
func (d *Durable) DeleteSnapshot(hash string) error {
	d.commitMu.Lock()
	defer d.commitMu.Unlock()
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return ErrClosed
	}
	before := d.healthLocked()
	d.mu.Unlock()
	err := d.db.Update(func(tx *bolt.Tx) error {
		snaps, order := tx.Bucket(bucketSnapshots), tx.Bucket(bucketSnapOrder)
		v := snaps.Get([]byte(hash))
		if len(v) < 8 {
			return nil
		}
		if err := order.Delete(append([]byte(nil), v[:8]...)); err != nil {
			return err
		}
		return snaps.Delete([]byte(hash))
	})
	if err != nil {
		return fmt.Errorf("outbox: delete snapshot %s from %s: %w", hash, d.path, err)
	}
	d.afterWrite(before)
	return nil
}

// Snapshot returns the snapshot stored under hash; ok is false when there is
// none (never stored, or evicted to make room).
func (d *Durable) Snapshot(hash string) (data []byte, ok bool, err error) {
	err = d.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSnapshots)
		if b == nil {
			return nil
		}
		if v := b.Get([]byte(hash)); len(v) >= 8 {
			data, ok = append([]byte(nil), v[8:]...), true
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("outbox: read snapshot %s: %w", hash, err)
	}
	return data, ok, nil
}

// evictSnapshots deletes the oldest snapshots until about need bytes are
// freed or none is left; it returns the bytes freed and the count.
func evictSnapshots(tx *bolt.Tx, need int64) (freed int64, n int, err error) {
	snaps, order := tx.Bucket(bucketSnapshots), tx.Bucket(bucketSnapOrder)
	c := order.Cursor()
	for k, h := c.First(); k != nil && freed < need; k, h = c.First() {
		if v := snaps.Get(h); v != nil {
			freed += int64(16 + 2*len(h) + 8 + 16 + len(v))
			if err := snaps.Delete(h); err != nil {
				return freed, n, err
			}
		}
		if err := c.Delete(); err != nil {
			return freed, n, err
		}
		n++
	}
	return freed, n, nil
}

// SnapshotInfo describes a stored snapshot.
type SnapshotInfo struct {
	Hash  string
	Bytes int
}

// Snapshots lists the stored snapshots, oldest first.
func (d *Durable) Snapshots() ([]SnapshotInfo, error) {
	var out []SnapshotInfo
	err := d.view(func(tx *bolt.Tx) error {
		snaps, order := tx.Bucket(bucketSnapshots), tx.Bucket(bucketSnapOrder)
		if snaps == nil || order == nil {
			return nil
		}
		return order.ForEach(func(_, h []byte) error {
			if v := snaps.Get(h); len(v) >= 8 {
				out = append(out, SnapshotInfo{Hash: string(h), Bytes: len(v) - 8})
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("outbox: list snapshots in %s: %w", d.path, err)
	}
	return out, nil
}
