package outbox

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/gateguard/gateguard/gate"
)

// ErrFull reports an outbox at its capacity. Nothing is dropped to make room:
// the gate goes to its fail mode instead.
var ErrFull = errors.New("outbox: full")

// Memory is an in-memory outbox. It loses its contents with the process; it
// serves tests and gates configured without an outbox path.
type Memory struct {
	max    int
	notify chan struct{}

	mu        sync.Mutex // guards the fields below
	queue     []gate.Message
	lastSeq   uint64
	empty     chan struct{} // closed while the queue is empty
	snaps     map[string][]byte
	snapOrder []string // oldest first
	snapBytes int
}

// MemorySnapshotBytes bounds the snapshots a Memory outbox keeps; the
// oldest are dropped past it.
const MemorySnapshotBytes = 16 << 20

var _ gate.Recorder = (*Memory)(nil)

// NewMemory returns an outbox holding at most max messages.
func NewMemory(max int) *Memory {
	empty := make(chan struct{})
	close(empty)
	return &Memory{max: max, notify: make(chan struct{}, 1), empty: empty}
}

// Record appends m.
func (m *Memory) Record(msg gate.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.queue) >= m.max {
		return fmt.Errorf("%w: %d messages", ErrFull, len(m.queue))
	}
	if msg.Seq <= m.lastSeq {
		return fmt.Errorf("outbox: sequence %d is not after %d", msg.Seq, m.lastSeq)
	}
	if len(m.queue) == 0 {
		m.empty = make(chan struct{})
	}
	m.queue = append(m.queue, msg)
	m.lastSeq = msg.Seq
	select {
	case m.notify <- struct{}{}:
	default:
	}
	return nil
}

// Depth returns the number of messages not yet acknowledged.
func (m *Memory) Depth() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.queue)
}

// LastSeq returns the highest sequence number recorded.
func (m *Memory) LastSeq() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lastSeq
}

// Peek returns up to n of the oldest messages, oldest first.
func (m *Memory) Peek(n int) ([]gate.Message, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n = min(n, len(m.queue))
	return append([]gate.Message(nil), m.queue[:n]...), nil
}

// PeekAfter returns up to n of the oldest messages numbered above seq.
func (m *Memory) PeekAfter(seq uint64, n int) ([]gate.Message, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	i, _ := slices.BinarySearchFunc(m.queue, seq+1, func(e gate.Message, s uint64) int { return cmp.Compare(e.Seq, s) })
	end := min(i+max(n, 0), len(m.queue))
	return append([]gate.Message(nil), m.queue[i:end]...), nil
}

// AckThrough removes every message numbered up to seq.
func (m *Memory) AckThrough(seq uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for n < len(m.queue) && m.queue[n].Seq <= seq {
		m.queue[n] = gate.Message{}
		n++
	}
	if n == 0 {
		return nil
	}
	m.queue = m.queue[n:]
	if len(m.queue) == 0 {
		close(m.empty)
	}
	return nil
}

// Ack removes the message with sequence number seq, which must be the oldest.
func (m *Memory) Ack(seq uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.queue) == 0 || m.queue[0].Seq != seq {
		return fmt.Errorf("outbox: ack %d is not the oldest message", seq)
	}
	m.queue[0] = gate.Message{}
	m.queue = m.queue[1:]
	if len(m.queue) == 0 {
		close(m.empty)
	}
	return nil
}

// WaitEmpty returns when every recorded message has been acknowledged, or
// with ctx's error when ctx ends first.
func (m *Memory) WaitEmpty(ctx context.Context) error {
	m.mu.Lock()
	empty := m.empty
	m.mu.Unlock()
	select {
	case <-empty:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Ready is signalled after a Record.
func (m *Memory) Ready() <-chan struct{} { return m.notify }

// PutSnapshot keeps data (an image an alert refers to by hash) in memory,
// dropping the oldest snapshots past MemorySnapshotBytes.
func (m *Memory) PutSnapshot(hash string, data []byte) error {
	if hash == "" || len(hash) > 128 {
		return fmt.Errorf("outbox: snapshot hash %q must be 1–128 bytes", hash)
	}
	if len(data) > MaxSnapshotBytes {
		return fmt.Errorf("outbox: snapshot %s: %d bytes exceeds %d", hash, len(data), MaxSnapshotBytes)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.snaps == nil {
		m.snaps = map[string][]byte{}
	}
	if old, ok := m.snaps[hash]; ok {
		m.snapBytes -= len(old)
		m.snapOrder = slices.DeleteFunc(m.snapOrder, func(h string) bool { return h == hash })
	}
	m.snaps[hash] = append([]byte(nil), data...)
	m.snapOrder = append(m.snapOrder, hash)
	m.snapBytes += len(data)
	for m.snapBytes > MemorySnapshotBytes && len(m.snapOrder) > 1 {
		m.snapBytes -= len(m.snaps[m.snapOrder[0]])
		delete(m.snaps, m.snapOrder[0])
		m.snapOrder = m.snapOrder[1:]
	}
	kick(m.notify) // the publisher sends snapshots too
	return nil
}

// Snapshot returns the snapshot kept under hash; ok is false when there is
// none (never stored, or dropped to make room).
func (m *Memory) Snapshot(hash string) (data []byte, ok bool, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.snaps[hash]
	return append([]byte(nil), d...), ok, nil
}

// Snapshots lists the kept snapshots, oldest first.
func (m *Memory) Snapshots() ([]SnapshotInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]SnapshotInfo, 0, len(m.snapOrder))
	for _, h := range m.snapOrder {
		out = append(out, SnapshotInfo{Hash: h, Bytes: len(m.snaps[h])})
	}
	return out, nil
}

// PendingSnapshots returns the hashes of up to n kept snapshots, oldest
// first: those the publisher has not yet delivered (DeleteSnapshot).
func (m *Memory) PendingSnapshots(n int) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.snapOrder[:min(n, len(m.snapOrder))]), nil
}

// DeleteSnapshot removes the snapshot kept under hash, once delivered;
// removing one that is not there (dropped meanwhile) is not an error.
func (m *Memory) DeleteSnapshot(hash string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if d, ok := m.snaps[hash]; ok {
		m.snapBytes -= len(d)
		delete(m.snaps, hash)
		m.snapOrder = slices.DeleteFunc(m.snapOrder, func(h string) bool { return h == hash })
	}
	return nil
}
