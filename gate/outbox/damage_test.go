package outbox

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// damageSeed builds a real outbox file with a multi-level events tree,
// acknowledged (freed) records, inline buckets and snapshots on overflow
// pages, and returns its bytes and the records it holds.
func damageSeed(t *testing.T) ([]byte, map[uint64]string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "seed.db")
	d := open(t, path, nil)
	for seq := uint64(1); seq <= 400; seq++ {
		if err := d.Record(msg(seq, int(seq%7)*60)); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.AckThrough(120); err != nil {
		t.Fatal(err)
	}
	if err := d.PutSnapshot("big", bytes.Repeat([]byte{0xa5}, 9000)); err != nil {
		t.Fatal(err)
	}
	if err := d.PutSnapshot("small", []byte("png")); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[uint64]string{}
	for seq := uint64(121); seq <= 400; seq++ {
		want[seq] = string(msg(seq, int(seq%7)*60).Payload)
	}
	return data, want
}

// TestFlippedByteNeverPanics damages a real outbox file one byte at a time
// and opens it: every open must either succeed and read back only records
// that were recorded, in order, unchanged (a damaged one is quarantined),
// or refuse with ErrCorrupt naming the file. Before precheck walked the
// pages, many of these offsets made bbolt panic in a goroutine of its own
// and killed the process.
//
// Every byte of each page's header and first elements (the meta fields
// on a meta page) is flipped, and every 31st byte of the rest; with -short,
// the meta pages' and every 97th byte.
func TestFlippedByteNeverPanics(t *testing.T) {
	data, want := damageSeed(t)
	const ps = 4096
	stride, heads := 31, len(data)
	if testing.Short() {
		stride, heads = 97, 2*ps
	}
	var offsets []int
	for off := range data {
		if off < heads && off%ps < 128 || off%stride == 0 {
			offsets = append(offsets, off)
		}
	}
	path := filepath.Join(shmDir(t), "outbox.db")
	var opened, refused int
	buf := make([]byte, len(data))
	for _, off := range offsets {
		copy(buf, data)
		buf[off] ^= 0xff
		if err := os.WriteFile(path, buf, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := openDamaged(path, want); err != nil {
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) {
				t.Fatalf("byte %d (page %d +%d) flipped: %v", off, off/ps, off%ps, err)
			}
			refused++
			continue
		}
		opened++
	}
	t.Logf("%d pages, %d bytes flipped one at a time: %d opened and read correctly, %d refused",
		len(data)/ps, len(offsets), opened, refused)
	if opened == 0 || refused == 0 {
		t.Fatalf("opened %d, refused %d: the sample should include both", opened, refused)
	}
}

// openDamaged opens path and checks what it reads; an error wrapping
// ErrCorrupt is a refusal, any other error is a wrong read.
func openDamaged(path string, want map[uint64]string) error {
	d, err := Open(path, nil)
	if err != nil {
		return err
	}
	defer d.Close()
	got, err := d.PeekAfter(0, 1000)
	if err != nil {
		if errors.Is(err, ErrCorrupt) {
			return err
		}
		return fmt.Errorf("opened, then: %w", err)
	}
	var last uint64
	for _, m := range got {
		if m.Seq <= last || want[m.Seq] != string(m.Payload) || m.ID != fmt.Sprintf("id-%d", m.Seq) {
			return fmt.Errorf("opened, then read seq %d id %s after %d: not what was recorded", m.Seq, m.ID, last)
		}
		last = m.Seq
	}
	if len(got)+d.Stats().Quarantined < len(want)-1 { // a fallback to the older meta page may lose the last commit
		return fmt.Errorf("opened, then read %d records and quarantined %d of %d", len(got), d.Stats().Quarantined, len(want))
	}
	return nil
}

func TestEmptyFileIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path, nil)
	if err == nil || !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) ||
		!strings.Contains(err.Error(), "empty") || !strings.Contains(err.Error(), "move it aside") {
		t.Fatalf("Open(empty file) = %v, want a refusal naming the file, saying it is empty and what to do", err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() != 0 {
		t.Fatalf("the empty file was not left untouched: %v %v", fi, err)
	}
}

func TestCreateLeavesNoTempFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "outbox.db")
	// A leftover of a crash during a create is replaced.
	if err := os.WriteFile(path+".new", []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	d := open(t, path, nil)
	if err := d.Record(msg(1, 10)); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "outbox.db" {
		t.Fatalf("directory holds %v, want only outbox.db", entries)
	}
}

// shmDir returns a temporary directory in memory when there is one: the
// damage test opens thousands of files, and each open commits.
func shmDir(t *testing.T) string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		dir, err := os.MkdirTemp("/dev/shm", "outbox-test-")
		if err == nil {
			t.Cleanup(func() { _ = os.RemoveAll(dir) })
			return dir
		}
	}
	return t.TempDir()
}

// TestUnknownBucketIsRefused: a damaged bucket name hides the bucket; Open
// must refuse rather than create an empty one under the right name and
// drop every unpublished record silently.
func TestUnknownBucketIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	d := open(t, path, nil)
	if err := d.Record(msg(1, 10)); err != nil {
		t.Fatal(err)
	}
	_ = d.Close()
	db, err := bolt.Open(path, 0o600, boltOpts(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket([]byte("e\x89ents"))
		return err
	})
	_ = db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, nil); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "unknown bucket") {
		t.Fatalf("Open with a renamed events bucket = %v, want a refusal naming the unknown bucket", err)
	}
}
