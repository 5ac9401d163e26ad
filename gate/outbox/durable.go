package outbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/gateguard/gateguard/gate"
)

var (
	bucketEvents     = []byte("events")     // seq → record
	bucketMeta       = []byte("meta")       // last_seq, snapshot_seq
	bucketSnapshots  = []byte("snapshots")  // hash → order key (8 bytes) + data
	bucketSnapOrder  = []byte("snap_order") // order key → hash, oldest first
	bucketQuarantine = []byte("quarantine") // seq → records that failed their checksum
	keyLastSeq       = []byte("last_seq")
	keySnapSeq       = []byte("snapshot_seq")
)

// ErrNearlyFull is the health of an outbox that uses more than
// Opts.NearlyFull of its budget after evicting its snapshots. Recording
// still works.
var ErrNearlyFull = errors.New("outbox: nearly full")

// ErrClosed reports a call on a closed outbox.
var ErrClosed = errors.New("outbox: closed")

// Opts configures a durable outbox.
type Opts struct {
	// MaxBytes is the disk budget: the bytes in use in the file (records,
	// snapshots and the B+tree's pages) never exceed it by more than one
	// transaction. 0 means DefaultOpts.MaxBytes.
	MaxBytes int64
	// MaxEvents caps the number of unpublished records; 0 means no cap
	// beyond MaxBytes.
	MaxEvents int
	// NearlyFull is the fraction of MaxBytes (or MaxEvents) at which the
	// outbox evicts snapshots, oldest first, and, if it is still above it,
	// reports ErrNearlyFull through Health; that clears below NearlyFull−0.1.
	NearlyFull float64
	// LockTimeout bounds the wait for the file lock held by another process.
	LockTimeout time.Duration
}

// DefaultOpts holds the defaults used for zero fields of Opts.
var DefaultOpts = Opts{
	MaxBytes:    256 << 20,
	NearlyFull:  0.9,
	LockTimeout: 2 * time.Second,
}

// Durable is an outbox in a bbolt file. Record returns only after the record
// is on stable storage; records survive crashes and restarts, and sequence
// numbers continue across them. It is safe for concurrent use; concurrent
// Records share one commit (group commit).
type Durable struct {
	path     string
	db       *bolt.DB
	o        Opts
	pageSize int64
	notify   chan struct{}
	changed  chan struct{}

	commitMu sync.Mutex // serialises write transactions and Close

	mu          sync.Mutex // guards the fields below
	queue       []*pending // records waiting for the next commit
	committing  bool       // a leader is committing; new records wait for it
	queuedSeq   uint64     // highest sequence number queued or committed
	lastSeq     uint64     // highest sequence number committed
	depth       int
	live        int64 // bytes in use in the file, as of the last write
	nearly      bool
	fullErr     error // the last Record refused for room; cleared by the next success or delete
	ioErr       error // the last write failure that was not about room
	quarantined int
	dropped     int // snapshots evicted to make room
	empty       chan struct{}
	closed      bool
}

// pending is a record waiting for a commit. done and err are set by the
// leader that commits it, before it sends on wake.
type pending struct {
	m      gate.Message
	ack    bool          // not a record: delete the records up to ackSeq
	ackSeq uint64        // with ack
	wake   chan struct{} // done, or: lead the next commit
	done   bool
	err    error
}

var _ gate.Recorder = (*Durable)(nil)

// Open opens (creating it if needed) the outbox file at path. A file that
// cannot be read back is never deleted or overwritten: Open returns an error
// naming it and the gate does not start, so no unpublished event is dropped
// silently and sequence numbers never restart behind the central log's back.
func Open(path string, o *Opts) (d *Durable, err error) {
	opts := DefaultOpts
	if o != nil {
		opts = *o
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultOpts.MaxBytes
	}
	if opts.NearlyFull <= 0 || opts.NearlyFull >= 1 {
		opts.NearlyFull = DefaultOpts.NearlyFull
	}
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = DefaultOpts.LockTimeout
	}
	created := false
	if f, err := os.Open(path); err == nil {
		var fi os.FileInfo
		if fi, err = f.Stat(); err == nil {
			err = precheck(f, fi.Size())
		}
		_ = f.Close()
		if err != nil {
			return nil, unreadable(path, err)
		}
	} else if errors.Is(err, os.ErrNotExist) {
		created = true
	} else {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	// bbolt panics on some kinds of damaged pages, and a damaged page can
	// make it read outside the mapped file: turn both into an error naming
	// the file rather than a crash.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	var db *bolt.DB
	defer func() {
		if r := recover(); r != nil {
			closeAfterPanic(db)
			d, err = nil, unreadable(path, fmt.Errorf("%v", r))
		}
	}()
	db, err = bolt.Open(path, 0o600, &bolt.Options{
		Timeout:        opts.LockTimeout,
		NoFreelistSync: true, // rebuilt by a scan at open; halves the pages written per commit
		FreelistType:   bolt.FreelistMapType,
	})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("outbox: %s is locked by another process (is another gateguard running?)", path)
	}
	if err != nil {
		return nil, unreadable(path, err)
	}
	d = &Durable{path: path, db: db, o: opts, pageSize: int64(db.Info().PageSize),
		notify: make(chan struct{}, 1), changed: make(chan struct{}, 1)}
	if err := d.load(); err != nil {
		_ = db.Close()
		return nil, unreadable(path, err)
	}
	if created {
		if err := syncDir(filepath.Dir(path)); err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("outbox: %s: %w", path, err)
		}
	}
	return d, nil
}

// closeAfterPanic releases the file lock of a database that panicked.
func closeAfterPanic(db *bolt.DB) {
	if db == nil {
		return
	}
	defer func() { _ = recover() }()
	_ = db.Close()
}

func unreadable(path string, err error) error {
	return fmt.Errorf("%w: %s cannot be read (%w); it was left untouched: "+
		"move it aside to start with an empty outbox (its unpublished events stay in it)", ErrCorrupt, path, err)
}

// syncDir makes a newly created file's directory entry durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// load checks the file's consistency, creates missing buckets and reads the
// counters.
func (d *Durable) load() error {
	var problems []error
	err := d.db.View(func(tx *bolt.Tx) error {
		for e := range tx.Check() {
			problems = append(problems, e)
		}
		return nil
	})
	if err == nil && len(problems) > 0 {
		err = fmt.Errorf("consistency check: %w", errors.Join(problems...))
	}
	if err != nil {
		return err
	}
	err = d.db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketEvents, bucketMeta, bucketSnapshots, bucketSnapOrder, bucketQuarantine} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		ev := tx.Bucket(bucketEvents)
		if k, _ := ev.Cursor().Last(); k != nil {
			seq, ok := keySeq(k)
			if !ok {
				return fmt.Errorf("events: key of %d bytes", len(k))
			}
			d.lastSeq = seq
		}
		if v := tx.Bucket(bucketMeta).Get(keyLastSeq); v != nil {
			seq, ok := keySeq(v)
			if !ok {
				return fmt.Errorf("meta: last_seq of %d bytes", len(v))
			}
			d.lastSeq = max(d.lastSeq, seq)
		}
		d.depth = ev.Stats().KeyN
		d.quarantined = tx.Bucket(bucketQuarantine).Stats().KeyN
		return nil
	})
	if err != nil {
		return err
	}
	d.queuedSeq = d.lastSeq
	d.empty = make(chan struct{})
	if d.depth == 0 {
		close(d.empty)
	}
	d.live = d.usage()
	d.nearly = d.pressure() >= d.o.NearlyFull
	return nil
}

// Close closes the file after any commit in progress. It is idempotent.
func (d *Durable) Close() error {
	d.commitMu.Lock()
	defer d.commitMu.Unlock()
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	d.mu.Unlock()
	if err := d.db.Close(); err != nil {
		return fmt.Errorf("outbox: close %s: %w", d.path, err)
	}
	return nil
}

// String returns the file's path.
func (d *Durable) String() string { return "outbox " + d.path }

// Record stores m durably: it returns nil only once m is committed and
// fsynced. m.Seq must be greater than every sequence number recorded before.
// When the budget has no room left even after evicting every snapshot, it
// returns an error wrapping ErrFull and stores nothing.
func (d *Durable) Record(m gate.Message) error {
	p := &pending{m: m, wake: make(chan struct{}, 1)}
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return ErrClosed
	}
	if m.Seq <= d.queuedSeq {
		last := d.queuedSeq
		d.mu.Unlock()
		return fmt.Errorf("outbox: sequence %d is not after %d", m.Seq, last)
	}
	d.queuedSeq = m.Seq
	d.queue = append(d.queue, p)
	d.mu.Unlock()
	return d.wait(p)
}

// Append records the message build returns for the next sequence number
// (LastSeq()+1, allocated under the outbox's lock), durably, and returns that
// number. It lets several goroutines record concurrently; their records share
// commits. build must be quick and must not call the outbox.
func (d *Durable) Append(build func(seq uint64) gate.Message) (uint64, error) {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return 0, ErrClosed
	}
	m := build(d.queuedSeq + 1)
	m.Seq = d.queuedSeq + 1
	d.queuedSeq = m.Seq
	p := &pending{m: m, wake: make(chan struct{}, 1)}
	d.queue = append(d.queue, p)
	d.mu.Unlock()
	return m.Seq, d.wait(p)
}

// recordCost estimates the bytes a record takes in a packed leaf page.
func recordCost(m gate.Message) int64 {
	return int64(16 + 8 + 1 + 2*2 + len(m.ID) + len(m.Topic) + len(m.Payload) + 4)
}

func kick(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// usage returns the bytes in use in the file: its high-water mark less the
// pages on the freelist.
func (d *Durable) usage() int64 {
	var size int64
	_ = d.db.View(func(tx *bolt.Tx) error {
		size = tx.Size()
		return nil
	})
	st := d.db.Stats()
	return size - int64(st.FreePageN+st.PendingPageN)*d.pageSize
}

// pressure is the fraction of the budget in use (of MaxEvents, if that is
// higher). Called with mu held or before the outbox is shared.
func (d *Durable) pressure() float64 {
	p := float64(d.live) / float64(d.o.MaxBytes)
	if d.o.MaxEvents > 0 {
		p = max(p, float64(d.depth)/float64(d.o.MaxEvents))
	}
	return p
}

// afterWrite refreshes the usage, evicts snapshots when the file nears its
// budget, updates the nearly-full state and signals a health change.
func (d *Durable) afterWrite(before error) {
	live := d.usage()
	high := int64(d.o.NearlyFull * float64(d.o.MaxBytes))
	if live >= high {
		target := live - int64((d.o.NearlyFull-0.1)*float64(d.o.MaxBytes))
		var evicted int
		err := d.db.Update(func(tx *bolt.Tx) error {
			var err error
			_, evicted, err = evictSnapshots(tx, target)
			return err
		})
		if err == nil && evicted > 0 {
			live = d.usage()
			d.mu.Lock()
			d.dropped += evicted
			d.mu.Unlock()
		}
	}
	d.mu.Lock()
	d.live = live
	p := d.pressure()
	switch {
	case p >= d.o.NearlyFull:
		d.nearly = true
	case p < d.o.NearlyFull-0.1:
		d.nearly = false
	}
	after := d.healthLocked()
	d.mu.Unlock()
	if !sameErr(before, after) {
		kick(d.changed)
	}
}

func sameErr(a, b error) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Error() == b.Error()
}

// Depth returns the number of records not yet acknowledged.
func (d *Durable) Depth() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.depth
}

// LastSeq returns the highest sequence number ever recorded in this file,
// including records already acknowledged and deleted.
func (d *Durable) LastSeq() uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.lastSeq
}

// Ready is signalled after a Record.
func (d *Durable) Ready() <-chan struct{} { return d.notify }

// Changed is signalled when Health changes.
func (d *Durable) Changed() <-chan struct{} { return d.changed }

// Health returns nil while the outbox is writable with room to spare; an
// error wrapping ErrFull after a Record was refused for room, the last write
// failure, or one wrapping ErrNearlyFull.
func (d *Durable) Health() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.healthLocked()
}

func (d *Durable) healthLocked() error {
	switch {
	case d.closed:
		return ErrClosed
	case d.fullErr != nil:
		return d.fullErr
	case d.ioErr != nil:
		return d.ioErr
	case d.nearly:
		msg := fmt.Sprintf("%d unpublished records; %.0f%% of outbox.max_bytes (%d MiB) in use",
			d.depth, 100*float64(d.live)/float64(d.o.MaxBytes), d.o.MaxBytes>>20)
		if d.o.MaxEvents > 0 {
			msg += fmt.Sprintf(", outbox.max_events %d", d.o.MaxEvents)
		}
		if d.dropped > 0 {
			msg += fmt.Sprintf("; %d snapshots dropped to make room", d.dropped)
		}
		return fmt.Errorf("%w: %s", ErrNearlyFull, msg)
	case d.quarantined > 0:
		return fmt.Errorf("%w: %d unreadable records moved to the quarantine bucket of %s", ErrCorrupt, d.quarantined, d.path)
	}
	return nil
}

// Stats describes the outbox's use of its budget.
type Stats struct {
	Depth            int    // unpublished records
	LastSeq          uint64 // highest sequence number recorded
	LiveBytes        int64  // bytes in use in the file
	MaxBytes         int64  // the budget
	SnapshotsDropped int    // snapshots evicted to make room since Open
	Quarantined      int    // records that failed their checksum
}

// Stats returns the outbox's counters.
func (d *Durable) Stats() Stats {
	d.mu.Lock()
	defer d.mu.Unlock()
	return Stats{Depth: d.depth, LastSeq: d.lastSeq, LiveBytes: d.live, MaxBytes: d.o.MaxBytes,
		SnapshotsDropped: d.dropped, Quarantined: d.quarantined}
}

// WaitEmpty returns when every recorded message has been acknowledged, or
// with ctx's error when ctx ends first.
func (d *Durable) WaitEmpty(ctx context.Context) error {
	d.mu.Lock()
	empty := d.empty
	d.mu.Unlock()
	select {
	case <-empty:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
