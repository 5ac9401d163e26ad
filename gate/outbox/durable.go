package outbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sync"
	"syscall"
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
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if err := create(path); err != nil {
			return nil, fmt.Errorf("outbox: create %s: %w", path, err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	if err := checkFile(path, opts.LockTimeout); err != nil {
		return nil, err
	}
	// precheck has walked every page bbolt will read at open. Should a
	// damaged page still slip through, bbolt's panics in this goroutine and
	// faults on reads outside the mapped file become an error naming the
	// file rather than a crash.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	var db *bolt.DB
	defer func() {
		if r := recover(); r != nil {
			closeAfterPanic(db)
			d, err = nil, unreadable(path, fmt.Errorf("%v", r))
		}
	}()
	db, err = bolt.Open(path, 0o600, boltOpts(opts.LockTimeout))
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, lockedErr(path)
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
	return d, nil
}

// checkFile runs precheck on the file at path under a shared lock, so that
// a file another process is writing is reported as locked, not damaged.
func checkFile(path string, timeout time.Duration) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	defer f.Close()
	deadline := time.Now().Add(timeout)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("outbox: lock %s: %w", path, err)
		}
		if time.Now().After(deadline) {
			return lockedErr(path)
		}
		time.Sleep(50 * time.Millisecond) // bbolt polls its lock the same way
	}
	fi, err := f.Stat()
	if err == nil {
		err = precheck(f, fi.Size())
	}
	if err != nil {
		return unreadable(path, err)
	}
	return nil // closing f releases the lock
}

func lockedErr(path string) error {
	return fmt.Errorf("outbox: %s is locked by another process (is another gateguard running?)", path)
}

// create makes a new, empty outbox file at path atomically: bbolt
// initialises it under a temporary name, it is fsynced, then linked into
// place and its directory fsynced. A crash leaves either no file or a
// complete one, never an empty or half-written one, so an empty outbox
// file can only be damage (precheck refuses it).
func create(path string) error {
	tmp := path + ".new" // a leftover of a crash during create: never held an event
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	db, err := bolt.Open(tmp, 0o600, boltOpts(time.Second))
	if err != nil {
		return err
	}
	if err := db.Sync(); err != nil {
		_ = db.Close()
		return err
	}
	if err := db.Close(); err != nil {
		return err
	}
	// Link, unlike rename, never replaces a file another process created
	// meanwhile.
	if err := os.Link(tmp, path); err != nil && !errors.Is(err, os.ErrExist) {
		if err := os.Rename(tmp, path); err != nil {
			return err
		}
	}
	_ = os.Remove(tmp)
	return syncDir(filepath.Dir(path))
}

// boltOpts are the options every outbox file is opened with.
func boltOpts(timeout time.Duration) *bolt.Options {
	return &bolt.Options{
		Timeout:        timeout,
		NoFreelistSync: true, // rebuilt by a scan at open; halves the pages written per commit
		FreelistType:   bolt.FreelistMapType,
	}
}

// OpenReadOnly opens an existing outbox file for reading its snapshots
// (Snapshot, Snapshots), after the same checks as Open, without writing to
// it. bbolt's lock lets readers share the file with one another but not
// with the gate that has it open: while gateguard runs, OpenReadOnly waits
// o.LockTimeout and fails naming the lock.
func OpenReadOnly(path string, o *Opts) (d *Durable, err error) {
	opts := DefaultOpts
	if o != nil && o.LockTimeout > 0 {
		opts.LockTimeout = o.LockTimeout
	}
	if err := checkFile(path, opts.LockTimeout); err != nil {
		return nil, err
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	var db *bolt.DB
	defer func() {
		if r := recover(); r != nil {
			closeAfterPanic(db)
			d, err = nil, unreadable(path, fmt.Errorf("%v", r))
		}
	}()
	bo := boltOpts(opts.LockTimeout)
	bo.ReadOnly = true
	db, err = bolt.Open(path, 0o600, bo)
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, lockedErr(path)
	}
	if err != nil {
		return nil, unreadable(path, err)
	}
	return &Durable{path: path, db: db, o: opts, pageSize: int64(db.Info().PageSize),
		notify: make(chan struct{}, 1), changed: make(chan struct{}, 1), empty: make(chan struct{})}, nil
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

// load creates missing buckets and reads the counters. The file's
// consistency was checked by precheck (bbolt's tx.Check would run in a
// goroutine of its own, where a panic on a damaged page cannot be caught).
func (d *Durable) load() error {
	buckets := [][]byte{bucketEvents, bucketMeta, bucketSnapshots, bucketSnapOrder, bucketQuarantine}
	missing := false
	err := d.db.View(func(tx *bolt.Tx) error {
		// A damaged bucket name would otherwise hide a bucket and have it
		// recreated empty, silently dropping every unpublished record.
		err := tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			if !slices.ContainsFunc(buckets, func(b []byte) bool { return bytes.Equal(b, name) }) {
				return fmt.Errorf("unknown bucket %q (a damaged name?)", name)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, name := range buckets {
			missing = missing || tx.Bucket(name) == nil
		}
		if m := tx.Bucket(bucketMeta); m != nil {
			return m.ForEach(func(k, _ []byte) error {
				if !bytes.Equal(k, keyLastSeq) && !bytes.Equal(k, keySnapSeq) {
					return fmt.Errorf("meta: unknown key %q (a damaged name?)", k)
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return err
	}
	if missing { // a new file, or one from a version with fewer buckets
		err = d.db.Update(func(tx *bolt.Tx) error {
			for _, name := range buckets {
				if _, err := tx.CreateBucketIfNotExists(name); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	err = d.db.View(func(tx *bolt.Tx) error {
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
