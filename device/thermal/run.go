package thermal

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// RunOpts configures Run.
type RunOpts struct {
	// Check, when set, is called for each frame that passed Frame.Check
	// (a registration's size check, say); its error counts as a bad read.
	Check func(*Frame) error
	// Health, when set, is told of the sensor's health whenever it changes,
	// and of the first read's: nil, or the error naming the sensor.
	Health func(err error)
	// MinBackoff and MaxBackoff bound the wait after a failed read, doubled
	// on each failure in a row: 100 ms and 5 s when zero.
	MinBackoff, MaxBackoff time.Duration
}

// Run is the thermal camera's loop: it reads s until ctx ends, checks each
// frame once, where it is received (Frame.Check, then o.Check), and hands
// every good frame to sink. The frame is reused for the next read: sink
// copies what it keeps. After a failed read it waits, doubling the wait up
// to o.MaxBackoff, and starts again at o.MinBackoff after a good one. Run
// returns when ctx ends; a NextFrame under way is not interrupted (Halt the
// sensor to end it).
func Run(ctx context.Context, s Sensor, o RunOpts, sink func(*Frame)) {
	if o.MinBackoff <= 0 {
		o.MinBackoff = 100 * time.Millisecond
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(5*time.Second, o.MinBackoff)
	}
	var f Frame
	last := errors.New("not started")
	wait := o.MinBackoff
	for ctx.Err() == nil {
		err := read(s, &f, o.Check)
		if ctx.Err() != nil {
			return
		}
		if (err == nil) != (last == nil) || (err != nil && err.Error() != last.Error()) {
			if o.Health != nil {
				o.Health(err)
			}
		}
		last = err
		if err != nil {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			wait = min(2*wait, o.MaxBackoff)
			continue
		}
		wait = o.MinBackoff
		sink(&f)
	}
}

// read reads and checks one frame; the error names the sensor.
func read(s Sensor, f *Frame, check func(*Frame) error) error {
	err := s.NextFrame(f)
	if err == nil {
		err = f.Check()
	}
	if err == nil && check != nil {
		err = check(f)
	}
	if err != nil {
		return fmt.Errorf("thermal %s: %w", s, err)
	}
	return nil
}
