package outbox

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
)

// TestPendingSnapshotsAndDelete checks that stored snapshots are listed
// oldest first until deleted, that the list survives a reopen (a snapshot
// not yet delivered when the gate restarts is still sent), and that a
// stored snapshot wakes the publisher.
func TestPendingSnapshotsAndDelete(t *testing.T) {
	path := filepath.Join(t.TempDir(), "o.db")
	d := open(t, path, nil)
	var hashes []string
	for i := range 3 {
		h := fmt.Sprintf("%064x", i+1)
		<-drainReady(d)
		if err := d.PutSnapshot(h, bytes.Repeat([]byte{byte(i)}, 100)); err != nil {
			t.Fatal(err)
		}
		select {
		case <-d.Ready():
		default:
			t.Fatalf("PutSnapshot %d did not signal Ready", i)
		}
		hashes = append(hashes, h)
	}
	got, err := d.PendingSnapshots(10)
	if err != nil || !slices.Equal(got, hashes) {
		t.Fatalf("PendingSnapshots = %v, %v; want %v", got, err, hashes)
	}
	if got, _ := d.PendingSnapshots(2); !slices.Equal(got, hashes[:2]) {
		t.Fatalf("PendingSnapshots(2) = %v", got)
	}
	if err := d.DeleteSnapshot(hashes[0]); err != nil {
		t.Fatal(err)
	}
	if err := d.DeleteSnapshot("not-there"); err != nil {
		t.Fatalf("deleting an absent snapshot: %v", err)
	}
	if _, ok, _ := d.Snapshot(hashes[0]); ok {
		t.Error("a deleted snapshot is still stored")
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d = open(t, path, nil)
	if got, err := d.PendingSnapshots(10); err != nil || !slices.Equal(got, hashes[1:]) {
		t.Fatalf("after reopen PendingSnapshots = %v, %v; want %v", got, err, hashes[1:])
	}
}

// drainReady empties d's Ready signal and returns a closed channel, so a
// later signal can only come from what follows.
func drainReady(d *Durable) <-chan struct{} {
	select {
	case <-d.Ready():
	default:
	}
	c := make(chan struct{})
	close(c)
	return c
}
