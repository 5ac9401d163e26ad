package gate_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// TestPing: a running decision loop answers a ping; a stopped one does
// not, and the ping returns its context's error instead of blocking.
func TestPing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, nil)
		if err := h.ctrl.Ping(context.Background()); err != nil {
			t.Fatalf("Ping on a running loop: %v", err)
		}
		h.shutdown()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := h.ctrl.Ping(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Ping on a stopped loop: %v, want the deadline", err)
		}
	})
}
