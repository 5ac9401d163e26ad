package outbox

import (
	"context"
	"errors"
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
