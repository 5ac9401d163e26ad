package outbox

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
)

// bbolt's meta page, as laid out by go.etcd.io/bbolt (internal/common/meta.go):
// a 16-byte page header, then magic, version, page size, flags (uint32 each),
// the root bucket (root pgid, sequence), the freelist pgid, the high-water
// pgid, the txid and an FNV-64a checksum of the meta fields before it.
const (
	boltMagic    = 0xED0CDAED
	boltVersion  = 2
	metaOffset   = 16
	metaPageSize = metaOffset + 8
	metaPgid     = metaOffset + 40
	metaTxid     = metaOffset + 48
	metaChecksum = metaOffset + 56
	metaEnd      = metaChecksum + 8
	minBoltPage  = 512
	maxBoltPage  = 1 << 16
)

type boltMeta struct {
	pageSize int64
	pgid     uint64
	txid     uint64
	valid    bool
	problem  string
}

// precheck reads the two meta pages of an existing bbolt file and checks that
// the file holds every page the newest valid meta page claims. bbolt maps the
// file and would fault (SIGBUS, fatal in Go) on a page past the end of a
// truncated file; this turns that into an error naming the problem.
func precheck(f io.ReaderAt, size int64) error {
	if size == 0 {
		return nil // bbolt initialises an empty file
	}
	m0 := readMeta(f, 0)
	if m0.pageSize == 0 {
		return fmt.Errorf("not a bbolt file or first meta page damaged: %s", m0.problem)
	}
	m1 := readMeta(f, m0.pageSize)
	best := m0
	if m1.valid && (!m0.valid || m1.txid > m0.txid) {
		best = m1
	}
	if !best.valid {
		return fmt.Errorf("both meta pages are invalid: %s; %s", m0.problem, m1.problem)
	}
	if need := int64(best.pgid) * best.pageSize; best.pgid > 1<<40 || size < need {
		return fmt.Errorf("truncated: %d bytes, but its pages need %d", size, need)
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
	m := boltMeta{pageSize: int64(le.Uint32(buf[metaPageSize:])), pgid: le.Uint64(buf[metaPgid:]),
		txid: le.Uint64(buf[metaTxid:])}
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
