package thermal_test

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gateguard/gateguard/device/thermal"
)

// step is one scripted read of fakeSensor: an error, or a w×h frame of c °C
// (one pixel set to bad when bad is not zero).
type step struct {
	err  error
	w, h int
	c    float32
	bad  float32
}

// fakeSensor plays a script of reads, noting when each happened on the
// test's clock, and cancels the run when the script is over.
type fakeSensor struct {
	script []step
	cancel context.CancelFunc
	reads  []time.Time
}

func (s *fakeSensor) NextFrame(f *thermal.Frame) error {
	s.reads = append(s.reads, time.Now())
	if len(s.reads) > len(s.script) {
		s.cancel()
		return errors.New("script over")
	}
	st := s.script[len(s.reads)-1]
	if st.err != nil {
		return st.err
	}
	f.Resize(st.w, st.h)
	for i := range f.C {
		f.C[i] = st.c
	}
	if st.bad != 0 {
		f.C[0] = st.bad
	}
	f.Seq = uint64(len(s.reads))
	return nil
}
func (s *fakeSensor) Size() image.Point { return image.Pt(4, 3) }
func (s *fakeSensor) Halt() error       { return nil }
func (s *fakeSensor) String() string    { return "Fake{}" }

func TestRun(t *testing.T) {
	good := step{w: 4, h: 3, c: 30}
	busErr := errors.New("i2c: nack")
	tests := []struct {
		name   string
		script []step
		check  func(*thermal.Frame) error
		sunk   []uint64 // frames handed on, by read number
		health []string // health reports, "" for good
		gaps   []time.Duration
	}{
		{"good frames pass, health reported once", []step{good, good, good}, nil,
			[]uint64{1, 2, 3}, []string{""}, []time.Duration{0, 0, 0, 0}},
		{"a failing sensor backs off, doubling to the cap, reports once per change",
			[]step{{err: busErr}, {err: busErr}, {err: busErr}, {err: busErr}, {err: busErr}, {err: busErr}, {err: busErr}, good, {err: busErr}, good},
			nil, []uint64{8, 10},
			[]string{"thermal Fake{}: i2c: nack", "", "thermal Fake{}: i2c: nack", ""},
			[]time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond,
				1600 * time.Millisecond, 3200 * time.Millisecond, 5 * time.Second, 0, 100 * time.Millisecond, 0}},
		// The frame checks, done once here (they were in the gate loop, the
		// controller and the meter).
		{"a NaN pixel is a bad frame", []step{{w: 4, h: 3, c: 30, bad: float32(math.NaN())}, good}, nil,
			[]uint64{2}, []string{"thermal Fake{}: thermal: bad frame: pixel (0,0) reads NaN °C", ""}, nil},
		{"a pixel over 300 °C is a bad frame", []step{{w: 4, h: 3, c: 30, bad: 301}}, nil,
			nil, []string{"thermal Fake{}: thermal: bad frame: pixel (0,0) reads 301 °C"}, nil},
		{"an empty frame is a bad frame", []step{{w: 0, h: 0}}, nil,
			nil, []string{"thermal Fake{}: thermal: bad frame: size 0x0 with 0 pixels"}, nil},
		{"the caller's check (a registration of another size)", []step{{w: 8, h: 6, c: 30}, good},
			func(f *thermal.Frame) error {
				if f.W != 4 {
					return fmt.Errorf("frame is %dx%d: %w", f.W, f.H, thermal.ErrUnavailable)
				}
				return nil
			}, []uint64{2}, []string{"thermal Fake{}: frame is 8x6: thermal: screening unavailable", ""}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				s := &fakeSensor{script: tt.script, cancel: cancel}
				var sunk []uint64
				var health []string
				o := thermal.RunOpts{Check: tt.check, Health: func(err error) {
					if err == nil {
						health = append(health, "")
					} else {
						health = append(health, err.Error())
					}
				}}
				thermal.Run(ctx, s, o, func(f *thermal.Frame) { sunk = append(sunk, f.Seq) })
				if fmt.Sprint(sunk) != fmt.Sprint(tt.sunk) {
					t.Errorf("frames handed on %v, want %v", sunk, tt.sunk)
				}
				if strings.Join(health, "|") != strings.Join(tt.health, "|") {
					t.Errorf("health %q, want %q", health, tt.health)
				}
				if tt.gaps != nil {
					var gaps []time.Duration
					for i, r := range s.reads {
						if i == 0 {
							gaps = append(gaps, 0)
							continue
						}
						gaps = append(gaps, r.Sub(s.reads[i-1]))
					}
					if fmt.Sprint(gaps) != fmt.Sprint(tt.gaps) {
						t.Errorf("waits before each read %v, want %v", gaps, tt.gaps)
					}
				}
			})
		})
	}
}

// TestRunStopsOnCancel: cancelled during a backoff wait, Run returns without
// another read.
func TestRunStopsOnCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		s := &fakeSensor{script: []step{{err: errors.New("down")}, {err: errors.New("down")}}, cancel: cancel}
		done := make(chan struct{})
		go func() {
			defer close(done)
			thermal.Run(ctx, s, thermal.RunOpts{MinBackoff: time.Minute}, func(*thermal.Frame) {})
		}()
		synctest.Wait() // Run is waiting out its first backoff
		cancel()
		<-done
		if len(s.reads) != 1 {
			t.Errorf("%d reads, want 1", len(s.reads))
		}
	})
}
