package systemd

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Heartbeat is one work loop's sign of life: the loop calls Beat each time
// round. It is safe for concurrent use.
type Heartbeat struct {
	name string
	last atomic.Int64 // UnixNano of the last beat
}

// Beat records that the loop is alive now.
func (h *Heartbeat) Beat() { h.last.Store(time.Now().UnixNano()) }

// Name is the loop's name.
func (h *Heartbeat) Name() string { return h.name }

// age is how long ago the loop last beat.
func (h *Heartbeat) age(now time.Time) time.Duration {
	return now.Sub(time.Unix(0, h.last.Load()))
}

// Supervisor pings the service manager's watchdog only while every
// registered heartbeat is fresh: a loop that hangs stops the pings, and
// systemd restarts the daemon after WatchdogSec.
type Supervisor struct {
	// Notify sends a state message (Notifier.Notify); required.
	Notify func(state string) error
	// Interval is how often the heartbeats are checked and the watchdog
	// pinged: half the watchdog timeout or less.
	Interval time.Duration
	// MaxAge is how old a heartbeat may be and still count as alive.
	MaxAge time.Duration
	// Log reports stale loops; nil is slog.Default().
	Log *slog.Logger

	mu    sync.Mutex // guards beats
	beats []*Heartbeat
}

// Heartbeat registers a loop by name and returns its heartbeat, counted as
// fresh from now.
func (s *Supervisor) Heartbeat(name string) *Heartbeat {
	h := &Heartbeat{name: name}
	h.Beat()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.beats = append(s.beats, h)
	return h
}

// stale returns the names of the loops whose heartbeat is too old.
func (s *Supervisor) stale(now time.Time) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for _, h := range s.beats {
		if h.age(now) > s.MaxAge {
			names = append(names, h.name)
		}
	}
	return names
}

// Run checks the heartbeats every Interval until ctx ends and sends
// WATCHDOG=1 when all are fresh. A loop going stale, and coming back, is
// logged once each way.
func (s *Supervisor) Run(ctx context.Context) {
	log := s.Log
	if log == nil {
		log = slog.Default()
	}
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	was := ""
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			stale := strings.Join(s.stale(now), ",")
			if stale != was {
				if stale != "" {
					log.Error("work loop not responding: watchdog pings stopped; systemd restarts the daemon", "loops", stale)
				} else {
					log.Info("work loops responding again: watchdog pings resumed")
				}
				was = stale
			}
			if stale != "" {
				continue
			}
			if err := s.Notify("WATCHDOG=1"); err != nil {
				log.Warn("watchdog ping", "err", err)
			}
		}
	}
}

// Pinger is a loop that can be asked to prove it is alive: Ping returns
// once the loop itself has run a no-op, or ctx's error.
type Pinger interface {
	Ping(ctx context.Context) error
}

// PingLoop asks p every interval to prove it is alive, allowing timeout
// for each answer, and beats h each time it answers, until ctx ends. It
// makes a loop that waits on channels (the gate's decision loop) feed a
// heartbeat without a ticker of its own.
func PingLoop(ctx context.Context, p Pinger, h *Heartbeat, interval, timeout time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		pctx, cancel := context.WithTimeout(ctx, timeout)
		err := p.Ping(pctx)
		cancel()
		if err == nil {
			h.Beat()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
