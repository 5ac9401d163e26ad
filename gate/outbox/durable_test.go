package outbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/gateguard/gateguard/gate"
)

func msg(seq uint64, size int) gate.Message {
	return gate.Message{Seq: seq, ID: fmt.Sprintf("id-%d", seq), Topic: gate.TopicAccess,
		Payload: fmt.Appendf(nil, `{"seq":%d,"pad":"%s","replayed":false}`, seq, strings.Repeat("x", size))}
}

func open(t *testing.T, path string, o *Opts) *Durable {
	t.Helper()
	d, err := Open(path, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

func TestDurableOrderAckRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	d := open(t, path, nil)
	for seq := uint64(1); seq <= 10; seq++ {
		if err := d.Record(msg(seq, 10)); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Record(msg(10, 10)); err == nil {
		t.Fatal("accepted a sequence number that is not after the last")
	}
	if err := d.Ack(2); err == nil {
		t.Fatal("acked a record that is not the oldest")
	}
	got, err := d.PeekAfter(3, 4)
	if err != nil || len(got) != 4 || got[0].Seq != 4 || got[3].Seq != 7 {
		t.Fatalf("PeekAfter(3, 4) = %v, %v", got, err)
	}
	if !bytes.Equal(got[0].Payload, msg(4, 10).Payload) || got[0].ID != "id-4" || got[0].Topic != gate.TopicAccess {
		t.Fatalf("record 4 read back as %+v", got[0])
	}
	if err := d.Ack(1); err != nil {
		t.Fatal(err)
	}
	if err := d.AckThrough(4); err != nil {
		t.Fatal(err)
	}
	if d.Depth() != 6 || d.LastSeq() != 10 {
		t.Fatalf("depth %d last %d, want 6 and 10", d.Depth(), d.LastSeq())
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := d.Record(msg(11, 1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Record after Close: %v", err)
	}

	// Restart: the queue and the numbering continue.
	d = open(t, path, nil)
	if d.Depth() != 6 || d.LastSeq() != 10 {
		t.Fatalf("after reopen: depth %d last %d, want 6 and 10", d.Depth(), d.LastSeq())
	}
	first, _ := d.Peek(1)
	if len(first) != 1 || first[0].Seq != 5 {
		t.Fatalf("oldest after reopen: %v", first)
	}
	if err := d.AckThrough(10); err != nil {
		t.Fatal(err)
	}
	if err := d.WaitEmpty(context.Background()); err != nil {
		t.Fatal(err)
	}
	_ = d.Close()
	d = open(t, path, nil)
	if d.LastSeq() != 10 || d.Depth() != 0 {
		t.Fatalf("empty outbox forgot its numbering: last %d depth %d", d.LastSeq(), d.Depth())
	}
	if err := d.Record(msg(10, 1)); err == nil {
		t.Fatal("after restart, accepted a sequence number already used")
	}
	if err := d.Record(msg(11, 1)); err != nil {
		t.Fatal(err)
	}
}

func TestDurableFullAndNearlyFull(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	d := open(t, path, &Opts{MaxBytes: 1 << 20})
	var seq uint64
	sawNearly := false
	var full error
	for full == nil {
		seq++
		full = d.Record(msg(seq, 900))
		if errors.Is(d.Health(), ErrNearlyFull) {
			sawNearly = true
		}
		if seq > 5000 {
			t.Fatal("a 1 MiB outbox took 5000 records of 1 KB")
		}
	}
	if !errors.Is(full, ErrFull) || !strings.Contains(full.Error(), "outbox.max_bytes") {
		t.Fatalf("record past the budget: %v, want ErrFull naming outbox.max_bytes", full)
	}
	if !sawNearly {
		t.Error("never reported nearly full before refusing records")
	}
	if !errors.Is(d.Health(), ErrFull) {
		t.Fatalf("health after a refused record: %v", d.Health())
	}
	select {
	case <-d.Changed():
	default:
		t.Error("Changed not signalled")
	}
	kept := seq - 1
	if d.Depth() != int(kept) || d.LastSeq() != kept {
		t.Fatalf("depth %d last %d, want %d", d.Depth(), d.LastSeq(), kept)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() > 1<<20+16<<20 {
		t.Fatalf("file size %d for a 1 MiB budget (%v)", fi.Size(), err)
	}
	// Draining makes room again, and nothing was lost.
	if err := d.AckThrough(kept / 2); err != nil {
		t.Fatal(err)
	}
	if err := d.Record(msg(seq, 900)); err != nil {
		t.Fatalf("record after draining half: %v", err)
	}
	if err := d.AckThrough(seq); err != nil {
		t.Fatal(err)
	}
	if h := d.Health(); h != nil {
		t.Fatalf("health after draining: %v", h)
	}
}

func TestDurableMaxEvents(t *testing.T) {
	d := open(t, filepath.Join(t.TempDir(), "o.db"), &Opts{MaxEvents: 10})
	for seq := uint64(1); seq <= 10; seq++ {
		if err := d.Record(msg(seq, 1)); err != nil {
			t.Fatal(err)
		}
	}
	if !errors.Is(d.Health(), ErrNearlyFull) {
		t.Errorf("health at 10 of 10: %v", d.Health())
	}
	if err := d.Record(msg(11, 1)); !errors.Is(err, ErrFull) || !strings.Contains(err.Error(), "outbox.max_events") {
		t.Fatalf("11th record: %v", err)
	}
}

func TestSnapshotsDroppedFirst(t *testing.T) {
	d := open(t, filepath.Join(t.TempDir(), "o.db"), &Opts{MaxBytes: 2 << 20})
	img := bytes.Repeat([]byte{0xAB}, 64<<10)
	var hashes []string
	for i := 0; ; i++ {
		h := fmt.Sprintf("sha256:%064x", i)
		if err := d.PutSnapshot(h, img); err != nil {
			if !errors.Is(err, ErrFull) {
				t.Fatal(err)
			}
			break
		}
		hashes = append(hashes, h)
	}
	if len(hashes) < 10 {
		t.Fatalf("only %d snapshots of 64 KiB fit in 2 MiB", len(hashes))
	}
	if got, ok, err := d.Snapshot(hashes[0]); err != nil || !ok || !bytes.Equal(got, img) {
		t.Fatalf("Snapshot(%s) = %d bytes, %v, %v", hashes[0], len(got), ok, err)
	}
	// Records keep coming: the snapshots make room for them, oldest first.
	var seq uint64
	for d.Stats().SnapshotsDropped == 0 {
		seq++
		if err := d.Record(msg(seq, 900)); err != nil {
			t.Fatalf("record %d with snapshots still stored: %v", seq, err)
		}
	}
	if _, ok, _ := d.Snapshot(hashes[0]); ok {
		t.Error("the oldest snapshot survived an eviction")
	}
	if _, ok, _ := d.Snapshot(hashes[len(hashes)-1]); !ok {
		t.Error("the newest snapshot was evicted before the oldest were enough")
	}
	// Records are never evicted: fill up and check every one is there.
	for {
		seq++
		if err := d.Record(msg(seq, 900)); err != nil {
			if !errors.Is(err, ErrFull) {
				t.Fatal(err)
			}
			seq--
			break
		}
	}
	for _, h := range hashes {
		if _, ok, _ := d.Snapshot(h); ok {
			t.Errorf("snapshot %s still stored with the outbox full of records", h)
		}
	}
	all, err := d.Peek(int(seq) + 10)
	if err != nil || uint64(len(all)) != seq || all[len(all)-1].Seq != seq {
		t.Fatalf("after filling: %d records (want %d), %v", len(all), seq, err)
	}
}

// TestHundredThousand stores 100,000 events of a typical size within the
// default budget, from concurrent writers sharing commits.
func TestHundredThousand(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: storing 100,000 fsynced events takes several seconds")
	}
	d := open(t, filepath.Join(t.TempDir(), "o.db"), nil)
	const n, writers = 100_000, 50
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Go(func() {
			for i := 0; i < n/writers; i++ {
				if _, err := d.Append(func(seq uint64) gate.Message { return msg(seq, 550) }); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if d.Depth() != n || d.LastSeq() != n || d.Health() != nil {
		t.Fatalf("depth %d last %d health %v", d.Depth(), d.LastSeq(), d.Health())
	}
	var next uint64 = 1
	for {
		batch, err := d.PeekAfter(next-1, 5000)
		if err != nil {
			t.Fatal(err)
		}
		if len(batch) == 0 {
			break
		}
		for _, m := range batch {
			if m.Seq != next || m.ID != fmt.Sprintf("id-%d", next) {
				t.Fatalf("record %d read as seq %d id %s", next, m.Seq, m.ID)
			}
			next++
		}
	}
	if next != n+1 {
		t.Fatalf("read %d records", next-1)
	}
	t.Logf("100,000 records: %.1f MiB in use of %d MiB", float64(d.Stats().LiveBytes)/(1<<20), d.Stats().MaxBytes>>20)
}

func TestCorruptFileIsRefusedAndKept(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	junk := bytes.Repeat([]byte("not a bbolt file "), 2000)
	if err := os.WriteFile(garbage, junk, 0o600); err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "truncated.db")
	d := open(t, truncated, nil)
	for seq := uint64(1); seq <= 3000; seq++ {
		if err := d.Record(msg(seq, 200)); err != nil {
			t.Fatal(err)
		}
	}
	_ = d.Close()
	fi, _ := os.Stat(truncated)
	if err := os.Truncate(truncated, fi.Size()/3); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{garbage, truncated} {
		before, _ := os.ReadFile(path)
		_, err := Open(path, nil)
		if err == nil || !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) {
			t.Errorf("Open(%s) = %v, want ErrCorrupt naming the file", filepath.Base(path), err)
		}
		after, _ := os.ReadFile(path)
		if !bytes.Equal(before, after) {
			t.Errorf("Open(%s) changed the file", filepath.Base(path))
		}
	}
}

func TestDamagedRecordQuarantined(t *testing.T) {
	path := filepath.Join(t.TempDir(), "o.db")
	d := open(t, path, nil)
	for seq := uint64(1); seq <= 5; seq++ {
		if err := d.Record(msg(seq, 10)); err != nil {
			t.Fatal(err)
		}
	}
	_ = d.Close()
	// Flip a byte of record 3 behind the outbox's back.
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEvents)
		v := append([]byte(nil), b.Get(seqKey(3))...)
		v[len(v)/2] ^= 0x40
		return b.Put(seqKey(3), v)
	})
	_ = db.Close()
	if err != nil {
		t.Fatal(err)
	}
	d = open(t, path, nil)
	got, err := d.Peek(10)
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	for _, m := range got {
		seqs = append(seqs, m.Seq)
	}
	if fmt.Sprint(seqs) != "[1 2 4 5]" || d.Depth() != 4 {
		t.Fatalf("peek after damage: %v depth %d", seqs, d.Depth())
	}
	if h := d.Health(); !errors.Is(h, ErrCorrupt) || d.Stats().Quarantined != 1 {
		t.Fatalf("health %v, quarantined %d", h, d.Stats().Quarantined)
	}
}

func TestLockedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "o.db")
	open(t, path, nil)
	_, err := Open(path, &Opts{LockTimeout: 50e6})
	if err == nil || !strings.Contains(err.Error(), "locked by another process") {
		t.Fatalf("second Open: %v", err)
	}
}

// TestTornCommit simulates a power cut in the middle of a commit: bbolt had
// written new pages past the end of the tree and was writing the next meta
// page (the older of the two) when power failed. Every record committed
// before is there and recording continues.
func TestTornCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "o.db")
	d := open(t, path, nil)
	for seq := uint64(1); seq <= 200; seq++ {
		if err := d.Record(msg(seq, 300)); err != nil {
			t.Fatal(err)
		}
	}
	_ = d.Close()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	m0 := readMeta(f, 0)
	m1 := readMeta(f, m0.pageSize)
	older := int64(0)
	if m1.txid < m0.txid {
		older = m0.pageSize
	}
	// Half-written meta page, and garbage pages appended by the lost commit.
	if _, err := f.WriteAt(bytes.Repeat([]byte{0xEE}, 40), older+16); err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	if _, err := f.WriteAt(bytes.Repeat([]byte("torn"), 4096), fi.Size()); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()

	d = open(t, path, nil)
	all, err := d.Peek(1000)
	if err != nil || len(all) != 200 || d.LastSeq() != 200 {
		t.Fatalf("after a torn commit: %d records, last seq %d, %v", len(all), d.LastSeq(), err)
	}
	for i, m := range all {
		if m.Seq != uint64(i+1) || !bytes.Equal(m.Payload, msg(m.Seq, 300).Payload) {
			t.Fatalf("record %d damaged: %+v", i+1, m)
		}
	}
	if err := d.Record(msg(201, 300)); err != nil {
		t.Fatalf("recording after a torn commit: %v", err)
	}
}
