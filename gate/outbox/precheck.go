package outbox

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// bbolt's on-disk layout, as written by go.etcd.io/bbolt v1.4
// (internal/common/page.go, meta.go, inbucket.go).
//
// Every page starts with a 16-byte header: its id (uint64), flags (uint16),
// element count (uint16) and the number of overflow pages that follow it
// (uint32). A meta page then holds magic, version, page size, flags (uint32
// each), the root bucket (root pgid, sequence), the freelist pgid, the
// high-water pgid, the txid and an FNV-64a checksum of the fields before it.
// A branch page holds count elements of {pos, ksize uint32; pgid uint64}, a
// leaf page count elements of {flags, pos, ksize, vsize uint32}; pos is the
// offset of the key from the element itself, and a leaf's value follows its
// key. A leaf element flagged as a bucket holds {root pgid, sequence} and,
// when root is 0 (an inline bucket), a leaf page of its own after that.
const (
	boltMagic    = 0xED0CDAED
	boltVersion  = 2
	pageHeader   = 16
	metaOffset   = pageHeader
	metaPageSize = metaOffset + 8
	metaRoot     = metaOffset + 16
	metaFreelist = metaOffset + 32
	metaPgid     = metaOffset + 40
	metaTxid     = metaOffset + 48
	metaChecksum = metaOffset + 56
	metaEnd      = metaChecksum + 8
	minBoltPage  = 512
	maxBoltPage  = 1 << 16

	branchFlag   = 0x01
	leafFlag     = 0x02
	freelistFlag = 0x10
	bucketFlag   = 0x01 // on a leaf element
	elemSize     = 16   // branch and leaf elements alike
	bucketHeader = 16   // root pgid, sequence
	noFreelist   = ^uint64(0)
	maxDepth     = 64 // of pages within a bucket, and of nested buckets
)

type boltMeta struct {
	pageSize int64
	root     uint64
	freelist uint64
	pgid     uint64
	txid     uint64
	valid    bool
	problem  string
}

// precheck checks an existing bbolt file's structure before bbolt opens it.
// bbolt trusts the file: on open it rebuilds its freelist by walking every
// page, and reports an inconsistency by panicking in a goroutine of its own
// (which no recover can catch), or it reads through a page id that points
// past the mapped file and faults. precheck walks the same pages with plain
// reads and returns an error naming the problem instead.
//
// It picks the meta page bbolt will use (the valid one with the higher
// txid; a torn or damaged meta page falls back to the other, which is how
// bbolt survives a power cut during a commit), then checks that every page
// reachable from it is inside the file and below the high-water mark, is a
// branch or leaf page that says it is the page it was reached as, is
// reached once, holds its elements and keys inside itself, and keeps its
// keys in order within itself and within the bounds its parent gives it;
// likewise for the buckets nested in the tree and the freelist page, if any.
//
// An empty file is refused: Open creates an outbox by renaming a
// fully-initialised file into place, so an empty one was truncated or
// replaced, and starting on it would restart sequence numbers.
func precheck(f io.ReaderAt, size int64) error {
	if size == 0 {
		return errors.New("the file is empty (0 bytes); an outbox is never empty once created, " +
			"so it was truncated or replaced, and opening it would restart sequence numbers at 1")
	}
	m0 := readMeta(f, 0)
	var m1 boltMeta
	if m0.valid {
		m1 = readMeta(f, m0.pageSize)
	} else {
		// bbolt reads the second meta page at the OS page size when the
		// first is unreadable.
		m1 = readMeta(f, int64(os.Getpagesize()))
	}
	best := m0
	if m1.valid && (!m0.valid || m1.txid > m0.txid) {
		best = m1
	}
	if !best.valid {
		if m0.pageSize == 0 && m1.pageSize == 0 {
			return fmt.Errorf("not a bbolt file or both meta pages damaged: %s; %s", m0.problem, m1.problem)
		}
		return fmt.Errorf("both meta pages are invalid: %s; %s", m0.problem, m1.problem)
	}
	ps := best.pageSize
	if best.pgid > 1<<40 || size < int64(best.pgid)*ps {
		return fmt.Errorf("truncated: %d bytes, but its pages need %d", size, int64(min(best.pgid, 1<<40))*ps)
	}
	if best.pgid < 3 {
		return fmt.Errorf("meta page (txid %d): high-water page %d leaves no room for the tree", best.txid, best.pgid)
	}
	w := &walker{f: f, ps: ps, hwm: best.pgid, seen: make([]bool, best.pgid)}
	w.seen[0], w.seen[1] = true, true
	if _, err := w.tree(best.root, nil, nil, 0); err != nil {
		return fmt.Errorf("meta page (txid %d): %w", best.txid, err)
	}
	if best.freelist != noFreelist {
		if err := w.freelist(best.freelist); err != nil {
			return fmt.Errorf("meta page (txid %d): %w", best.txid, err)
		}
	}
	return nil
}

func readMeta(f io.ReaderAt, off int64) boltMeta {
	buf := make([]byte, metaEnd)
	if _, err := f.ReadAt(buf, off); err != nil {
		if errors.Is(err, io.EOF) {
			return boltMeta{problem: fmt.Sprintf("meta page at %d is past the end", off)}
		}
		return boltMeta{problem: err.Error()}
	}
	le := binary.LittleEndian
	m := boltMeta{pageSize: int64(le.Uint32(buf[metaPageSize:])), root: le.Uint64(buf[metaRoot:]),
		freelist: le.Uint64(buf[metaFreelist:]), pgid: le.Uint64(buf[metaPgid:]), txid: le.Uint64(buf[metaTxid:])}
	if le.Uint32(buf[metaOffset:]) != boltMagic {
		return boltMeta{problem: fmt.Sprintf("meta page at %d: bad magic", off)}
	}
	if m.pageSize < minBoltPage || m.pageSize > maxBoltPage || m.pageSize&(m.pageSize-1) != 0 {
		return boltMeta{problem: fmt.Sprintf("meta page at %d: page size %d", off, m.pageSize)}
	}
	h := fnv.New64a()
	_, _ = h.Write(buf[metaOffset:metaChecksum])
	switch {
	case le.Uint32(buf[metaOffset+4:]) != boltVersion:
		m.problem = fmt.Sprintf("meta page at %d: version %d", off, le.Uint32(buf[metaOffset+4:]))
	case h.Sum64() != le.Uint64(buf[metaChecksum:]):
		m.problem = fmt.Sprintf("meta page at %d: checksum mismatch", off)
	default:
		m.valid = true
	}
	return m
}

// walker reads a bbolt file's pages with plain reads and checks them.
type walker struct {
	f    io.ReaderAt
	ps   int64
	hwm  uint64 // pages at or above it are not part of the file
	seen []bool // pages reached so far (metas, tree, freelist)
}

// page reads page id and its overflow pages, checks they are inside the
// file, not reached before, and that the header names id; it returns the
// span and the header's flags and count.
func (w *walker) page(id uint64, what string) (span []byte, flags, count uint16, err error) {
	if id < 2 || id >= w.hwm {
		return nil, 0, 0, fmt.Errorf("%s: page %d is outside 2–%d", what, id, w.hwm-1)
	}
	var hdr [pageHeader]byte
	if _, err := w.f.ReadAt(hdr[:], int64(id)*w.ps); err != nil {
		return nil, 0, 0, fmt.Errorf("%s: page %d: %w", what, id, err)
	}
	le := binary.LittleEndian
	hid, flags, count, overflow := le.Uint64(hdr[0:]), le.Uint16(hdr[8:]), le.Uint16(hdr[10:]), uint64(le.Uint32(hdr[12:]))
	if hid != id {
		return nil, 0, 0, fmt.Errorf("%s: page %d says it is page %d", what, id, hid)
	}
	if id+overflow >= w.hwm {
		return nil, 0, 0, fmt.Errorf("%s: page %d with %d overflow pages runs past page %d", what, id, overflow, w.hwm-1)
	}
	for p := id; p <= id+overflow; p++ {
		if w.seen[p] {
			return nil, 0, 0, fmt.Errorf("%s: page %d is reached twice", what, p)
		}
		w.seen[p] = true
	}
	span = make([]byte, int64(overflow+1)*w.ps)
	if _, err := w.f.ReadAt(span, int64(id)*w.ps); err != nil {
		return nil, 0, 0, fmt.Errorf("%s: page %d: %w", what, id, err)
	}
	return span, flags, count, nil
}

// tree checks the pages of one bucket from page id down, and the buckets
// nested in its leaves. Its keys must be ≥ lo and < hi (nil: unbounded),
// as bbolt's own check requires; it returns the subtree's largest key.
func (w *walker) tree(id uint64, lo, hi []byte, depth int) (maxKey []byte, err error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("page %d: nested more than %d deep", id, maxDepth)
	}
	what := fmt.Sprintf("tree page %d", id)
	span, flags, count, err := w.page(id, what)
	if err != nil {
		return nil, err
	}
	switch flags {
	case branchFlag:
		if count == 0 {
			return nil, fmt.Errorf("%s: branch page with no elements", what)
		}
		keys := make([][]byte, count)
		kids := make([]uint64, count)
		for i := range int(count) {
			off := pageHeader + i*elemSize
			if off+elemSize > len(span) {
				return nil, fmt.Errorf("%s: %d elements overrun the page", what, count)
			}
			pos, ksize := binary.LittleEndian.Uint32(span[off:]), binary.LittleEndian.Uint32(span[off+4:])
			k, err := slice(span, off, pos, ksize)
			if err != nil {
				return nil, fmt.Errorf("%s: element %d key: %w", what, i, err)
			}
			keys[i], kids[i] = bytes.Clone(k), binary.LittleEndian.Uint64(span[off+8:])
		}
		running := lo
		for i, k := range keys {
			if err := keyOrder(k, i, running, hi); err != nil {
				return nil, fmt.Errorf("%s: element %d: %w", what, i, err)
			}
			next := hi
			if i < len(keys)-1 {
				next = keys[i+1]
			}
			if maxKey, err = w.tree(kids[i], k, next, depth+1); err != nil {
				return nil, err
			}
			running = maxKey
		}
		return maxKey, nil
	case leafFlag:
		return w.leaf(span, count, lo, hi, what, depth)
	default:
		return nil, fmt.Errorf("%s: flags %#x, not a branch or leaf page", what, flags)
	}
}

// leaf checks a leaf page (of the file, or an inline bucket's) and the
// buckets nested in it.
func (w *walker) leaf(span []byte, count uint16, lo, hi []byte, what string, depth int) ([]byte, error) {
	var prev []byte
	running := lo
	for i := range int(count) {
		off := pageHeader + i*elemSize
		if off+elemSize > len(span) {
			return nil, fmt.Errorf("%s: %d elements overrun the page", what, count)
		}
		le := binary.LittleEndian
		flags, pos, ksize, vsize := le.Uint32(span[off:]), le.Uint32(span[off+4:]), le.Uint32(span[off+8:]), le.Uint32(span[off+12:])
		kv, err := slice(span, off, pos, ksize+vsize)
		if err != nil || uint64(ksize)+uint64(vsize) > uint64(len(span)) {
			return nil, fmt.Errorf("%s: element %d: key and value (%d+%d bytes) overrun the page", what, i, ksize, vsize)
		}
		k, v := kv[:ksize], kv[ksize:]
		if err := keyOrder(k, i, running, hi); err != nil {
			return nil, fmt.Errorf("%s: element %d: %w", what, i, err)
		}
		running, prev = k, k
		if flags&bucketFlag != 0 {
			if err := w.bucket(v, fmt.Sprintf("%s: bucket %q", what, k), depth+1); err != nil {
				return nil, err
			}
		}
	}
	return bytes.Clone(prev), nil
}

// bucket checks a nested bucket's header and its pages.
func (w *walker) bucket(v []byte, what string, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%s: nested more than %d deep", what, maxDepth)
	}
	if len(v) < bucketHeader {
		return fmt.Errorf("%s: header of %d bytes", what, len(v))
	}
	root := binary.LittleEndian.Uint64(v)
	if root != 0 {
		_, err := w.tree(root, nil, nil, depth)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
	inline := v[bucketHeader:]
	if len(inline) < pageHeader {
		return fmt.Errorf("%s: inline page of %d bytes", what, len(inline))
	}
	if flags := binary.LittleEndian.Uint16(inline[8:]); flags != leafFlag {
		return fmt.Errorf("%s: inline page flags %#x, not a leaf", what, flags)
	}
	_, err := w.leaf(inline, binary.LittleEndian.Uint16(inline[10:]), nil, nil, what+" (inline)", depth)
	return err
}

// freelist checks the freelist page: inside the file, and listing only
// pages that are in the file and not in use.
func (w *walker) freelist(id uint64) error {
	span, flags, count, err := w.page(id, "freelist")
	if err != nil {
		return err
	}
	if flags != freelistFlag {
		return fmt.Errorf("freelist: page %d has flags %#x", id, flags)
	}
	n, off := uint64(count), uint64(pageHeader)
	if count == 0xFFFF {
		n, off = binary.LittleEndian.Uint64(span[pageHeader:]), pageHeader+8
	}
	if n > (uint64(len(span))-off)/8 {
		return fmt.Errorf("freelist: %d ids overrun page %d", n, id)
	}
	free := make(map[uint64]bool, n)
	for i := range n {
		p := binary.LittleEndian.Uint64(span[off+8*i:])
		switch {
		case p < 2 || p >= w.hwm:
			return fmt.Errorf("freelist: free page %d is outside 2–%d", p, w.hwm-1)
		case w.seen[p]:
			return fmt.Errorf("freelist: page %d is both free and in use", p)
		case free[p]:
			return fmt.Errorf("freelist: page %d is listed twice", p)
		}
		free[p] = true
	}
	return nil
}

// slice returns the n bytes at pos from the element at off, if they lie
// inside page.
func slice(page []byte, off int, pos, n uint32) ([]byte, error) {
	start := uint64(off) + uint64(pos)
	end := start + uint64(n)
	if pos < elemSize || end > uint64(len(page)) {
		return nil, fmt.Errorf("%d bytes at %d overrun the page (%d bytes)", n, start, len(page))
	}
	return page[start:end], nil
}

// keyOrder applies bbolt's key-order rules to the key of element i: the
// first is ≥ running (the parent's bound), the others > running (the key
// before), and all < hi.
func keyOrder(k []byte, i int, running, hi []byte) error {
	switch {
	case i == 0 && running != nil && bytes.Compare(running, k) > 0:
		return fmt.Errorf("key %x is below its parent's bound %x", k, running)
	case i > 0 && bytes.Compare(running, k) >= 0:
		return fmt.Errorf("key %x is not after the key before it, %x", k, running)
	case hi != nil && bytes.Compare(k, hi) >= 0:
		return fmt.Errorf("key %x is not below the next key of its parent, %x", k, hi)
	}
	return nil
}
