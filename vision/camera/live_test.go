package camera

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"gocv.io/x/gocv"
)

// fakeGrabber delivers the frames sent on frames (a grey level each) and
// fails when it is closed or a value below 0 arrives.
type fakeGrabber struct {
	frames chan int
	closed bool
}

func (f *fakeGrabber) Grab(m *gocv.Mat) bool {
	v, ok := <-f.frames
	if !ok || v < 0 {
		return false
	}
	f2 := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(float64(v), 0, 0, 0), 4, 4, gocv.MatTypeCV8UC1)
	defer f2.Close()
	f2.CopyTo(m)
	return true
}

func (f *fakeGrabber) Close() error { f.closed = true; return nil }

// fakeSource counts opens; each open hands out a new grabber fed by frames,
// or fails while failOpen is set.
type fakeSource struct {
	mu       sync.Mutex
	frames   chan int
	opens    int
	failOpen bool
}

func (s *fakeSource) open() (Grabber, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opens++
	if s.failOpen {
		return nil, errors.New("no such device")
	}
	return &fakeGrabber{frames: s.frames}, nil
}

func (s *fakeSource) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opens
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func level(m gocv.Mat) int { return int(m.GetUCharAt(0, 0)) }

func TestLiveKeepsLatestFrame(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &fakeSource{frames: make(chan int)}
		l, err := NewLive(LiveOpts{Name: "fake", Open: src.open, StallTimeout: time.Second, Log: quiet()})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		defer close(src.frames) // ends the blocked grab before Close waits
		l.Start(t.Context())
		for v := 1; v <= 3; v++ {
			src.frames <- v
		}
		synctest.Wait()
		m := gocv.NewMat()
		defer m.Close()
		if err := l.Read(t.Context(), &m); err != nil {
			t.Fatal(err)
		}
		if level(m) != 3 {
			t.Errorf("read frame %d, want the latest, 3", level(m))
		}
		if l.Frames() != 3 {
			t.Errorf("captured %d frames, want 3", l.Frames())
		}
	})
}

func TestLiveStallAndReopen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &fakeSource{frames: make(chan int)}
		l, _ := NewLive(LiveOpts{Name: "fake", Open: src.open, StallTimeout: 2 * time.Second,
			Retry: 100 * time.Millisecond, MaxRetry: time.Second, Log: quiet()})
		defer l.Close()
		defer close(src.frames) // ends the blocked grab before Close waits
		l.Start(t.Context())
		m := gocv.NewMat()
		defer m.Close()
		// Nothing comes: Read reports a stall after the timeout.
		start := time.Now()
		err := l.Read(t.Context(), &m)
		if !errors.Is(err, ErrStalled) || time.Since(start) != 2*time.Second {
			t.Fatalf("Read = %v after %v, want ErrStalled after 2s", err, time.Since(start))
		}
		// The blocked grab returns a frame: the source is reopened first.
		src.frames <- 7
		synctest.Wait()
		time.Sleep(100 * time.Millisecond) // the backoff, in fake time
		synctest.Wait()
		if src.count() != 2 {
			t.Errorf("opened %d times, want 2 (reopen after the stall)", src.count())
		}
		src.frames <- 8
		if err := l.Read(t.Context(), &m); err != nil || level(m) != 8 {
			t.Errorf("after reopen: frame %d, %v", level(m), err)
		}
	})
}

func TestLiveBackoffOnLostCamera(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &fakeSource{frames: make(chan int), failOpen: true}
		l, _ := NewLive(LiveOpts{Name: "fake", Open: src.open, StallTimeout: 10 * time.Second,
			Retry: time.Second, MaxRetry: 4 * time.Second, Log: quiet()})
		defer l.Close()
		defer close(src.frames) // ends the blocked grab before Close waits
		l.Start(t.Context())
		m := gocv.NewMat()
		defer m.Close()
		err := l.Read(t.Context(), &m)
		if !errors.Is(err, ErrStalled) {
			t.Fatalf("Read = %v, want ErrStalled", err)
		}
		if want := "no such device"; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
		// Opens at 0, 1, 3, 7 s (waits 1, 2, 4), then every 4 s: 0,1,3,7 → 4 opens by 10 s.
		if src.count() != 4 {
			t.Errorf("opened %d times in 10 s, want 4 (backoff 1, 2, 4 s)", src.count())
		}
	})
}

func TestLiveCloseStopsCapture(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &fakeSource{frames: make(chan int)}
		ctx, cancel := context.WithCancel(t.Context())
		l, _ := NewLive(LiveOpts{Name: "fake", Open: src.open, Log: quiet()})
		l.Start(ctx)
		src.frames <- 1
		cancel()
		close(src.frames) // unblocks the grab
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if err := l.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		// A frame was captured but never read: Read after Close must not
		// copy from the freed frame.
		m := gocv.NewMat()
		defer m.Close()
		if err := l.Read(t.Context(), &m); !errors.Is(err, ErrClosed) {
			t.Errorf("Read after Close: %v, want ErrClosed", err)
		}
	})
}
