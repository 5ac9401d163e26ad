package systemd

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// fakeLoop is a work loop answering pings on its own goroutine, as the
// gate's decision loop does; hang makes it stop answering.
type fakeLoop struct {
	calls chan func()
	mu    sync.Mutex // guards hung
	hung  chan struct{}
}

func (l *fakeLoop) Ping(ctx context.Context) error {
	done := make(chan struct{})
	select {
	case l.calls <- func() { close(done) }:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *fakeLoop) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case f := <-l.calls:
			l.mu.Lock()
			hung := l.hung
			l.mu.Unlock()
			if hung != nil {
				select { // a loop stuck in one step
				case <-hung:
				case <-ctx.Done():
					return
				}
			}
			f()
		}
	}
}

func (l *fakeLoop) setHung(h bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if h {
		l.hung = make(chan struct{})
	} else if l.hung != nil {
		close(l.hung)
		l.hung = nil
	}
}

func count(msgs []string, want string) int {
	n := 0
	for _, m := range msgs {
		if m == want {
			n++
		}
	}
	return n
}

// TestWatchdogStopsWhenTheDecisionLoopHangs: the supervisor pings the
// (fake) notify socket while the decision loop answers its pings and the
// camera loop beats; once the decision loop hangs, the pings stop within
// MaxAge, and they resume when it answers again. The camera loop alone
// going quiet stops them too.
func TestWatchdogStopsWhenTheDecisionLoopHangs(t *testing.T) {
	sock := newFakeSocket(t)
	synctest.Test(t, func(t *testing.T) {
		n := NewNotifier(sock.path)
		defer n.Close()
		sup := &Supervisor{Notify: n.Notify, Interval: 5 * time.Second, MaxAge: 10 * time.Second,
			Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		decision, cam := sup.Heartbeat("decision"), sup.Heartbeat("camera")
		loop := &fakeLoop{calls: make(chan func())}
		ctx, cancel := context.WithCancel(t.Context())
		var wg sync.WaitGroup
		defer wg.Wait() // also on a failure: Fatal runs the defers, the loops stop
		defer cancel()
		wg.Go(func() { loop.run(ctx) })
		wg.Go(func() { PingLoop(ctx, loop, decision, time.Second, 2*time.Second) })
		camAlive := make(chan bool, 1)
		camAlive <- true
		wg.Go(func() { // the camera loop, one frame every 100 ms
			tk := time.NewTicker(100 * time.Millisecond)
			defer tk.Stop()
			alive := true
			for {
				select {
				case <-ctx.Done():
					return
				case alive = <-camAlive:
				case <-tk.C:
					if alive {
						cam.Beat()
					}
				}
			}
		})
		wg.Go(func() { sup.Run(ctx) })

		// advance lets fake time pass in steps of one supervisor tick and
		// returns the pings sent meanwhile (draining each step: the kernel
		// blocks a datagram sender once 10 wait unread).
		advance := func(d time.Duration) int {
			n := 0
			for ; d > 0; d -= 5 * time.Second {
				time.Sleep(5 * time.Second)
				synctest.Wait()
				n += count(sock.drain(t), "WATCHDOG=1")
			}
			return n
		}

		if got := advance(30 * time.Second); got < 5 {
			t.Fatalf("%d watchdog pings in 30 s with every loop alive, want 6", got)
		}

		loop.setHung(true)
		advance(15 * time.Second) // past MaxAge: the last pings may still go out
		if got := advance(60 * time.Second); got != 0 {
			t.Fatalf("%d watchdog pings in 60 s with the decision loop hung, want none", got)
		}

		loop.setHung(false)
		if got := advance(20 * time.Second); got < 2 {
			t.Fatalf("%d pings after the decision loop answered again, want them resumed", got)
		}

		camAlive <- false
		advance(15 * time.Second)
		if got := advance(30 * time.Second); got != 0 {
			t.Fatalf("%d watchdog pings in 30 s with the camera loop quiet, want none", got)
		}
	})
}

func TestStaleNames(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sup := &Supervisor{MaxAge: time.Second}
		a, _ := sup.Heartbeat("a"), sup.Heartbeat("b")
		time.Sleep(2 * time.Second)
		a.Beat()
		if got := strings.Join(sup.stale(time.Now()), ","); got != "b" {
			t.Errorf("stale = %q, want b", got)
		}
	})
}
