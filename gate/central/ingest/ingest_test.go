package ingest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gateguard/gateguard/gate/central/store"
	"github.com/gateguard/gateguard/gate/central/store/storetest"
)

// memStore keeps event ids; Commit fails while down is set.
type memStore struct {
	store.Store // unused methods panic

	mu       sync.Mutex
	down     bool
	ids      map[string]int
	attempts int
}

func (m *memStore) Commit(_ context.Context, b *store.Batch) (store.CommitResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.attempts++
	if m.down {
		return store.CommitResult{}, errors.New("disk full")
	}
	var r store.CommitResult
	for _, e := range b.Events {
		if m.ids[e.ID]++; m.ids[e.ID] == 1 {
			r.Events++
		} else {
			r.DuplicateEvents++
		}
	}
	return r, nil
}

func (m *memStore) Ping(context.Context) error { return nil }

func (m *memStore) set(down bool) { m.mu.Lock(); m.down = down; m.mu.Unlock() }

type fakeMsg struct {
	topic   string
	payload []byte
	acked   *atomic.Int32
}

func (f fakeMsg) Topic() string   { return f.topic }
func (f fakeMsg) Payload() []byte { return f.payload }
func (f fakeMsg) Ack()            { f.acked.Add(1) }

// TestStoreDownNothingAcked: while the store refuses commits nothing is
// acknowledged and Health says why; once it is back the same batch commits,
// every message is acknowledged once and Health recovers.
func TestStoreDownNothingAcked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ms := &memStore{ids: map[string]int{}, down: true}
		in, err := New(ms, Options{Brokers: []string{"tcp://unused:1"}, ClientID: "gw", RetryMin: time.Second, RetryMax: 4 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		msgs := make(chan Message)
		done := make(chan struct{})
		go func() { defer close(done); _ = in.Consume(ctx, msgs) }()
		var acked atomic.Int32
		for i := uint64(1); i <= 20; i++ {
			e := storetest.Event("p1", "lane-1", i, storetest.Base, "alice", "admitted")
			msgs <- fakeMsg{topic: "gateguard/v1/p1/lane-1/event/access", payload: e.Raw, acked: &acked}
		}
		time.Sleep(time.Minute) // fake time: many retries, all refused
		synctest.Wait()
		h := in.Health()
		if h.StoreOK || h.StoreError != "disk full" || acked.Load() != 0 || h.StoreErrorSince.IsZero() {
			t.Fatalf("store down: health %+v, %d acked", h, acked.Load())
		}
		ms.mu.Lock()
		attempts := ms.attempts
		ms.mu.Unlock()
		if attempts < 3 || attempts > 30 {
			t.Fatalf("%d commit attempts in a minute: no backoff, or no retry", attempts)
		}
		ms.set(false)
		time.Sleep(5 * time.Second)
		synctest.Wait()
		h = in.Health()
		if !h.StoreOK || h.StoreError != "" || acked.Load() != 20 || h.Committed != 20 {
			t.Fatalf("store back: health %+v, %d acked", h, acked.Load())
		}
		for id, n := range ms.ids {
			if n != 1 {
				t.Fatalf("event %s committed %d times", id, n)
			}
		}
		if len(ms.ids) != 20 {
			t.Fatalf("%d events stored, want 20", len(ms.ids))
		}
		cancel()
		<-done
	})
}

// TestCancelDuringRetryAcksNothing: gatewatch stopped while the store is
// down acknowledges nothing (the broker keeps the messages).
func TestCancelDuringRetryAcksNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ms := &memStore{ids: map[string]int{}, down: true}
		in, _ := New(ms, Options{Brokers: []string{"tcp://unused:1"}, ClientID: "gw"})
		ctx, cancel := context.WithCancel(t.Context())
		msgs := make(chan Message)
		done := make(chan struct{})
		go func() { defer close(done); _ = in.Consume(ctx, msgs) }()
		var acked atomic.Int32
		e := storetest.Event("p1", "lane-1", 1, storetest.Base, "alice", "admitted")
		msgs <- fakeMsg{topic: "gateguard/v1/p1/lane-1/event/access", payload: e.Raw, acked: &acked}
		time.Sleep(10 * time.Second)
		cancel()
		<-done
		if acked.Load() != 0 {
			t.Fatal("a message was acknowledged without a commit")
		}
	})
}

// TestQuarantineDoesNotBlock: an invalid message is committed (to the
// quarantine) and acknowledged with the valid ones around it.
func TestQuarantineDoesNotBlock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ms := &memStore{ids: map[string]int{}}
		in, _ := New(ms, Options{Brokers: []string{"tcp://unused:1"}, ClientID: "gw"})
		ctx, cancel := context.WithCancel(t.Context())
		msgs := make(chan Message)
		done := make(chan struct{})
		go func() { defer close(done); _ = in.Consume(ctx, msgs) }()
		var acked atomic.Int32
		e1 := storetest.Event("p1", "lane-1", 1, storetest.Base, "alice", "admitted")
		e2 := storetest.Event("p1", "lane-1", 2, storetest.Base, "alice", "admitted")
		msgs <- fakeMsg{topic: "gateguard/v1/p1/lane-1/event/access", payload: e1.Raw, acked: &acked}
		msgs <- fakeMsg{topic: "gateguard/v1/p1/lane-1/event/access", payload: []byte("garbage"), acked: &acked}
		msgs <- fakeMsg{topic: "gateguard/v1/p1/lane-1/event/access", payload: e2.Raw, acked: &acked}
		synctest.Wait()
		if acked.Load() != 3 || len(ms.ids) != 2 {
			t.Fatalf("%d acked, %d stored", acked.Load(), len(ms.ids))
		}
		cancel()
		<-done
	})
}
