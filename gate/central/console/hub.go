package console

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/gateguard/gateguard/gate/central/store"
)

// update is one change the live page shows: an alert that is new or
// changed, or the gate table.
type update struct {
	alert *store.AlertRow
	fresh bool // first time seen: the page plays the sound
	gates []store.GateRow
}

// client is one open live page. Its channel is bounded: when it is full
// the hub drops the client (it gets a reload marker) instead of waiting.
type client struct {
	ch      chan update
	dropped bool // set by the hub (under its mutex) before it closes ch on overflow
}

// isDropped reports whether the hub dropped c for falling behind.
func (h *Hub) isDropped(c *client) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return c.dropped
}

// Hub fans store changes out to the open live pages. One goroutine (Run)
// polls the store for changed alerts and gates; it never blocks on a
// browser: a client whose buffer is full is dropped and told to reload.
// The ingest is not involved at all: it commits, the hub reads.
type Hub struct {
	st     store.Store
	db     *DB // derived items' acknowledgements; nil: no derived items
	every  time.Duration
	buffer int
	log    *slog.Logger

	mu      sync.Mutex // guards the fields below
	clients map[*client]struct{}
	seen    map[string]string // alert id → its version (messages, ack)
	gates   []store.GateRow
	stats   HubStats
}

// HubStats counts what the hub did.
type HubStats struct {
	Polls     int64 // store polls
	Sent      int64 // updates queued to clients
	Dropped   int64 // clients dropped because they fell behind
	Clients   int   // clients connected now
	PollMaxMS int64 // slowest poll
}

func newHub(st store.Store, db *DB, every time.Duration, buffer int, log *slog.Logger) *Hub {
	return &Hub{st: st, db: db, every: every, buffer: buffer, log: log, clients: map[*client]struct{}{}, seen: map[string]string{}}
}

// Stats returns the hub's counters.
func (h *Hub) Stats() HubStats {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.stats
	s.Clients = len(h.clients)
	return s
}

func (h *Hub) subscribe() *client {
	c := &client{ch: make(chan update, h.buffer)}
	h.mu.Lock()
	h.clients[c] = struct{}{}
	h.mu.Unlock()
	return c
}

func (h *Hub) unsubscribe(c *client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.clients[c]; ok {
		delete(h.clients, c)
		close(c.ch)
	}
}

// broadcast queues u to every client without waiting; a full client is
// dropped (its channel closed with dropped set).
func (h *Hub) broadcast(u update) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		select {
		case c.ch <- u:
			h.stats.Sent++
		default:
			c.dropped = true
			delete(h.clients, c)
			close(c.ch)
			h.stats.Dropped++
			h.log.Warn("console: a live page fell behind; it is told to reload", "buffer", h.buffer, "dropped_total", h.stats.Dropped)
		}
	}
}

func version(a store.AlertRow) string {
	return a.State + "|" + a.Last.String() + "|" + a.AckBy + "|" + a.AckAt.String() + "|" + a.Snapshot + boolStr(a.HasImage)
}

func boolStr(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// Run polls until ctx ends.
func (h *Hub) Run(ctx context.Context) {
	t := time.NewTicker(h.every)
	defer t.Stop()
	defer func() {
		s := h.Stats()
		h.log.Info("console: live hub stopped", "polls", s.Polls, "sent", s.Sent, "dropped", s.Dropped, "poll_max_ms", s.PollMaxMS)
	}()
	first := true
	gatesEvery := 0
	for {
		h.poll(ctx, first, gatesEvery == 0)
		first = false
		gatesEvery = (gatesEvery + 1) % 4
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// poll reads the most recently changed alerts and broadcasts those whose
// version changed. The first poll only learns what exists (no sound for
// alerts older than the hub).
func (h *Hub) poll(ctx context.Context, first, withGates bool) {
	start := time.Now()
	alerts, err := h.st.Alerts(ctx, store.AlertFilter{Limit: 100})
	if err != nil {
		if ctx.Err() == nil {
			h.log.Warn("console: live poll failed", "err", err)
		}
		return
	}
	if h.db != nil && withGates {
		// Derived items (face_mismatch denials) cost an events query: once
		// a second, over the last ten minutes.
		derived, err := derivedAlerts(ctx, h.st, h.db, time.Now(), 10*time.Minute, 50)
		if err != nil {
			if ctx.Err() == nil {
				h.log.Warn("console: live poll failed", "err", err)
			}
			return
		}
		alerts = append(alerts, derived...)
	}
	var changed []update
	h.mu.Lock()
	for i := len(alerts) - 1; i >= 0; i-- {
		a := alerts[i]
		v := version(a)
		old, known := h.seen[a.AlertID]
		if old == v {
			continue
		}
		h.seen[a.AlertID] = v
		if !first {
			changed = append(changed, update{alert: &a, fresh: !known})
		}
	}
	if len(h.seen) > 5000 { // forget the oldest: keep what the last poll returned
		keep := make(map[string]string, len(alerts))
		for _, a := range alerts {
			keep[a.AlertID] = h.seen[a.AlertID]
		}
		h.seen = keep
	}
	h.stats.Polls++
	h.mu.Unlock()
	for _, u := range changed {
		h.broadcast(u)
	}
	if withGates {
		gates, err := h.st.Gates(ctx)
		if err == nil {
			h.mu.Lock()
			h.gates = gates
			h.mu.Unlock()
			h.broadcast(update{gates: gates})
		}
	}
	ms := time.Since(start).Milliseconds()
	h.mu.Lock()
	h.stats.PollMaxMS = max(h.stats.PollMaxMS, ms)
	h.mu.Unlock()
}
