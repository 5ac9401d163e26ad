package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
)

// TestGroupWaitsForEveryGoroutine: wait returns only once every goroutine
// of the group has returned, even one still working after stop.
func TestGroupWaitsForEveryGoroutine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGroup(context.Background(), slog.New(slog.DiscardHandler))
		release := make(chan struct{})
		var cancelled atomic.Bool
		g.Go("slow", func(ctx context.Context) error {
			<-ctx.Done()
			cancelled.Store(true)
			<-release // still shutting down
			return ctx.Err()
		})
		var waited atomic.Bool
		go func() {
			g.wait()
			waited.Store(true)
		}()
		synctest.Wait()
		if cancelled.Load() || waited.Load() {
			t.Fatalf("before stop: cancelled %v, waited %v", cancelled.Load(), waited.Load())
		}
		g.stop()
		synctest.Wait()
		if !cancelled.Load() {
			t.Fatal("stop did not cancel the goroutine's context")
		}
		if waited.Load() {
			t.Fatal("wait returned while a goroutine was still running")
		}
		close(release)
		synctest.Wait()
		if !waited.Load() {
			t.Fatal("wait did not return after the last goroutine did")
		}
	})
}

// TestGroupLogsErrors: a goroutine's error is logged with its name; its
// context ending is not an error.
func TestGroupLogsErrors(t *testing.T) {
	var out bytes.Buffer
	g := newGroup(context.Background(), slog.New(slog.NewTextHandler(&out, nil)))
	g.Go("broken", func(context.Context) error { return errors.New("bus gone") })
	g.Go("quiet", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	g.stop()
	g.wait()
	log := out.String()
	if !strings.Contains(log, "task=broken") || !strings.Contains(log, "bus gone") {
		t.Errorf("log %q does not name the failed goroutine and its error", log)
	}
	if strings.Contains(log, "quiet") {
		t.Errorf("log %q reports a goroutine that only stopped", log)
	}
}
