package camera

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"gocv.io/x/gocv"
)

// ErrStalled is returned by Live.Read when no frame arrived within the stall
// timeout.
var ErrStalled = errors.New("camera: stalled")

// ErrClosed is returned by Live.Read after Close.
var ErrClosed = errors.New("camera: closed")

// Grabber is an open frame source: a VideoCapture (see Open) or a fake.
type Grabber interface {
	// Grab reads the next frame into m; false when the source failed or ended.
	Grab(m *gocv.Mat) bool
	Close() error
}

// LiveOpts configures a Live camera.
type LiveOpts struct {
	// Name names the source in errors and logs.
	Name string
	// Open opens the source; it is called again to reopen after a failure.
	Open func() (Grabber, error)
	// StallTimeout is how long Read waits for a frame before it reports the
	// camera stalled.
	StallTimeout time.Duration
	// Retry is the first wait before reopening a failed source; it doubles up
	// to MaxRetry while reopening keeps failing.
	Retry, MaxRetry time.Duration
	// Log receives reopen attempts; nil means slog.Default().
	Log *slog.Logger
}

// Live runs a capture goroutine that keeps only the latest frame, so a slow
// consumer never works on stale frames queued in the driver. A failed or
// ended source is closed and reopened with exponential backoff; a source that
// delivers nothing for StallTimeout makes Read return ErrStalled (and, once
// the source's blocked read returns, it is reopened). Start it with Start;
// Close stops it and waits for the goroutine.
type Live struct {
	o LiveOpts

	mu      sync.Mutex // guards the fields below
	frame   gocv.Mat   // the latest frame, owned by Live
	seq     uint64     // frames captured so far
	readSeq uint64     // seq of the frame Read returned last
	lastErr error      // why the source is down; nil while frames flow
	stalled bool       // Read saw a stall: reopen after the next read
	newF    chan struct{}
	cancel  context.CancelFunc
	done    chan struct{}
	closed  bool
}

// NewLive returns a camera that is not yet capturing.
func NewLive(o LiveOpts) (*Live, error) {
	if o.Open == nil {
		return nil, errors.New("camera: LiveOpts.Open is nil")
	}
	if o.StallTimeout <= 0 {
		o.StallTimeout = 3 * time.Second
	}
	if o.Retry <= 0 {
		o.Retry = 100 * time.Millisecond
	}
	o.MaxRetry = max(o.MaxRetry, o.Retry)
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Live{o: o, frame: gocv.NewMat(), newF: make(chan struct{})}, nil
}

// String names the source.
func (l *Live) String() string { return l.o.Name }

// Start starts the capture goroutine; it runs until ctx ends or Close.
func (l *Live) Start(ctx context.Context) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done != nil || l.closed {
		return
	}
	ctx, l.cancel = context.WithCancel(ctx)
	l.done = make(chan struct{})
	go func() {
		defer close(l.done)
		l.capture(ctx)
	}()
}

// Read waits for a frame newer than the last one read and copies it into m.
// It returns ErrStalled (with the source's last error, if any) when none
// comes within the stall timeout.
func (l *Live) Read(ctx context.Context, m *gocv.Mat) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrClosed, l.o.Name)
	}
	if l.seq > l.readSeq {
		l.readSeq = l.seq
		l.frame.CopyTo(m)
		l.mu.Unlock()
		return nil
	}
	ch := l.newF
	l.mu.Unlock()
	t := time.NewTimer(l.o.StallTimeout)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-ch:
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.closed {
			return fmt.Errorf("%w: %s", ErrClosed, l.o.Name)
		}
		l.readSeq = l.seq
		l.frame.CopyTo(m)
		return nil
	case <-t.C:
		l.mu.Lock()
		defer l.mu.Unlock()
		l.stalled = true
		if l.lastErr != nil {
			return fmt.Errorf("%w: no frame for %v: %w", ErrStalled, l.o.StallTimeout, l.lastErr)
		}
		return fmt.Errorf("%w: no frame for %v", ErrStalled, l.o.StallTimeout)
	}
}

// Close stops the capture goroutine, waits for it and frees the frame. It is
// idempotent.
func (l *Live) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	cancel, done := l.cancel, l.done
	l.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.frame.Close()
}

// capture opens the source and reads it until ctx ends, reopening with
// backoff after every failure.
func (l *Live) capture(ctx context.Context) {
	buf := gocv.NewMat()
	defer buf.Close()
	wait := l.o.Retry
	for ctx.Err() == nil {
		g, err := l.o.Open()
		if err == nil {
			err = l.readAll(ctx, g, &buf)
			if cerr := g.Close(); cerr != nil {
				l.o.Log.Warn("camera close failed", "camera", l.o.Name, "err", cerr)
			}
		}
		if ctx.Err() != nil {
			return
		}
		l.setErr(err)
		if errors.Is(err, errFlowed) {
			wait = l.o.Retry
		}
		l.o.Log.Warn("camera down; reopening", "camera", l.o.Name, "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, l.o.MaxRetry)
	}
}

// errFlowed marks a source that delivered frames before it failed: the
// backoff starts again from Retry.
var errFlowed = errors.New("camera: source failed or ended")

// readAll reads frames from g until it fails, ctx ends, or Read reported a
// stall.
func (l *Live) readAll(ctx context.Context, g Grabber, buf *gocv.Mat) error {
	flowed := false
	for ctx.Err() == nil {
		if !g.Grab(buf) || buf.Empty() {
			if flowed {
				return errFlowed
			}
			return errors.New("camera: source gave no frame")
		}
		l.mu.Lock()
		if l.stalled {
			// Frames that come after a stall go through a reopened source,
			// which clears the driver's queue.
			l.stalled = false
			l.mu.Unlock()
			return fmt.Errorf("%w after a stall", errFlowed)
		}
		flowed = true
		l.frame, *buf = *buf, l.frame
		l.seq++
		l.lastErr = nil
		close(l.newF)
		l.newF = make(chan struct{})
		l.mu.Unlock()
	}
	return ctx.Err()
}

func (l *Live) setErr(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lastErr = err
}

// Frames returns how many frames were captured.
func (l *Live) Frames() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.seq
}
