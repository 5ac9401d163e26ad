package outbox

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// wait makes p, already queued, durable (group commit). When no commit is
// running, the caller leads one of everything queued; otherwise it waits,
// and either its record was committed by the leader, or the leader hands it
// the lead of the next commit. Waiters never queue on a mutex, so the
// records queued during one commit all go into the next.
func (d *Durable) wait(p *pending) error {
	d.mu.Lock()
	lead := !d.committing
	d.committing = true
	d.mu.Unlock()
	if !lead {
		<-p.wake
	}
	if !p.done {
		d.lead()
	}
	return p.err
}

// lead commits everything queued, then hands the lead to the oldest record
// queued meanwhile, if any.
func (d *Durable) lead() {
	d.commitMu.Lock()
	d.mu.Lock()
	batch := d.queue
	d.queue = nil
	d.mu.Unlock()
	d.commit(batch)
	d.commitMu.Unlock()
	d.mu.Lock()
	if len(d.queue) == 0 {
		d.committing = false
		d.mu.Unlock()
		return
	}
	next := d.queue[0]
	d.mu.Unlock()
	next.wake <- struct{}{}
}

// commit writes a batch of records, and applies the acknowledgements queued
// with them, in one transaction, then wakes their callers. Called with
// commitMu held. Records refused for room do not hold back the deletes.
func (d *Durable) commit(batch []*pending) {
	var recs []*pending
	var ackTo uint64
	for _, p := range batch {
		if p.ack {
			ackTo = max(ackTo, p.ackSeq)
		} else {
			recs = append(recs, p)
		}
	}
	d.mu.Lock()
	closed := d.closed
	depth, live := d.depth, d.live
	d.mu.Unlock()
	var err, refused error
	var deleted, evicted int
	if closed {
		err = ErrClosed
	} else {
		err = d.db.Update(func(tx *bolt.Tx) error {
			ev := tx.Bucket(bucketEvents)
			var freed int64
			var err error
			if deleted, freed, err = deleteThrough(ev, ackTo); err != nil {
				return err
			}
			if len(recs) == 0 {
				return nil
			}
			refused, evicted, err = d.put(tx, recs, depth-deleted, live-freed)
			return err
		})
	}
	if err != nil && !errors.Is(err, ErrClosed) {
		err = fmt.Errorf("outbox: write %s: %w", d.path, err)
	}
	d.mu.Lock()
	before := d.healthLocked()
	wasEmpty := d.depth == 0
	switch {
	case err != nil:
		if !errors.Is(err, ErrClosed) {
			d.ioErr = err
		}
	default:
		d.depth -= deleted
		d.dropped += evicted
		if deleted > 0 {
			d.fullErr = nil // room was freed
		}
		if refused != nil {
			d.fullErr = refused
		} else if len(recs) > 0 {
			d.depth += len(recs)
			d.lastSeq = recs[len(recs)-1].m.Seq
			d.fullErr, d.ioErr = nil, nil
		}
	}
	if len(recs) > 0 && (err != nil || refused != nil) {
		d.resetQueuedSeq()
	}
	if !wasEmpty && d.depth == 0 {
		close(d.empty)
	} else if wasEmpty && d.depth > 0 {
		d.empty = make(chan struct{})
	}
	changed := err == nil && (deleted > 0 || (len(recs) > 0 && refused == nil))
	d.mu.Unlock()
	for _, p := range batch {
		p.err = err
		if err == nil && !p.ack {
			p.err = refused
		}
		p.done = true
		p.wake <- struct{}{}
	}
	if len(recs) > 0 && err == nil && refused == nil {
		kick(d.notify)
	}
	if changed {
		d.afterWrite(before)
		return
	}
	d.mu.Lock()
	after := d.healthLocked()
	d.mu.Unlock()
	if !sameErr(before, after) {
		kick(d.changed)
	}
}

// resetQueuedSeq frees the numbers of records that were not stored; records
// queued since keep theirs. Called with mu held.
func (d *Durable) resetQueuedSeq() {
	d.queuedSeq = d.lastSeq
	for i := len(d.queue) - 1; i >= 0; i-- {
		if !d.queue[i].ack {
			d.queuedSeq = d.queue[i].m.Seq
			break
		}
	}
}

// put stores records after checking the budget; refused (wrapping ErrFull)
// means there is no room even after evicting every snapshot, and nothing
// was stored.
func (d *Durable) put(tx *bolt.Tx, recs []*pending, depth int, live int64) (refused error, evicted int, err error) {
	var need int64
	for _, p := range recs {
		need += recordCost(p.m)
	}
	if d.o.MaxEvents > 0 && depth+len(recs) > d.o.MaxEvents {
		return fmt.Errorf("%w: %d unpublished records (outbox.max_events %d)", ErrFull, depth, d.o.MaxEvents), 0, nil
	}
	if over := live + need - d.o.MaxBytes; over > 0 {
		freed, n, err := evictSnapshots(tx, over)
		if err != nil {
			return nil, 0, err
		}
		evicted = n
		if live-freed+need > d.o.MaxBytes {
			return fmt.Errorf("%w: %d of %d bytes in use (outbox.max_bytes), %d unpublished records",
				ErrFull, live-freed, d.o.MaxBytes, depth), evicted, nil
		}
	}
	ev := tx.Bucket(bucketEvents)
	ev.FillPercent = 1 // keys only ever grow: pack the pages
	for _, p := range recs {
		if err := ev.Put(seqKey(p.m.Seq), encodeRecord(p.m)); err != nil {
			return nil, evicted, err
		}
	}
	return nil, evicted, tx.Bucket(bucketMeta).Put(keyLastSeq, seqKey(recs[len(recs)-1].m.Seq))
}

// deleteThrough deletes the records numbered up to seq (none when seq is 0)
// and returns how many, and about how many bytes that frees.
func deleteThrough(ev *bolt.Bucket, seq uint64) (n int, freed int64, err error) {
	if seq == 0 {
		return 0, 0, nil
	}
	c := ev.Cursor()
	for k, v := c.First(); k != nil; k, v = c.First() {
		if s, ok := keySeq(k); !ok || s > seq {
			break
		}
		freed += int64(16 + len(k) + len(v))
		if err := c.Delete(); err != nil {
			return n, freed, err
		}
		n++
	}
	return n, freed, nil
}
