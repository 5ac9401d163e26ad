package input

import (
	"context"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/gateguard/gateguard/device/sim"
)

// watch runs Watch in the bubble and returns the reported changes so far.
func watch(t *testing.T, d *Dev) (changes func() []bool, stop func()) {
	var got []bool
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Watch(ctx, func(a bool) { got = append(got, a) })
	}()
	return func() []bool { synctest.Wait(); return slices.Clone(got) },
		func() { cancel(); <-done }
}

func TestDebounce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := sim.NewPin("GPIO27", 27, gpio.High)
		d, err := New(p, &Opts{ActiveLow: true, Pull: gpio.PullUp, Debounce: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		changes, stop := watch(t, d)
		defer stop()
		time.Sleep(30 * time.Millisecond) // fake clock: the initial state settles
		if got := changes(); !slices.Equal(got, []bool{false}) {
			t.Fatalf("initial: %v", got)
		}
		// A 10 ms bounce is ignored.
		p.Set(gpio.Low)
		time.Sleep(10 * time.Millisecond)
		p.Set(gpio.High)
		time.Sleep(40 * time.Millisecond)
		if got := changes(); !slices.Equal(got, []bool{false}) {
			t.Fatalf("bounce reported: %v", got)
		}
		// A press held past the debounce time counts once.
		p.Set(gpio.Low)
		time.Sleep(100 * time.Millisecond)
		p.Set(gpio.High)
		time.Sleep(100 * time.Millisecond)
		if got := changes(); !slices.Equal(got, []bool{false, true, false}) {
			t.Fatalf("press: %v", got)
		}
	})
}

func TestNormallyClosedLoop(t *testing.T) {
	tests := []struct {
		name   string
		level  gpio.Level
		active bool
	}{
		{"closed loop is quiet", gpio.Low, false},
		{"open loop (alarm or cut wire) is active", gpio.High, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := sim.NewPin("GPIO23", 23, tt.level)
			d, err := New(p, &Opts{ActiveLow: true, Pull: gpio.PullUp, Debounce: 50 * time.Millisecond, NormallyClosed: true})
			if err != nil {
				t.Fatal(err)
			}
			p.Set(tt.level) // In applied the pull-up
			if d.Active() != tt.active {
				t.Errorf("Active() = %v", d.Active())
			}
		})
	}
}

func TestNewRejectsZeroDebounce(t *testing.T) {
	if _, err := New(sim.NewPin("GPIO5", 5, gpio.Low), &Opts{}); err == nil {
		t.Fatal("accepted zero debounce")
	}
}
