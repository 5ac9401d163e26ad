package outbox

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/outbox/internal/lazyfs"
)

// TestPowerCutLosesNothingAcknowledged records through the durable outbox
// on a file system that keeps writes in memory until they are fsynced
// (internal/lazyfs), cuts the power (every unsynced write is discarded)
// while four goroutines are recording, and reopens the file as the disk
// kept it: every record whose Record or Append had returned must be there,
// in order, under its sequence number. A SIGKILL cannot tell whether Record
// waited for the fsync (the kernel still has the data); this can: with
// bbolt's NoSync the records are lost and this test fails.
func TestPowerCutLosesNothingAcknowledged(t *testing.T) {
	backing, mnt := t.TempDir(), t.TempDir()
	l, err := lazyfs.Mount(backing, mnt)
	if errors.Is(err, lazyfs.ErrUnavailable) {
		t.Skipf("no power-cut test here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Unmount(); err != nil {
			t.Errorf("unmount %s: %v", mnt, err)
		}
	})

	d, err := Open(filepath.Join(mnt, "outbox.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	acked := map[uint64]bool{}
	for seq := uint64(1); seq <= 100; seq++ {
		if err := d.Record(msg(seq, int(seq%5)*40)); err != nil {
			t.Fatal(err)
		}
		acked[seq] = true
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	progress := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				seq, err := d.Append(func(seq uint64) gate.Message { return msg(seq, int(seq%5)*40) })
				if err != nil {
					continue // after the cut
				}
				mu.Lock()
				acked[seq] = true
				mu.Unlock()
				select {
				case progress <- struct{}{}:
				case <-ctx.Done():
				}
			}
		}()
	}
	for range 300 {
		<-progress
	}
	l.PowerCut() // while the goroutines are recording
	cancel()
	wg.Wait()
	_ = d.Close()
	if err := l.Unmount(); err != nil {
		t.Fatal(err)
	}
	synced, dropped := l.Stats()

	d, err = Open(filepath.Join(backing, "outbox.db"), nil)
	if err != nil {
		t.Fatalf("reopen after the power cut: %v", err)
	}
	defer d.Close()
	all, err := d.Peek(len(acked) + 100)
	if err != nil {
		t.Fatal(err)
	}
	var last uint64
	for maxAcked := range acked {
		last = max(last, maxAcked)
	}
	t.Logf("%d records acknowledged (last %d), %d fsyncs reached the disk, %d unsynced writes dropped by the cut; %d records after it",
		len(acked), last, synced, dropped, len(all))
	if len(all) < int(last) || d.LastSeq() < last {
		t.Fatalf("after the power cut: %d records, last seq %d; seq %d had been acknowledged", len(all), d.LastSeq(), last)
	}
	for i, m := range all {
		want := msg(uint64(i+1), (i+1)%5*40)
		if m.Seq != want.Seq || m.ID != want.ID || string(m.Payload) != string(want.Payload) {
			t.Fatalf("record %d after the power cut is seq %d id %s", i+1, m.Seq, m.ID)
		}
	}
	// Numbering continues after the cut.
	if err := d.Record(msg(d.LastSeq()+1, 10)); err != nil {
		t.Fatal(fmt.Errorf("record after the power cut: %w", err))
	}
}
