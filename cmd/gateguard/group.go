package main

import (
	"context"
	"errors"
	"log/slog"
	"sync"
)

// group owns goroutines that share one context: Go starts one, stop
// cancels the context, wait waits for every one. Each goroutine is named,
// and an error it returns other than its context's ending is logged, not
// lost. The zero group is not usable; make one with newGroup.
type group struct {
	ctx    context.Context
	cancel context.CancelFunc
	log    *slog.Logger
	wg     sync.WaitGroup
}

// newGroup returns a group whose goroutines run until parent ends or stop
// is called.
func newGroup(parent context.Context, log *slog.Logger) *group {
	ctx, cancel := context.WithCancel(parent)
	return &group{ctx: ctx, cancel: cancel, log: log}
}

// Go runs fn in a goroutine of g, with g's context.
func (g *group) Go(name string, fn func(ctx context.Context) error) {
	g.wg.Go(func() {
		if err := fn(g.ctx); err != nil && !errors.Is(err, context.Canceled) {
			g.log.Warn("stopped with an error", "task", name, "err", err)
		}
	})
}

// stop cancels g's context; it does not wait.
func (g *group) stop() { g.cancel() }

// wait waits for every goroutine of g to return.
func (g *group) wait() { g.wg.Wait() }
