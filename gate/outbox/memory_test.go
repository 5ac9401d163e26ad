package outbox

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/gateguard/gateguard/gate"
)

func TestMemoryOrderAckAndFull(t *testing.T) {
	m := NewMemory(2)
	for seq := uint64(1); seq <= 2; seq++ {
		if err := m.Record(gate.Message{Seq: seq, Topic: gate.TopicAccess}); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Record(gate.Message{Seq: 3}); !errors.Is(err, ErrFull) {
		t.Fatalf("third record: %v, want ErrFull", err)
	}
	if err := m.Record(gate.Message{Seq: 2}); err == nil {
		t.Fatal("accepted a sequence number that is not after the last")
	}
	if err := m.Ack(2); err == nil {
		t.Fatal("acked a message that is not the oldest")
	}
	got, _ := m.Peek(10)
	if len(got) != 2 || got[0].Seq != 1 || got[1].Seq != 2 || m.Depth() != 2 || m.LastSeq() != 2 {
		t.Fatalf("peek %v depth %d", got, m.Depth())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.WaitEmpty(ctx); err == nil {
		t.Fatal("WaitEmpty returned nil with messages queued")
	}
	_ = m.Ack(1)
	_ = m.Ack(2)
	if err := m.WaitEmpty(context.Background()); err != nil || m.Depth() != 0 {
		t.Fatalf("WaitEmpty: %v depth %d", err, m.Depth())
	}
}

func TestMemoryPeekAfterAckThrough(t *testing.T) {
	m := NewMemory(10)
	for seq := uint64(1); seq <= 5; seq++ {
		_ = m.Record(gate.Message{Seq: seq * 2}) // 2, 4, 6, 8, 10
	}
	for _, tc := range []struct {
		after uint64
		n     int
		want  []uint64
	}{
		{0, 2, []uint64{2, 4}},
		{4, 10, []uint64{6, 8, 10}},
		{5, 1, []uint64{6}},
		{10, 3, nil},
		{3, 0, nil},
	} {
		got, _ := m.PeekAfter(tc.after, tc.n)
		var seqs []uint64
		for _, g := range got {
			seqs = append(seqs, g.Seq)
		}
		if fmt.Sprint(seqs) != fmt.Sprint(tc.want) {
			t.Errorf("PeekAfter(%d, %d) = %v, want %v", tc.after, tc.n, seqs, tc.want)
		}
	}
	if err := m.AckThrough(7); err != nil || m.Depth() != 2 {
		t.Fatalf("AckThrough(7): %v, depth %d", err, m.Depth())
	}
	if err := m.AckThrough(100); err != nil || m.Depth() != 0 || m.WaitEmpty(context.Background()) != nil {
		t.Fatalf("AckThrough(100): %v, depth %d", err, m.Depth())
	}
}

func TestMemorySnapshotsAreBounded(t *testing.T) {
	m := NewMemory(10)
	big := make([]byte, MaxSnapshotBytes)
	for _, h := range []string{"a", "b", "c", "d", "e", "f"} {
		if err := m.PutSnapshot(h, big); err != nil {
			t.Fatal(err)
		}
	}
	list, _ := m.Snapshots()
	if len(list) != 4 || list[0].Hash != "c" || list[3].Hash != "f" {
		t.Fatalf("kept %v, want the four newest (c–f)", list)
	}
	if _, ok, _ := m.Snapshot("a"); ok {
		t.Fatal("the oldest snapshot was not dropped")
	}
	if got, ok, _ := m.Snapshot("f"); !ok || len(got) != len(big) {
		t.Fatalf("snapshot f: %d bytes, %v", len(got), ok)
	}
}

// TestMemorySnapshotsForThePublisher: the memory outbox is a publisher's
// snapshot source too: a stored snapshot signals Ready, is pending oldest
// first until deleted, and deleting one that is gone is no error.
func TestMemorySnapshotsForThePublisher(t *testing.T) {
	m := NewMemory(10)
	for _, h := range []string{"a", "b", "c"} {
		if err := m.PutSnapshot(h, []byte("png-"+h)); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-m.Ready():
	default:
		t.Fatal("PutSnapshot did not signal Ready")
	}
	if got, _ := m.PendingSnapshots(2); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("pending %v, want [a b]", got)
	}
	if err := m.DeleteSnapshot("a"); err != nil {
		t.Fatal(err)
	}
	if err := m.DeleteSnapshot("a"); err != nil {
		t.Errorf("deleting a snapshot already gone: %v", err)
	}
	if got, _ := m.PendingSnapshots(10); !slices.Equal(got, []string{"b", "c"}) {
		t.Errorf("pending after delete %v, want [b c]", got)
	}
	if _, ok, _ := m.Snapshot("a"); ok {
		t.Error("a deleted snapshot is still kept")
	}
}
