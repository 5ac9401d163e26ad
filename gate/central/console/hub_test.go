package console

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/gateguard/gateguard/gate/central/store"
)

// TestHubDropsSlowClient: a client that does not read is dropped (its
// channel closed, marked for a reload) when its buffer is full, and the
// hub's broadcast never waits for it; a reading client gets everything.
func TestHubDropsSlowClient(t *testing.T) {
	h := newHub(nil, nil, time.Second, 4, slog.New(slog.DiscardHandler))
	slow := h.subscribe()
	fast := h.subscribe()
	got := 0
	for i := range 10 {
		h.broadcast(update{alert: &store.AlertRow{AlertID: "a"}})
		for len(fast.ch) > 0 {
			<-fast.ch
			got++
		}
		if i < 4 && slow.dropped {
			t.Fatalf("slow client dropped after %d updates, buffer is 4", i+1)
		}
	}
	if !h.isDropped(slow) {
		t.Fatal("slow client not dropped")
	}
	n := 0
	for range slow.ch { // closed: the range ends after the buffered ones
		n++
	}
	if n != 4 {
		t.Fatalf("slow client had %d buffered updates, want 4", n)
	}
	if got != 10 || fast.dropped {
		t.Fatalf("reading client got %d of 10 (dropped %v)", got, fast.dropped)
	}
	if s := h.Stats(); s.Dropped != 1 || s.Clients != 1 {
		t.Fatalf("stats %+v: want 1 dropped, 1 client", s)
	}
	h.unsubscribe(slow) // already gone: no double close
	h.unsubscribe(fast)
}

// TestHubAnnouncesNewAlerts: the first poll learns what exists; a later
// alert is broadcast as fresh, an acknowledgement as a change.
func TestHubAnnouncesNewAlerts(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.feverAlert("old")
	h := newHub(f.st, f.db, time.Second, 16, slog.New(slog.DiscardHandler))
	cl := h.subscribe()
	h.poll(ctx, true, false)
	if len(cl.ch) != 0 {
		t.Fatal("the first poll announced existing alerts")
	}
	f.feverAlert("new")
	h.poll(ctx, false, false)
	if len(cl.ch) != 1 {
		t.Fatalf("%d updates after a new alert, want 1", len(cl.ch))
	}
	if u := <-cl.ch; u.alert.AlertID != "new" || !u.fresh {
		t.Fatalf("update %+v, want fresh alert new", u.alert)
	}
	if err := f.st.Ack(ctx, "old", "gus", "ok", time.Now()); err != nil {
		t.Fatal(err)
	}
	h.poll(ctx, false, false)
	if u := <-cl.ch; u.alert.AlertID != "old" || u.fresh || u.alert.AckBy != "gus" {
		t.Fatalf("update %+v fresh=%v, want the acknowledged old alert, not fresh", u.alert, u.fresh)
	}
}
