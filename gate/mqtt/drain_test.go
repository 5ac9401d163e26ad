package mqtt

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/outbox"
)

// drainRig is a Publisher on a fakeClient and a memory outbox, with drain
// run in its own goroutine; use it inside a synctest bubble.
type drainRig struct {
	t  *testing.T
	p  *Publisher
	c  *fakeClient
	ob *outbox.Memory
}

func newDrainRig(t *testing.T, window int, events int) *drainRig {
	ob := outbox.NewMemory(1000)
	for seq := 1; seq <= events; seq++ {
		if err := ob.Record(gate.Message{Seq: uint64(seq), ID: fmt.Sprint(seq), Topic: gate.TopicAccess,
			Payload: fmt.Appendf(nil, `{"seq":%d}`, seq)}); err != nil {
			t.Fatal(err)
		}
	}
	p := New(Options{Broker: "tcp://127.0.0.1:1", Prefix: "gateguard/v1/s/g", Window: window,
		PublishTimeout: 10 * time.Second, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}, ob)
	c := &fakeClient{open: true}
	p.client = c
	return &drainRig{t: t, p: p, c: c, ob: ob}
}

type drainResult struct {
	more bool
	err  error
}

// start runs one drain on the current connection.
func (r *drainRig) start() <-chan drainResult {
	ch := make(chan drainResult, 1)
	epoch := r.p.epoch.Load()
	go func() {
		more, err := r.p.drain(context.Background(), epoch)
		ch <- drainResult{more, err}
	}()
	synctest.Wait()
	return ch
}

// seqs returns the sequence numbers of publishes from index from on.
func (r *drainRig) seqs(from int) []int {
	var out []int
	for _, p := range r.c.published()[from:] {
		var seq int
		fmt.Sscanf(string(p.payload), `{"seq":%d}`, &seq)
		if p.qos != 1 {
			r.t.Errorf("seq %d published with QoS %d", seq, p.qos)
		}
		out = append(out, seq)
	}
	return out
}

// ack completes the publishes of the given seqs (index into all publishes).
func (r *drainRig) ack(err error, idx ...int) {
	pubs := r.c.published()
	for _, i := range idx {
		pubs[i].tok.complete(err)
	}
	synctest.Wait()
}

// TestDrainAcks covers how PUBACKs turn into deletions from the outbox.
func TestDrainAcks(t *testing.T) {
	t.Run("out-of-order acks delete only the acknowledged prefix", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newDrainRig(t, 8, 5)
			done := r.start()
			if got := fmt.Sprint(r.seqs(0)); got != "[1 2 3 4 5]" {
				t.Fatalf("published %s", got)
			}
			r.ack(nil, 2, 4, 1) // seqs 3, 5, 2: the head (1) is still waiting
			if d := r.ob.Depth(); d != 5 {
				t.Fatalf("depth %d with seq 1 unacknowledged, want 5", d)
			}
			r.ack(nil, 0) // seq 1: 1–3 are acknowledged in order, 4 is not
			if d := r.ob.Depth(); d < 2 {
				t.Fatalf("depth %d: seq 4 (unacknowledged) or 5 was deleted", d)
			}
			r.ack(nil, 3)
			res := <-done
			if res.err != nil || res.more {
				t.Fatalf("drain = %+v", res)
			}
			if d := r.ob.Depth(); d != 0 {
				t.Errorf("depth %d after every PUBACK", d)
			}
			if s := r.p.Stats(); s.Published != 5 || s.Resent != 0 {
				t.Errorf("stats %+v", s)
			}
			if n := len(r.c.published()); n != 5 {
				t.Errorf("%d publishes, want 5 (none sent twice)", n)
			}
		})
	})

	t.Run("an ack completing after the connection was lost is ignored", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newDrainRig(t, 8, 3)
			done := r.start()
			r.p.epoch.Add(1) // the connection is lost…
			r.ack(nil, 0, 1, 2)
			res := <-done // …and its tokens complete without error anyway
			if res.err == nil {
				t.Fatal("drain trusted tokens completed across a connection loss")
			}
			if d := r.ob.Depth(); d != 3 {
				t.Errorf("depth %d: messages deleted on acks from an old connection", d)
			}
			if s := r.p.Stats(); s.Published != 0 || s.Resent != 3 {
				t.Errorf("stats %+v, want 0 published, 3 to resend", s)
			}
		})
	})

	t.Run("partial window acked, then disconnect: only the unacked are resent", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newDrainRig(t, 8, 8)
			done := r.start()
			r.ack(nil, 0, 1, 2, 3) // seqs 1–4
			if d := r.ob.Depth(); d != 4 {
				t.Fatalf("depth %d after acks for 1–4 (half the window), want 4", d)
			}
			r.p.epoch.Add(1)
			r.ack(errFakeLost, 4, 5, 6, 7) // paho fails the rest
			if res := <-done; res.err == nil {
				t.Fatal("drain ended without an error on a lost connection")
			}
			if d := r.ob.Depth(); d != 4 {
				t.Fatalf("depth %d after the loss, want 4 (5–8)", d)
			}
			done = r.start() // the next connection
			if got := fmt.Sprint(r.seqs(8)); got != "[5 6 7 8]" {
				t.Fatalf("resent %s, want [5 6 7 8]", got)
			}
			r.ack(nil, 8, 9, 10, 11)
			if res := <-done; res.err != nil {
				t.Fatal(res.err)
			}
			if d := r.ob.Depth(); d != 0 {
				t.Errorf("depth %d", d)
			}
			if s := r.p.Stats(); s.Published != 8 || s.Resent != 4 {
				t.Errorf("stats %+v, want 8 published, 4 resent", s)
			}
		})
	})

	t.Run("duplicate ack: a late ack from the old connection after the resend", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newDrainRig(t, 8, 4)
			done := r.start()
			r.ack(nil, 0, 1) // seqs 1, 2 (not yet deleted: below half the window)
			r.p.epoch.Add(1)
			if res := <-r.startAfterLoss(done); res.err == nil {
				t.Fatal("no error on a lost connection")
			}
			if d := r.ob.Depth(); d != 2 {
				t.Fatalf("depth %d after the loss, want 2: acknowledged 1, 2 deleted on the way out", d)
			}
			done = r.start()
			if got := fmt.Sprint(r.seqs(4)); got != "[3 4]" {
				t.Fatalf("resent %s, want [3 4]", got)
			}
			r.ack(nil, 2, 3) // the old connection's ack for 4 arrives late (3's was failed)
			if d := r.ob.Depth(); d != 2 {
				t.Fatalf("depth %d: late acks from the old connection deleted messages", d)
			}
			r.ack(nil, 4, 5) // the new connection's acks
			if res := <-done; res.err != nil {
				t.Fatal(res.err)
			}
			if d := r.ob.Depth(); d != 0 {
				t.Errorf("depth %d", d)
			}
			if s := r.p.Stats(); s.Published != 4 {
				t.Errorf("published %d, want 4: each message counted once", s.Published)
			}
		})
	})

	t.Run("no PUBACK within the timeout ends the drain, deleting nothing", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newDrainRig(t, 8, 2)
			done := r.start()
			res := <-done // fake time runs to the publish timeout
			if res.err == nil || !strings.Contains(res.err.Error(), "no PUBACK") {
				t.Fatalf("drain = %+v, want a PUBACK timeout", res)
			}
			if d := r.ob.Depth(); d != 2 {
				t.Errorf("depth %d", d)
			}
		})
	})
}

// startAfterLoss waits for the drain on a lost connection: its first
// unacknowledged token fails as paho fails it on a connection loss.
func (r *drainRig) startAfterLoss(done <-chan drainResult) <-chan drainResult {
	pubs := r.c.published()
	for _, p := range pubs {
		select {
		case <-p.tok.Done():
		default:
			// paho fails in-flight tokens when the connection is lost; the
			// old connection's tokens for later seqs are left pending, to
			// be completed late by the test.
			p.tok.complete(errFakeLost)
			synctest.Wait()
			return done
		}
	}
	return done
}
