package outbox

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/gateguard/gateguard/gate"
)

// Peek returns up to n of the oldest records, oldest first.
func (d *Durable) Peek(n int) ([]gate.Message, error) { return d.PeekAfter(0, n) }

// PeekAfter returns up to n of the oldest records whose sequence number is
// greater than seq, oldest first: the publisher reads past the records it
// has in flight. A record that fails its checksum is moved to the
// quarantine bucket (kept, never published) and reported through Health.
func (d *Durable) PeekAfter(seq uint64, n int) ([]gate.Message, error) {
	if n <= 0 {
		return nil, nil
	}
	var out []gate.Message
	var bad []uint64
	err := d.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEvents).Cursor()
		for k, v := c.Seek(seqKey(seq + 1)); k != nil && len(out) < n; k, v = c.Next() {
			s, ok := keySeq(k)
			if !ok {
				return fmt.Errorf("%w: key of %d bytes", ErrCorrupt, len(k))
			}
			m, err := decodeRecord(s, v)
			if err != nil {
				bad = append(bad, s)
				continue
			}
			out = append(out, m)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("outbox: read %s: %w", d.path, err)
	}
	if len(bad) > 0 {
		if err := d.quarantine(bad); err != nil {
			return nil, err
		}
		if len(out) < n && len(out) > 0 {
			more, err := d.PeekAfter(out[len(out)-1].Seq, n-len(out))
			return append(out, more...), err
		}
		if len(out) == 0 {
			return d.PeekAfter(seq, n)
		}
	}
	return out, nil
}

func (d *Durable) view(fn func(*bolt.Tx) error) error {
	d.mu.Lock()
	closed := d.closed
	d.mu.Unlock()
	if closed {
		return ErrClosed
	}
	return d.db.View(fn)
}

// quarantine moves unreadable records out of the queue, keeping their bytes.
func (d *Durable) quarantine(seqs []uint64) error {
	d.commitMu.Lock()
	defer d.commitMu.Unlock()
	moved := 0
	err := d.db.Update(func(tx *bolt.Tx) error {
		ev, q := tx.Bucket(bucketEvents), tx.Bucket(bucketQuarantine)
		for _, s := range seqs {
			v := ev.Get(seqKey(s))
			if v == nil {
				continue
			}
			if err := q.Put(seqKey(s), append([]byte(nil), v...)); err != nil {
				return err
			}
			if err := ev.Delete(seqKey(s)); err != nil {
				return err
			}
			moved++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("outbox: quarantine in %s: %w", d.path, err)
	}
	d.mu.Lock()
	before := d.healthLocked()
	d.quarantined += moved
	d.depth -= moved
	if d.depth == 0 && moved > 0 {
		close(d.empty)
	}
	d.mu.Unlock()
	d.afterWrite(before)
	return nil
}

// Ack removes the oldest record, whose sequence number must be seq.
func (d *Durable) Ack(seq uint64) error {
	return d.ack(seq)
}

// AckThrough removes every record with a sequence number up to seq, in one
// transaction: the publisher acknowledges a run of PUBACKs at once. The
// deletes share a commit with records being recorded at the same time.
func (d *Durable) AckThrough(seq uint64) error {
	p := &pending{ack: true, ackSeq: seq, wake: make(chan struct{}, 1)}
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return ErrClosed
	}
	d.queue = append(d.queue, p)
	d.mu.Unlock()
	if err := d.wait(p); err != nil {
		return fmt.Errorf("outbox: ack through %d: %w", seq, err)
	}
	return nil
}

var errNotOldest = errors.New("is not the oldest record")

func (d *Durable) ack(seq uint64) error {
	d.commitMu.Lock()
	defer d.commitMu.Unlock()
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return ErrClosed
	}
	before := d.healthLocked()
	d.mu.Unlock()
	n := 0
	err := d.db.Update(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEvents).Cursor()
		if s, ok := keySeq(firstKey(c)); !ok || s != seq {
			return errNotOldest
		}
		n = 1
		return c.Delete()
	})
	if errors.Is(err, errNotOldest) {
		return fmt.Errorf("outbox: ack %d: %w", seq, err)
	}
	if err != nil {
		return fmt.Errorf("outbox: ack %d in %s: %w", seq, d.path, err)
	}
	d.mu.Lock()
	if n > 0 {
		d.depth -= n
		d.fullErr = nil // room was freed
		if d.depth == 0 {
			close(d.empty)
		}
	}
	d.mu.Unlock()
	if n > 0 {
		d.afterWrite(before)
	}
	return nil
}

func firstKey(c *bolt.Cursor) []byte {
	k, _ := c.First()
	return k
}
